"""Units the model counts time and money in, so no conversion hides as a bare number."""

from __future__ import annotations

# The model's step is a quarter; annual rates and flows are divided by this.
QUARTERS_PER_YEAR = 4

# Rate shifts are written in percentage points; one point is this share of a rate.
PERCENTAGE_POINT = 0.01
