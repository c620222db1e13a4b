"""How many replications run together in one batch (parksim.ensemble.runner.simulate_batch).

A batch holds R replications of one strategy in one population, so each quarter's fixed
Python cost is paid once for R runs; its memory is R times one replication's. The batch
size is therefore chosen from the park's size and the memory free on this machine,
shared by the worker slots, and capped (`BATCH_CAP`): past a few dozen replications the
fixed cost is already spread thin and only memory grows.

The estimate of one replication's memory, `replication_bytes`:

- rows: the population is allocated for twice the park's starting enterprises plus
  `parksim.model.BUFFER_HEADROOM_ROWS` (1,024) rows of headroom, the capacity
  `ParkModel` gives it;
- bytes per row: the sum of the itemsizes of `EnterprisePopulation`'s declared columns
  (parksim/core/population.py), the per-bank columns once per bank: at 0.6.0, 52 columns
  of 1-8 bytes, 8 of them per bank, 263 B + 57 B per bank (434 B with three banks);
- `WORKING_FACTOR` times that: the buffers are copied when the park outgrows them (old
  and new alive together), a quarter's kernels and numpy expressions allocate
  temporaries of the same length, and firms that leave are archived, not freed.
  Measured (tracemalloc, one replication to the horizon): the Jinan Qilu park (80,000
  firms, 161,024 rows, 67 MB of buffers) peaked at 115 MB, the baseline (800 firms) at
  2.4 MB for 1.1 MB of buffers: 1.7-2.2 times the buffers, so 4 leaves a margin.

It is an estimate of the order of magnitude, enough to keep a batch from filling the
memory; `--batch-size` (or `batch_size=`) overrides it.
"""

from __future__ import annotations

import operator
import os

from parksim.core.population import EnterprisePopulation
from parksim.model import BUFFER_HEADROOM_ROWS
from parksim.scenario.schema import Scenario

#: Replications per batch at most: past this, the per-quarter fixed cost is spread thin
#: (1/32 of it per run) and a larger batch only costs memory and a longer chunk.
BATCH_CAP = 32
#: Initial firms a batch holds at most (replications × the park's enterprises): 32
#: baseline parks. Past it a larger population only spills out of the processor's caches:
#: the baseline took 17.3 ms a run in batches of 32 and 17.6 in batches of 64, and the
#: Jinan Qilu park (80,000 firms) 728 ms a run alone and 996 in batches of 4 (parksim
#: 0.7.0, this machine), so a park that large runs alone.
BATCH_FIRMS = 32 * 800
#: One replication's memory, as a multiple of its population buffers (see the module
#: docstring): growth copies, a quarter's temporaries and the archive of firms that left.
WORKING_FACTOR = 4
#: Share of the free memory the batches of all worker slots may take together; the rest
#: is left to the parent process (tables, charts) and to the machine's other work.
MEMORY_SHARE = 0.5
#: Free memory assumed where the system does not say (neither /proc/meminfo nor
#: sysconf's SC_AVPHYS_PAGES): 2 GiB, a small laptop's.
FALLBACK_MEMORY_BYTES = 2 * 2**30
MEMINFO = "/proc/meminfo"


def row_bytes(banks: int) -> int:
    """Bytes of one population row with `banks` banks: every declared column's itemsize,
    the per-bank columns once per bank."""
    return sum(
        column.dtype.itemsize * (banks if column.per_bank else 1)
        for column in EnterprisePopulation.columns()
    )


def replication_bytes(scenario: Scenario) -> int:
    """Estimated memory of one replication of `scenario` (module docstring)."""
    rows = 2 * scenario.park.enterprises + BUFFER_HEADROOM_ROWS
    return WORKING_FACTOR * rows * row_bytes(len(scenario.banks))


def available_memory() -> int | None:
    """Bytes of memory available to new work: MemAvailable of /proc/meminfo (Linux: free
    memory plus the caches the kernel can drop), else the free pages sysconf reports,
    else None."""
    try:
        with open(MEMINFO, encoding="ascii") as meminfo:
            for line in meminfo:
                name, _, value = line.partition(":")
                if name == "MemAvailable":
                    return int(value.split()[0]) * 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def batch_size_for(scenario: Scenario, slots: int = 1, memory: int | None = None) -> int:
    """Replications per batch for `scenario` with `slots` batches running at once: as many
    as `MEMORY_SHARE` of `memory` (default: `available_memory()`) holds, split between
    the slots, and as `BATCH_FIRMS` initial firms make, between 1 and `BATCH_CAP`."""
    if memory is None:
        memory = available_memory() or FALLBACK_MEMORY_BYTES
    per_slot = MEMORY_SHARE * memory / max(1, slots)
    by_memory = int(per_slot // replication_bytes(scenario))
    by_firms = BATCH_FIRMS // max(1, scenario.park.enterprises)
    return max(1, min(BATCH_CAP, by_memory, by_firms))


def checked_batch_size(value: object, option: str = "batch_size") -> int | None:
    """`value` if it is a positive integer (or None: chosen from memory); else ValueError
    naming `option` and what was expected."""
    if value is None:
        return None
    try:
        size = operator.index(value)  # an int, not a float or a string
    except TypeError:
        size = None
    if size is None or isinstance(value, bool) or size < 1:
        raise ValueError(f"{option}: expected a positive integer, got {value!r}")
    return size
