"""Random streams of a model run: the macro path, entry, and every firm's own luck.

`rng` (the model's) is the only source of randomness; from it each run derives:

- `macro`: a numpy Generator for the quarter's systematic factors;
- `entry`: a counter-based Philox stream of which quarter q reads block q (see
  `Streams.entry_in`), so the k-th entrant of a quarter is the same firm in every strategy;
- `firms`: counter-based per-firm draws. Every per-firm uniform is a stateless hash of
  (run key, firm's stream id, quarter, mechanism), so a firm's luck in a quarter depends on
  nothing else: not its row, not compaction, not which other firms exist. Strategies of
  one replication share the run key, so the same firm meets the same luck in each
  (common random numbers that survive diverging populations).

A firm's stream id is fixed when it enters: its entry quarter × 2**24 plus its order
among that quarter's entrants (the initial firms are entry quarter 0). It names the same
firm in every strategy even when strategies admit different numbers of firms (ids do not).

The hash is SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014): the (key, quarter, mechanism) words are mixed into a base, and
firm s draws mix(base + s·γ), the s-th output of a SplitMix64 sequence that starts at the
base; its 53 high bits give a uniform in (0, 1). SplitMix64 sequences pass BigCrush, and
bases are 64-bit hashes, so two mechanisms' sequences overlap with negligible probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numba import njit
from scipy.special import ndtri

# SplitMix64 constants: the golden-ratio increment γ and the two multipliers of the mix.
GAMMA = 0x9E3779B97F4A7C15
MIX_1 = 0xBF58476D1CE4E5B9
MIX_2 = 0x94D049BB133111EB
# A firm's stream id: entry quarter × 2**24 + order of entry (up to 16.7 million a quarter).
ENTRANT_BITS = 24


class Mechanism(IntEnum):
    """What a per-firm draw is for; each has its own stream in every quarter."""

    LOAN_DEMAND = 1  # whether a firm without a loan seeks one (banks/lending.applications)
    OPENING_TERM = 2  # how far the opening book's loans have amortised (model)
    EQUITY_DEMAND = 3  # whether a firm seeks an equity round (enterprises/equity)
    EQUITY_VIEW = 4  # the investors' view error on quality (normal)
    EQUITY_SIZE = 5  # the round size's log-normal noise (normal)
    DEFAULT = 6  # idiosyncratic default draw (credit engine)
    TRANSITION = 7  # competing risks: graduation, relocation, acquisition (lifecycle)
    REVENUE = 8  # revenue shock (lifecycle)
    BOND_ISSUE = 9  # whether a pre-IPO or listed firm issues a bond (fees)
    MNA_IN_PARK = 10  # whether an acquired firm's buyer is a chain leader in the park
    MNA_PICK = 11  # which chain leader buys it


_GAMMA = np.uint64(GAMMA)
_MIX_1 = np.uint64(MIX_1)
_MIX_2 = np.uint64(MIX_2)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_UNIT = 2.0**-53


@njit(cache=True)
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64's finaliser (arithmetic modulo 2**64)."""
    z = (z ^ (z >> _S30)) * _MIX_1
    z = (z ^ (z >> _S27)) * _MIX_2
    return z ^ (z >> _S31)


@njit(cache=True)
def stream_base(key: int, quarter: int, mechanism: int) -> int:
    """The starting point of one mechanism's SplitMix64 sequence in one quarter."""
    keyed = mix64(np.uint64(key)) + np.uint64(quarter) * _GAMMA
    return mix64(mix64(keyed) + np.uint64(mechanism) * _GAMMA)


@njit(cache=True)
def firm_uniform(base: np.uint64, stream_id: np.int64) -> float:
    """The uniform in (0, 1) of firm `stream_id` in the stream starting at `base`: the
    53 high bits of the `stream_id`-th output of SplitMix64 seeded with `base`, centred
    in their interval of width 2**-53."""
    z = mix64(base + np.uint64(stream_id) * _GAMMA)
    return (float(z >> _S11) + 0.5) * _UNIT


@njit(cache=True)
def batch_uniforms(
    bases: np.ndarray, stream_ids: np.ndarray, replication: np.ndarray
) -> np.ndarray:
    """One uniform in (0, 1) per firm of `stream_ids`, for one mechanism and quarter: firm i
    draws from the base of its own replication, `bases[replication[i]]`."""
    out = np.empty(len(stream_ids))
    for i in range(len(stream_ids)):
        out[i] = firm_uniform(bases[replication[i]], stream_ids[i])
    return out


