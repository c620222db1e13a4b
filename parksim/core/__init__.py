"""The bottom layer: codes, the population's columns, sectors, random streams, the metric
schema and the compiled-kernel cache. Nothing here imports from another parksim layer.

Importing any of it first sets up numba's cache of parksim's kernels (`jit`: per kernel
module, keyed by the modules it imports): numba binds a kernel's cache when the kernel is
decorated, and every kernel module imports from here.
"""

from parksim.core import jit as _jit  # noqa: F401
