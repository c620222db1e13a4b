"""The bottom layer: codes, the population's columns, sectors, random streams, the metric
schema and the compiled-kernel cache. Nothing here imports from another parksim layer.

Importing any of it first points numba's cache at parksim's folder (`jit`): numba binds a
kernel's cache when the kernel is decorated, and every kernel module imports from here.
"""

from parksim.core import jit as _jit  # noqa: F401
