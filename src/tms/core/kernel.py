"""Compiled (numba) code: the batch stream's sampler and the fused CPU training loop.

Everything compiled lives in this one file: numba's on-disk cache checks the source file of
a function (its time stamp and size), not the files it calls into. On top of that,
``ensure_fresh_cache`` (called before first use, not at import) deletes the cached machine
code whenever this file's SHA-256 differs from the one it was compiled from, so a stale kernel
is never reused after a code change.

The batches are defined in ``tms.core.streams`` (read that first); ``walk`` below is the same
walk, compiled. ``train_models`` trains every model in its own thread-parallel iteration: a
model's W, b, Adam moments and batches never meet another model's, so results do not depend
on how many models share a run or on the thread count.

The training math per sample x (its active features A with values x_A), with the Gram matrix
G = W^T W: y = b + sum_{a in A} x_a G[a], r = ReLU(y) - x, g = I r [y > 0] (dL/dy up to
2 / B), dL/db = sum g, dL/dW = W (S + S^T) with S = sum_samples x g^T (only rows in A).
All-zero samples have y = b, so their loss and gradient are known in closed form.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
from numba import njit, prange

GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_U11, _U27, _U30, _U31, _U32, _U40 = (np.uint64(k) for k in (11, 27, 30, 31, 32, 40))
_ONE = np.uint64(1)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO_M53 = 2.0**-53
_TWO_M32 = 2.0**-32
_TWO_M24 = np.float32(2.0**-24)
_TWO_PI = 2.0 * math.pi
# Floating-point freedoms for the training math (not the sampler): reassociation lets sums
# vectorise; no assumption about NaN or infinity, so divergence is still seen.
FAST = {"reassoc", "contract", "nsz"}


@njit(inline="always")
def mix(z):
    """SplitMix64's output function (Steele, Lea and Flood 2014; Vigna's splitmix64.c)."""
    z = (z ^ (z >> _U30)) * _M1
    z = (z ^ (z >> _U27)) * _M2
    return z ^ (z >> _U31)


@njit(inline="always")
def stream_state(key, step, stream):
    """The start of stream 0 (presence), 1 (choice) or 2 (values) of one model at 0-based
    ``step``: output 3 step + stream of SplitMix64(key)."""
    return mix(key + (np.uint64(3) * np.uint64(step) + np.uint64(stream) + _ONE) * GAMMA)


@njit(inline="always")
def uniform53(r):
    """A uniform in (0, 1] from the top 53 bits."""
    return (np.float64(r >> _U11) + 1.0) * _TWO_M53


@njit(inline="always")
def value24(r):
    """A float32 uniform in (0, 1] from the top 24 bits."""
    return np.float32((r >> _U40) + _ONE) * _TWO_M24


@njit(inline="always")
def value_of(r, normal):
    """A present feature's value from its value draw r: uniform on (0, 1], or (``normal``)
    0.5 + 0.2 z clipped to [0, 1], z from Box-Muller on r's two 32-bit halves."""
    if normal:
        u1 = (np.float64(r >> _U32) + 1.0) * _TWO_M32
        u2 = np.float64(r & _LOW32) * _TWO_M32
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)
        return np.float32(min(max(0.5 + 0.2 * z, 0.0), 1.0))
    return value24(r)