@dataclass(frozen=True)
class FirmStreams:
    """Per-firm draws, keyed by (run key, stream id, quarter, mechanism): of one run, or of
    a batch of replications, one run key each (`keys[r]` is replication r's).

    The draws of a firm of replication r are those it gets in a run of r alone: a batch
    passes each firm's replication (`pop.replication`) and draws from that run's base."""

    keys: tuple[int, ...]

    def __init__(self, keys: int | Sequence[int]) -> None:
        keys = (keys,) if isinstance(keys, int | np.integer) else tuple(keys)
        object.__setattr__(self, "keys", tuple(int(key) for key in keys))

    def base(self, mechanism: Mechanism, quarter: int) -> np.ndarray:
        """Each replication's starting point of `mechanism`'s sequence in `quarter`, as
        uint64 (numba returns a base as a Python int: kernels must get it as a uint64)."""
        return np.array(
            [stream_base(key, quarter, int(mechanism)) for key in self.keys], dtype=np.uint64
        )

    def uniforms(
        self,
        mechanism: Mechanism,
        quarter: int,
        stream_ids: np.ndarray,
        replication: np.ndarray | None = None,
    ) -> np.ndarray:
        """One uniform in (0, 1) per firm: the same for a firm whatever else is drawn.
        `replication` gives each firm's replication (default: all of the first)."""
        ids = np.ascontiguousarray(stream_ids, dtype=np.int64)
        return batch_uniforms(self.base(mechanism, quarter), ids, _replication_of(ids, replication))

    def normals(
        self,
        mechanism: Mechanism,
        quarter: int,
        stream_ids: np.ndarray,
        replication: np.ndarray | None = None,
    ) -> np.ndarray:
        """One standard normal per firm, Φ⁻¹ of its uniform."""
        return ndtri(self.uniforms(mechanism, quarter, stream_ids, replication))

    def seekers(
        self,
        mechanism: Mechanism,
        quarter: int,
        stream_id: np.ndarray,
        stage: np.ndarray,
        chance: np.ndarray,
        rows: np.ndarray | slice,
        engaged: np.ndarray | None = None,
        replication: np.ndarray | None = None,
    ) -> np.ndarray:
        """The rows among `rows` (indices, or a slice of the columns) whose own uniform of
        `mechanism` in `quarter` falls below the chance of their stage, `chance[stage]`:
        the firms that seek a loan or a round. Rows where `engaged` is nonzero (a loan
        status, say) are not among them. `replication` is every row's (a column)."""
        every = isinstance(rows, slice) and rows == slice(None)
        if every:
            index = np.zeros(0, dtype=np.int64)
        elif isinstance(rows, slice):
            index = np.arange(len(stage))[rows]
        else:
            index = np.asarray(rows, np.int64)
        bases = self.base(mechanism, quarter)
        replication = _replication_of(stream_id, replication)
        return _seekers(bases, stream_id, replication, stage, chance, engaged, index, every)


def _replication_of(ids: np.ndarray, replication: np.ndarray | None) -> np.ndarray:
    """Each firm's replication: as given, or the first for all (a single run)."""
    if replication is None:
        return np.zeros(len(ids), dtype=np.intp)
    return replication


@njit(cache=True)
def _seekers(
    bases: np.ndarray,
    stream_id: np.ndarray,
    replication: np.ndarray,
    stage: np.ndarray,
    chance: np.ndarray,
    engaged: np.ndarray | None,
    rows: np.ndarray,
    every: bool,
) -> np.ndarray:
    """The firms (of `rows`, or every row) not `engaged` whose own uniform falls below
    their stage's chance (see `FirmStreams.seekers`). With `engaged` None, numba compiles
    the loop without the test."""
    n = len(stage) if every else len(rows)
    seekers = np.empty(n, dtype=np.int64)
    count = 0
    for k in range(n):
        i = k if every else rows[k]
        # Branch-free: a random test per firm is a mispredicted branch half the time.
        seekers[count] = i
        seeks = firm_uniform(bases[replication[i]], stream_id[i]) < chance[stage[i]]
        if engaged is not None:
            seeks &= engaged[i] == 0
        count += seeks
    return seekers[:count]


def stream_ids_of(quarter: int, count: int) -> np.ndarray:
    """Stream ids of the `count` firms entering in `quarter`, in their order of entry."""
    return (quarter << ENTRANT_BITS) + np.arange(count, dtype=np.int64)


@dataclass(frozen=True)
class Streams:
    """The random streams of one model run (see the module docstring)."""

    macro: np.random.Generator
    entry: np.random.Generator  # counter-based (Philox); see `entry_in`
    firms: FirmStreams

    @classmethod
    def spawn(cls, rng: np.random.Generator) -> Streams:
        macro, entry, firms = (int(s) for s in rng.integers(0, 2**63 - 1, size=3))
        return cls(
            np.random.default_rng(macro),
            np.random.Generator(np.random.Philox(key=entry)),
            FirmStreams(firms),
        )

    def entry_in(self, quarter: int) -> np.random.Generator:
        """The entrants' draws of one quarter: the k-th entrant is the same firm in every
        strategy, whatever came before and however many enter.

        Quarter q reads block q of the entry stream, a Philox stream keyed by the run's
        seed; blocks are 2**128 draws apart, so quarters never overlap. The stream is
        rewound to the block (cheaper than seeding a generator each quarter), so the
        generator returned is valid until the next call.
        """
        bits = self.entry.bit_generator
        state = bits.state
        state["state"]["counter"] = np.array([0, 0, quarter, 0], dtype=np.uint64)
        state.update(buffer_pos=4, has_uint32=0)
        bits.state = state
        return self.entry
