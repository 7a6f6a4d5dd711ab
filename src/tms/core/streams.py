"""Each model's batches: a pure function of the model's own seed and the step.

A model's stream key is a hash of its initialisation seed (``model_key``). Batch ``step``
(0-based) of the model uses three SplitMix64 streams, started at outputs 3 step, 3 step + 1
and 3 step + 2 of SplitMix64(key): *presence*, *choice* and *values*. Draw j of a stream that
starts at z is ``mix(z + (j + 1) GAMMA)``, so every draw is found by its index alone (a
counter-based generator): nothing depends on how many models share a run, their order, the
thread count, the backend or a shard boundary.

The batch has ``batch`` x U unit slots, slot s = sample x U + unit (units: ``tms.core.structure``).

- *Which slots are active* (probability p each, independently). For p >= GEOMETRIC_BELOW:
  slot s is active iff the top 53 bits of presence draw s are below floor(p 2^53). Below it,
  presence draw d gives a gap: with u_d = (top 53 bits + 1) 2^-53 in (0, 1], the next active
  slot comes floor(log(u_d) / log(1 - p)) inactive slots after the previous one (Geometric(p),
  so the same distribution), starting before slot 0.
- *Which feature* an active anticorrelated set of k switches on: choice draw s gives
  floor(top 32 bits x k / 2^32).
- *Values*: present feature f of sample b gets (top 24 bits of value draw b n + f, + 1) 2^-24,
  a float32 in (0, 1]: a present feature is never exactly 0.

``reference_batch`` below is that definition in plain Python; ``tms.core.kernel`` compiles it
(the tests check the two agree bit for bit), and both backends train on the compiled one.
"""

from __future__ import annotations

import math

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


def slot_parameters(p) -> tuple:
    """Per model (p (I,) float64): whether slots are found by geometric skipping, 1 / log(1 - p)
    and the Bernoulli threshold floor(p 2^53), as the kernel takes them."""
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    geometric = p < GEOMETRIC_BELOW
    with np.errstate(divide="ignore"):
        inv_log_q = np.asarray([1.0 / math.log1p(-v) if v < 1 else -0.0 for v in p], dtype=np.float64)
    threshold = np.asarray([math.floor(v * 2.0**53) for v in p], dtype=np.uint64)
    return geometric, inv_log_q, threshold


def reference_batch(key: int, step: int, p: float, structure: FeatureStructure, batch: int) -> np.ndarray:
    """Batch ``step`` of the model with stream ``key`` at feature probability ``p``: (batch, n)
    float32, computed from the definition above one draw at a time (slow; for tests)."""
    U, n = structure.n_units, structure.n
    first, size, share = structure.unit_first_feature, structure.unit_size, structure.unit_share
    presence, choice, values = (stream_start(key, step, k) for k in range(3))
    slots = batch * U
    if p < GEOMETRIC_BELOW:
        active, s, d = [], -1, 0
        while True:
            u = ((draw(presence, d) >> 11) + 1) * 2.0**-53
            d += 1
            gap = math.floor(math.log(u) * (1.0 / math.log1p(-p)))
            if gap >= slots - s - 1:
                break
            s += 1 + gap
            active.append(s)
    else:
        threshold = math.floor(p * 2.0**53)
        active = [s for s in range(slots) if (draw(presence, s) >> 11) < threshold]
    x = np.zeros((batch, n), dtype=np.float32)
    for s in active:
        b, unit = divmod(s, U)
        if share[unit] > 1:
            features = [int(first[unit]) + (((draw(choice, s) >> 32) * int(share[unit])) >> 32)]
        else:
            features = range(int(first[unit]), int(first[unit] + size[unit]))
        for f in features:
            x[b, f] = np.float32((draw(values, b * n + f) >> 40) + 1) * np.float32(2.0**-24)
    return x
