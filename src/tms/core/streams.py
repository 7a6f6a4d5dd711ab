"""Each model's batches: a pure function of the model's own seed and the step.

A model's stream key is a hash of its initialisation seed (``model_key``). Batch ``step``
(0-based) of the model uses three SplitMix64 streams, started at outputs 3 step, 3 step + 1
and 3 step + 2 of SplitMix64(key): *presence*, *choice* and *values*. Draw j of a stream that
starts at z is ``mix(z + (j + 1) GAMMA)``, so every draw is found by its index alone (a
counter-based generator): nothing depends on how many models share a run, their order, the
thread count, the backend or a shard boundary.

The batch has ``batch`` x U unit slots, slot s = sample x U + unit (units: ``tms.core.structure``).
Unit u is active with probability p_u (the run's p, unless its set carries its own rate); q is
the model's largest p_u.

- *Which slots are active* (probability p_u each, independently). For q >= GEOMETRIC_BELOW:
  slot s is active iff the top 53 bits of presence draw s are below floor(p_u 2^53). Below it,
  presence draw d gives a gap: with u_d = (top 53 bits + 1) 2^-53 in (0, 1], the next
  candidate slot comes floor(log(u_d) / log(1 - q)) slots after the previous one (Geometric(q),
  so the same distribution), starting before slot 0. When every p_u is q, every candidate is
  active; otherwise candidate s is kept iff the top 53 bits of *thinning* draw s (draw
  batch x n + s of the values stream, an index no value uses) are below floor(p_u / q 2^53),
  so it is active with probability q x p_u / q = p_u.
- *Which feature* an active anticorrelated set of k switches on: choice draw s gives
  floor(top 32 bits x k / 2^32).
- *Values*: present feature f of sample b takes value draw r = b n + f. "uniform": (top 24
  bits of r, + 1) 2^-24, a float32 in (0, 1]: a present feature is never exactly 0. "normal":
  Box-Muller on the two halves of r, u1 = (top 32 bits + 1) 2^-32 in (0, 1] and u2 = (low 32
  bits) 2^-32, z = sqrt(-2 log u1) cos(2 pi u2) (float64), value float32(min(max(0.5 + 0.2 z,
  0), 1)); such a present feature is exactly 0 with probability Phi(-2.5) = 0.62%.

``reference_batch`` below is that definition in plain Python; ``tms.core.kernel`` compiles it
(the tests check the two agree bit for bit), and both backends train on the compiled one.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tms.core.structure import FeatureStructure

MASK = 2**64 - 1
GAMMA = 0x9E3779B97F4A7C15
# Below this feature probability, active slots are found by geometric skipping (a log per
# active slot); from it on, one comparison per slot is cheaper (measured crossover ~0.05-0.07).
GEOMETRIC_BELOW = 0.05


def mix(z: int) -> int:
    """SplitMix64's output function (Steele, Lea and Flood 2014; Vigna's splitmix64.c)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def splitmix64(seed: int, count: int) -> list:
    """The first ``count`` outputs of SplitMix64 seeded with ``seed`` (for test vectors)."""
    return [mix((seed + (j + 1) * GAMMA) & MASK) for j in range(count)]


def model_key(seed: int) -> int:
    """A model's 64-bit stream key, from its initialisation seed (``tms.core.seeds``)."""
    hi, lo = np.random.SeedSequence(int(seed), spawn_key=(0xDA7A,)).generate_state(2, np.uint32).tolist()
    return (hi << 32) | lo


def model_keys(seeds) -> np.ndarray:
    """(I,) uint64 stream keys for initialisation seeds (I,)."""
    return np.asarray([model_key(s) for s in np.asarray(seeds).reshape(-1)], dtype=np.uint64)


def stream_start(key: int, step: int, stream: int) -> int:
    """Where stream 0 (presence), 1 (choice) or 2 (values) of batch ``step`` starts."""
    return mix((key + (3 * step + stream + 1) * GAMMA) & MASK)


def draw(start: int, j: int) -> int:
    return mix((start + (j + 1) * GAMMA) & MASK)