@njit
def active_slots(presence, thinning, geometric, inv_log_q, threshold, mixed, unit_threshold, slots, flags, out):
    """The active unit slots of a batch, increasing, into ``out``; returns how many.

    Slot s = sample * U + unit, q the model's largest unit rate. Bernoulli (``geometric``
    False): slot s is active iff the top 53 bits of draw s are below ``threshold`` = floor(q
    2^53), or, when ``mixed``, below its unit's ``unit_threshold`` = floor(p_u 2^53).
    Geometric: draw d gives the gap floor(log(u_d) * inv_log_q), inv_log_q = 1 / log(1 - q), of
    slots before the next candidate; when ``mixed``, candidate s is kept iff the top 53 bits of
    ``thinning`` draw s are below unit_threshold = floor(p_u / q 2^53). ``flags`` is scratch of
    ``slots`` bytes.
    """
    count = 0
    U = unit_threshold.shape[0]
    if geometric:
        s = np.int64(-1)
        st = presence
        while True:
            st += GAMMA
            gap = math.floor(math.log(uniform53(mix(st))) * inv_log_q)
            if gap >= slots - s - 1:
                return count
            s += 1 + np.int64(gap)
            if mixed and (mix(thinning + np.uint64(s + 1) * GAMMA) >> _U11) >= unit_threshold[s % U]:
                continue
            out[count] = s
            count += 1
    if mixed:
        for b in range(slots // U):
            for u in range(U):
                s = b * U + u
                flags[s] = (mix(presence + np.uint64(s + 1) * GAMMA) >> _U11) < unit_threshold[u]
    else:
        for s in range(slots):  # vectorised: every slot's draw at once
            flags[s] = (mix(presence + np.uint64(s + 1) * GAMMA) >> _U11) < threshold
    for s in range(slots):  # branch-free compaction
        out[count] = s
        count += flags[s]
    return count


@njit
def draw_batch(
    key, step, geometric, inv_log_q, threshold, mixed, unit_threshold, first, size, share, normal, batch,
    flags, slot, row_sample, start, feats, vals,
):  # fmt: skip
    """One model's batch ``step`` as rows: its K not-all-zero samples, in order. Row k is sample
    row_sample[k]; its entries are feats[start[k]:start[k + 1]] (features, increasing) and
    vals[...] (values, clipped-normal if ``normal``). Returns K.

    ``flags`` (uint8) and ``slot`` (int64) are scratch of batch x units. See tms.core.streams.
    """
    U = first.shape[0]
    n = feats.shape[0] // batch
    values = stream_state(key, step, 2)
    thinning = values + np.uint64(batch * n) * GAMMA  # draws batch n, batch n + 1, ... of values
    active = active_slots(
        stream_state(key, step, 0), thinning, geometric, inv_log_q, threshold, mixed, unit_threshold,
        batch * U, flags, slot,
    )  # fmt: skip
    choice = stream_state(key, step, 1)
    rows = 0
    c = 0
    start[0] = 0
    smp = np.int64(-1)
    inv_u = 1.0 / U
    for j in range(active):
        s = slot[j]
        b = np.int64((s + 0.5) * inv_u)  # s // U, without an integer division
        unit = s - b * U
        if b != smp:
            if smp >= 0:
                rows += 1
                start[rows] = c
            row_sample[rows] = b
            smp = b
        k = share[unit]
        if k > 1:  # anticorrelated set: one of its k features, uniformly
            f = first[unit] + np.int64(((mix(choice + np.uint64(s + 1) * GAMMA) >> _U32) * np.uint64(k)) >> _U32)
            feats[c] = f
            vals[c] = value_of(mix(values + np.uint64(b * n + f + 1) * GAMMA), normal)
            c += 1
        else:
            f0 = first[unit]
            base = values + np.uint64(b * n + f0 + 1) * GAMMA
            for f in range(size[unit]):
                feats[c] = f0 + f
                vals[c] = value_of(mix(base + np.uint64(f) * GAMMA), normal)
                c += 1
    if smp >= 0:
        rows += 1
        start[rows] = c
    return rows


@njit(cache=True, parallel=True)
def sample_entries(
    keys, step, geometric, inv_log_q, threshold, mixed, unit_threshold, first, size, share, normal, batch,
    scratch, sample, feature, value, count,
):  # fmt: skip
    """Batch ``step`` of every model as entry lists (for the torch backend and the tests).

    Model i's count[i, 1] entries, in order, go to sample[i] (index in [0, batch)), feature[i]
    and value[i], when they fit (capacity sample.shape[1]); otherwise call again with room for
    max(count[:, 1]). count[i, 0] is its number of not-all-zero samples. ``scratch`` (I, 11
    batch U + 12 batch n + 16 batch + 8) bytes is reused between calls.
    """
    n = size.sum()
    U = first.shape[0]
    cap = sample.shape[1]
    for i in prange(keys.shape[0]):
        room = scratch[i]
        flags = room[: batch * U]
        at = batch * U + (-(batch * U)) % 8
        slot = room[at : at + 8 * batch * U].view(np.int64)
        at += 8 * batch * U
        row_sample = room[at : at + 8 * batch].view(np.int64)
        at += 8 * batch
        start = room[at : at + 8 * (batch + 1)].view(np.int64)
        at += 8 * (batch + 1)
        feats = room[at : at + 8 * batch * n].view(np.int64)
        at += 8 * batch * n
        vals = room[at : at + 4 * batch * n].view(np.float32)
        K = draw_batch(
            keys[i], step, geometric[i], inv_log_q[i], threshold[i], mixed[i], unit_threshold[i],
            first, size, share, normal, batch, flags, slot, row_sample, start, feats, vals,
        )  # fmt: skip
        E = start[K]
        count[i, 0] = K
        count[i, 1] = E
        if E <= cap:
            for k in range(K):
                for e in range(start[k], start[k + 1]):
                    sample[i, e] = row_sample[k]
                    feature[i, e] = feats[e]
                    value[i, e] = vals[e]


@njit(cache=True, parallel=True)
def scatter_entries(count, sample, feature, value, renumber, width, n, x, index, values):
    """Entry lists (sample_entries) into a batch: entry e of model i goes to x (flat, I width n
    + 1, zero) at row sample[i, e] (or, with ``renumber``, the model's not-all-zero rows 0, 1, ...
    in order) and feature[i, e]; index[i], values[i] (I, E) get its flat position and value,
    padded to E with the scratch position I width n and 0."""
    I, E = index.shape
    scratch = I * width * n
    for i in prange(I):
        row = np.int64(-1)
        last = np.int64(-1)
        for e in range(E):
            if e < count[i, 1]:
                smp = sample[i, e]
                if renumber:
                    if smp != last:
                        row += 1
                        last = smp
                else:
                    row = smp
                at = (i * width + row) * n + feature[i, e]
                x[at] = value[i, e]
                index[i, e] = at
                values[i, e] = value[i, e]
            else:
                index[i, e] = scratch
                values[i, e] = 0.0


# Models with at most this many features take the dense route: the not-all-zero samples as
# columns of an (n, K) matrix, every product vectorised along the samples; wider models go
# sample by sample, touching only each sample's active features (measured: dense is 1.1-1.3x
# faster at n = 4-6, the sample route 1.6x faster at n = 20).
DENSE_MAX_N = 8


@njit(fastmath=FAST)
def gradients(w, bi, importance, batch, K, start, feats, vals, G, S, X, Y, y, g, db, dw):
    """Loss of one model on one batch (its K not-all-zero rows from draw_batch, the rest
    all-zero), with dL/dW into dw (m, n) and dL/db into db (n,). G, S (n, n), y, g (n,) and,
    for n <= DENSE_MAX_N, X, Y (n, batch) (X all zero) are scratch."""
    m, n = w.shape
    zero = np.float32(0.0)
    inv_batch = np.float32(1.0 / batch)
    G[:] = zero  # G = W^T W
    for k in range(m):
        for a in range(n):
            wa = w[k, a]
            for f in range(n):
                G[a, f] += wa * w[k, f]
    loss = zero
    if n <= DENSE_MAX_N:
        for k in range(K):
            for e in range(start[k], start[k + 1]):
                X[feats[e], k] = vals[e]
        for f in range(n):  # Y = (X^T G + b)^T
            bf = bi[f]
            for k in range(K):
                Y[f, k] = bf
            for a in range(n):
                gfa = G[f, a]
                for k in range(K):
                    Y[f, k] += gfa * X[a, k]
        for f in range(n):  # Y becomes g = I r [y > 0]
            imp = importance[f]
            acc = zero
            grad = zero
            for k in range(K):
                yk = Y[f, k]
                r = max(yk, zero) - X[f, k]
                acc += r * r
                gk = imp * r if yk > 0 else zero
                Y[f, k] = gk
                grad += gk
            loss += imp * acc
            db[f] = grad
        for a in range(n):  # S = X g^T
            for f in range(n):
                acc = zero
                for k in range(K):
                    acc += X[a, k] * Y[f, k]
                S[a, f] = acc
        for k in range(K):  # X back to zeros for the next batch
            for e in range(start[k], start[k + 1]):
                X[feats[e], k] = zero
    else:
        S[:] = zero
        db[:] = zero
        for k in range(K):
            lo, hi = start[k], start[k + 1]
            for f in range(n):
                y[f] = bi[f]
            for e in range(lo, hi):
                a = feats[e]
                xa = vals[e]
                for f in range(n):
                    y[f] += xa * G[a, f]
            # Where x = 0, r = ReLU(y): g and loss from y alone; then the active features.
            sample_loss = zero
            for f in range(n):
                yf = max(y[f], zero)
                gf = importance[f] * yf
                g[f] = gf
                sample_loss += gf * yf
            for e in range(lo, hi):
                a = feats[e]
                ya = max(y[a], zero)
                r = ya - vals[e]
                sample_loss += importance[a] * (r * r - ya * ya)
                g[a] = importance[a] * r if y[a] > 0 else zero
            loss += sample_loss
            for f in range(n):
                db[f] += g[f]
            for e in range(lo, hi):
                a = feats[e]
                xa = vals[e]
                for f in range(n):
                    S[a, f] += xa * g[f]
    # The all-zero samples: y = b.
    zeros = np.float32(batch - K)
    zero_loss = zero
    scale = np.float32(2.0) * inv_batch
    for f in range(n):
        rb = max(bi[f], zero)
        zero_loss += importance[f] * rb * rb
        db[f] = (db[f] + zeros * importance[f] * rb) * scale
    for a in range(n):  # S + S^T
        for f in range(a + 1):
            sym = S[a, f] + S[f, a]
            S[a, f] = sym
            S[f, a] = sym
    for k in range(m):  # dW = (2 / B) W (S + S^T)
        for f in range(n):
            dw[k, f] = zero
        for a in range(n):
            wa = w[k, a] * scale
            for f in range(n):
                dw[k, f] += wa * S[a, f]
    return (loss + zeros * zero_loss) * inv_batch


@njit(inline="always")
def adamw(p, grad, m1, m2, keep, lr_m, bc2):
    """One AdamW step on a flat view, in place: the update rule of torch.optim.AdamW."""
    for f in range(p.shape[0]):
        gr = grad[f]
        m1[f] += np.float32(0.1) * (gr - m1[f])
        m2[f] = np.float32(0.999) * m2[f] + np.float32(0.001) * gr * gr
        p[f] = p[f] * keep - lr_m * m1[f] / (math.sqrt(m2[f]) / bc2 + np.float32(1e-8))


@njit(cache=True, parallel=True, fastmath=FAST)
def train_models(
    W, b, mW, vW, mb, vb, keys, geometric, inv_log_q, threshold, mixed, unit_threshold, first, size, share,
    normal, importance, batch, first_step, decay, step_size, bias2, window, snap_steps, snaps, losses, bad_step,
):  # fmt: skip
    """Train every model i in place for steps first_step.. (a chunk of a run): W[i] (m, n), b[i]
    (n,) and their AdamW moments mW, vW, mb, vb (betas 0.9, 0.999, eps 1e-8).

    Chunk step j (run step t = first_step + j, 0-based): decay[j] = 1 - lr_t weight_decay,
    step_size[j] = lr_t / (1 - 0.9^(t+1)), bias2[j] = sqrt(1 - 0.999^(t+1)). Writes the mean
    loss of each window of ``window`` steps (the chunk starts a window; its last may be shorter)
    to losses (windows, I), W after run step snap_steps[k] (1-based) to snaps[k], and the first
    run step (1-based) whose loss is not finite to bad_step[i] (that model stops there).
    """
    I, m, n = W.shape
    U = first.shape[0]
    steps = decay.shape[0]
    wide = batch if n <= DENSE_MAX_N else 0
    for i in prange(I):
        w = W[i]  # (m, n), updated in place, as are its Adam moments
        bi = b[i]  # (n,)
        G = np.empty((n, n), np.float32)
        S = np.empty((n, n), np.float32)
        dw = np.empty((m, n), np.float32)
        db = np.empty(n, np.float32)
        y = np.empty(n, np.float32)
        g = np.empty(n, np.float32)
        X = np.zeros((n, wide), np.float32)
        Y = np.empty((n, wide), np.float32)
        flags = np.empty(batch * U, np.uint8)  # the batch (draw_batch)
        slot = np.empty(batch * U, np.int64)
        row_sample = np.empty(batch, np.int64)
        start = np.empty(batch + 1, np.int64)
        feats = np.empty(batch * n, np.int64)
        vals = np.empty(batch * n, np.float32)
        snap = 0
        window_sum = 0.0
        in_window = 0
        row = 0
        for t in range(steps):
            K = draw_batch(
                keys[i], first_step + t, geometric[i], inv_log_q[i], threshold[i], mixed[i], unit_threshold[i],
                first, size, share, normal, batch, flags, slot, row_sample, start, feats, vals,
            )  # fmt: skip
            loss = gradients(w, bi, importance, batch, K, start, feats, vals, G, S, X, Y, y, g, db, dw)
            if not math.isfinite(loss):
                bad_step[i] = first_step + t + 1
                break
            keep, lr_m, bc2 = np.float32(decay[t]), np.float32(step_size[t]), np.float32(bias2[t])
            adamw(w.reshape(-1), dw.reshape(-1), mW[i].reshape(-1), vW[i].reshape(-1), keep, lr_m, bc2)
            adamw(bi, db, mb[i], vb[i], keep, lr_m, bc2)
            window_sum += loss
            in_window += 1
            if in_window == window or t + 1 == steps:
                losses[row, i] = window_sum / in_window
                row += 1
                window_sum = 0.0
                in_window = 0
            if snap < snap_steps.shape[0] and snap_steps[snap] == first_step + t + 1:
                snaps[snap, i] = w
                snap += 1


@njit(cache=True, parallel=True)
def batch_gradients(
    W, b, keys, step, geometric, inv_log_q, threshold, mixed, unit_threshold, first, size, share, normal,
    importance, batch, out,
):  # fmt: skip
    """Loss (I,) of every model on its batch ``step``, and dL/dW, dL/db into out (I, m n + n),
    exactly as train_models computes them (for the tests against autograd)."""
    I, m, n = W.shape
    U = first.shape[0]
    wide = batch if n <= DENSE_MAX_N else 0
    loss = np.empty(I, np.float32)
    for i in prange(I):
        G, S = np.empty((n, n), np.float32), np.empty((n, n), np.float32)
        dw, db = np.empty((m, n), np.float32), np.empty(n, np.float32)
        y, g = np.empty(n, np.float32), np.empty(n, np.float32)
        X, Y = np.zeros((n, wide), np.float32), np.empty((n, wide), np.float32)
        start = np.empty(batch + 1, np.int64)
        feats, vals = np.empty(batch * n, np.int64), np.empty(batch * n, np.float32)
        K = draw_batch(
            keys[i], step, geometric[i], inv_log_q[i], threshold[i], mixed[i], unit_threshold[i], first, size, share,
            normal, batch, np.empty(batch * U, np.uint8), np.empty(batch * U, np.int64), np.empty(batch, np.int64),
            start, feats, vals,
        )  # fmt: skip
        loss[i] = gradients(W[i], b[i], importance, batch, K, start, feats, vals, G, S, X, Y, y, g, db, dw)
        out[i, : m * n] = dw.reshape(-1)
        out[i, m * n :] = db
    return loss


COMPILED = (sample_entries, scatter_entries, train_models, batch_gradients)


def _drop_stale_cache() -> None:
    """Delete cached machine code of this module compiled from other source than this file's."""
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    for function in COMPILED:
        try:
            folder = Path(function._cache._cache_path)
            stamp = folder / f"{Path(__file__).stem}.{function.__name__}.sha256"
            if stamp.exists() and stamp.read_text() == digest:
                continue
            for old in folder.glob(f"{Path(__file__).stem}.{function.__name__}-*.nb[ic]"):
                old.unlink(missing_ok=True)
            stamp.write_text(digest)
        except (AttributeError, OSError):  # no cache (unwritable, or numba changed): compile afresh
            continue


_fresh = False


def use_threads(threads: int) -> None:
    """Run the parallel loops on ``threads`` threads (at most numba's pool): the trainer passes
    torch's count, so one setting governs both backends."""
    import numba

    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))


