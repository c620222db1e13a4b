"""Units the model counts time and money in, so no conversion hides as a bare number."""

from __future__ import annotations

# The model's step is a quarter; annual rates and flows are divided by this.
QUARTERS_PER_YEAR = 4