class Slots(NamedTuple):
    """How the kernel finds a batch's active slots, per model (see the module doc)."""

    geometric: np.ndarray  # (I,) bool: geometric skipping at q (else one comparison per slot)
    inv_log_q: np.ndarray  # (I,) float64: 1 / log(1 - q)
    threshold: np.ndarray  # (I,) uint64: floor(q 2^53)
    mixed: np.ndarray  # (I,) bool: some unit's rate is below q
    unit_threshold: np.ndarray  # (I, U) uint64: floor(p_u 2^53), or floor(p_u / q 2^53) if geometric


def slot_parameters(rates) -> Slots:
    """The kernel's slot parameters for unit rates (I, U), or (I,) feature probabilities that
    every unit of a model shares."""
    rates = np.asarray(rates, dtype=np.float64)
    rates = rates.reshape(-1, 1) if rates.ndim < 2 else rates
    q = rates.max(1, initial=0.0)  # (I,)
    geometric = q < GEOMETRIC_BELOW
    with np.errstate(divide="ignore"):
        inv_log_q = np.asarray([1.0 / math.log1p(-v) if v < 1 else -0.0 for v in q], dtype=np.float64)
    threshold = np.asarray([math.floor(v * 2.0**53) for v in q], dtype=np.uint64)
    mixed = (rates != q[:, None]).any(1)
    kept = np.where(geometric[:, None], rates / np.where(q > 0, q, 1.0)[:, None], rates)  # (I, U)
    unit_threshold = np.floor(kept * 2.0**53).astype(np.uint64)  # exact: a power-of-2 scale, <= 2^53
    return Slots(geometric, inv_log_q, threshold, mixed, unit_threshold)


def normal_value(r: int) -> np.float32:
    """The "normal" value of value draw r (see the module doc)."""
    u1 = ((r >> 32) + 1) * 2.0**-32
    u2 = (r & 0xFFFFFFFF) * 2.0**-32
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return np.float32(min(max(0.5 + 0.2 * z, 0.0), 1.0))


def uniform_value(r: int) -> np.float32:
    """The "uniform" value of value draw r."""
    return np.float32((r >> 40) + 1) * np.float32(2.0**-24)


def reference_batch(
    key: int, step: int, rate, structure: FeatureStructure, batch: int, values: str = "uniform"
) -> np.ndarray:
    """Batch ``step`` of the model with stream ``key`` whose units are active with probability
    ``rate`` (one number, or (U,) per unit): (batch, n) float32, computed from the definition
    above one draw at a time (slow; for tests)."""
    U, n = structure.n_units, structure.n
    first, size, share = structure.unit_first_feature, structure.unit_size, structure.unit_share
    rate = np.broadcast_to(np.asarray(rate, dtype=np.float64), (U,))
    q = float(rate.max())
    mixed = bool((rate != q).any())
    presence, choice, value_stream = (stream_start(key, step, k) for k in range(3))
    slots = batch * U
    if q < GEOMETRIC_BELOW:
        active, s, d = [], -1, 0
        while True:
            u = ((draw(presence, d) >> 11) + 1) * 2.0**-53
            d += 1
            gap = math.floor(math.log(u) * (1.0 / math.log1p(-q)))
            if gap >= slots - s - 1:
                break
            s += 1 + gap
            keep = math.floor(float(rate[s % U]) / q * 2.0**53)
            if not mixed or (draw(value_stream, batch * n + s) >> 11) < keep:
                active.append(s)
    else:
        thresholds = [math.floor(float(v) * 2.0**53) for v in rate]
        active = [s for s in range(slots) if (draw(presence, s) >> 11) < thresholds[s % U]]
    value_of = normal_value if values == "normal" else uniform_value
    x = np.zeros((batch, n), dtype=np.float32)
    for s in active:
        b, unit = divmod(s, U)
        if share[unit] > 1:
            features = [int(first[unit]) + (((draw(choice, s) >> 32) * int(share[unit])) >> 32)]
        else:
            features = range(int(first[unit]), int(first[unit] + size[unit]))
        for f in features:
            x[b, f] = value_of(draw(value_stream, b * n + f))
    return x