def ensure_fresh_cache() -> None:
    """Once per process, before the first compiled call: ``_drop_stale_cache``, then, where numba's
    cache lacks machine code for this source, ``_compile_elsewhere``, so this process loads it."""
    global _fresh
    if not _fresh:
        _drop_stale_cache()
        failure = _compile_elsewhere() if _missing_machine_code() and not os.environ.get(WARMING) else None
        if failure:
            warnings.warn(
                f"numba could not compile the training kernel into its cache in a subprocess ({failure}); "
                "compiling it here, where n <= 8 models round differently in the last bits from runs that "
                "load the cache",
                stacklevel=2,
            )
        _fresh = True


# Machine code that numba compiles in this process and the same code loaded back from its cache
# round differently where fastmath reductions are involved (the n <= 8 route of ``gradients``: about
# 1e-7 in W after 300 steps, more over 10,000): the in-process JIT and the cached object code are
# generated apart. So the first process to need the kernel compiles it in a subprocess, and every
# process, the first included, trains with the cached code: results do not depend on which process
# happened to compile.
WARMING = "TMS_KERNEL_WARMING"  # set in that subprocess, which must compile in-process


def _missing_machine_code() -> bool:
    """Whether numba's cache lacks the code of some compiled function (never compiled, or dropped)."""
    for function in COMPILED:
        try:
            folder = Path(function._cache._cache_path)
        except AttributeError:  # no cache: nothing a subprocess could leave for this one
            return False
        if not any(folder.glob(f"{Path(__file__).stem}.{function.__name__}-*.nbi")):
            return True
    return False


def _compile_elsewhere() -> str | None:
    """Compile every function into numba's cache in a subprocess (``_warm``); None if it did,
    else what went wrong."""
    env = {**os.environ, WARMING: "1", "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    code = "from tms.core.kernel import _warm; _warm()"
    try:
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as e:
        return f"{type(e).__name__}: {e}"
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    return "the cache is still empty (not writable?)" if _missing_machine_code() else None


def _warm() -> None:
    """Call every compiled function once, with the argument types the package calls it with."""
    from tms.core.config import DataConfig, FeatureSet, ModelConfig, RunConfig, TrainConfig
    from tms.core.features import FeatureSampler
    from tms.core.streams import model_keys, slot_parameters
    from tms.core.structure import FeatureStructure
    from tms.core.train import train

    sets = [FeatureSet("correlated", 2, 2)]
    tiny = TrainConfig(steps=1, batch=8, backend="fused", progress=False)
    train(RunConfig(data=DataConfig(sets=sets), model=ModelConfig(m=2), train=tiny, n_instances=1))
    structure = FeatureStructure.from_sets(sets)
    sampler = FeatureSampler(structure, [0.5], model_keys([0]))
    sampler.sample_sparse(8)
    sampler.sample_dense(8)
    W, b = np.zeros((1, 2, 4), np.float32), np.zeros((1, 4), np.float32)
    unit = (structure.unit_first_feature, structure.unit_size, structure.unit_share)
    out = np.empty((1, 12), np.float32)
    batch_gradients(W, b, model_keys([0]), 0, *slot_parameters([0.5]), *unit, False, np.ones(4, np.float32), 8, out)
