"""Run many training jobs: in this process, a local process pool, or through submitit.

A ``Job`` is one ``RunConfig`` (plus snapshot steps) with a key saying what it is for (any
hashable, sortable value with a ``label``: the figures use ``tms.figures.base.JobKey``). Jobs
with a complete entry in the run cache are not retrained. The rest run longest first:

- ``pool``: ``workers`` single-threaded processes (1 trains in this process). On 2 cores,
  two single-threaded workers beat one process with two threads.
- ``submitit_local`` / ``submitit_slurm``: one submitit job per training job (or shard), as a job array;
  each writes its result into the run cache, which is where the results come back from. A
  failed or lost job leaves no cache entry, so rerunning the same command trains only those.

With ``models_per_job`` > 0, a job of more models is split into shards of at most that many
(models first..stop-1 of its run), trained and cached apart and merged back in order: every
model trains on its own batches (``tms.core.streams``), so the merged result equals the
unsharded one bit for bit.

Results come back in job order whatever order they finished in, so artifacts built from them
are byte-stable. A failed job costs no other job: the console gets one line per failure, and
with ``log_dir`` its full traceback goes to ``<log_dir>/<job label>.log`` (submitit keeps its
own job logs).

A Ctrl-C or SIGTERM ends the pool at once, running jobs included (its workers ignore SIGINT, so
the parent alone decides); the jobs that finished are already in the cache.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import multiprocessing
import multiprocessing.connection
import re
import signal
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import torch

from tms.core.artifacts import write_text_atomic
from tms.core.config import RunConfig, feature_probabilities
from tms.core.errors import TrainingDiverged
from tms.core.structure import FeatureStructure
from tms.core.sweeps import concatenate_results, expected_nonzero
from tms.core.train import train
from tms.run.apps import RunnerConfig
from tms.run.cache import RunCache, cached_train, run_key


@dataclass(frozen=True)
class Job:
    """One training run and what it is for (``key``, e.g. a figure's JobKey)."""

    key: object
    config: RunConfig
    snapshot_steps: tuple = ()
    models: tuple | None = None  # (first, stop): a shard of the run's models; None: all

    @property
    def ident(self) -> tuple:
        """What tells jobs apart: the key and, for a shard, its models."""
        return self.key, self.models

    @property
    def label(self) -> str:
        label = getattr(self.key, "label", str(self.key))
        return label if self.models is None else f"{label} models {self.models[0]}-{self.models[1] - 1}"


def shards(job: Job, models_per_job: int) -> list:
    """The job as shards of at most ``models_per_job`` models (the job itself if it fits or 0);
    a job of some of its run's models (``job.models``) is split within them."""
    first, stop = job.models or (0, job.config.n_instances * len(feature_probabilities(job.config.data)))
    if models_per_job <= 0 or stop - first <= models_per_job:
        return [job]
    return [
        dataclasses.replace(job, models=(lo, min(lo + models_per_job, stop)))
        for lo in range(first, stop, models_per_job)
    ]


class RunnerError(RuntimeError):
    """Some jobs failed; the message lists them. Completed jobs are in the cache."""


def cost(cfg: RunConfig, models=None) -> float:
    """Rough work estimate: models x expected non-zero samples of the densest value x n."""
    structure = FeatureStructure.from_sets(cfg.data.sets)
    values = feature_probabilities(cfg.data)
    rows = max(expected_nonzero(max(values), structure.n_units, cfg.train.batch), 1)
    count = cfg.n_instances * len(values) if models is None else models[1] - models[0]
    return count * rows * structure.n * max(cfg.train.steps, 1)


def _quiet(cfg: RunConfig) -> RunConfig:
    cfg = copy.deepcopy(cfg)
    cfg.train.progress = False
    return cfg


def _init_worker() -> None:
    """A pool worker: single-threaded, and deaf to SIGINT and SIGTERM, so a Ctrl-C to the
    terminal's process group, or a SIGTERM to all of the run's processes (SLURM's scancel, GNU
    timeout's group kill), reaches only the parent, which then kills the pool (``_end_pool``):
    workers dying first would read as failed jobs, not as a stopped run."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked while it was spawned (_sigint_blocked)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    torch.set_num_threads(1)


@contextlib.contextmanager
def _sigint_blocked():
    """Spawn workers with SIGINT blocked: they inherit the mask, so a Ctrl-C while one starts
    (imports take seconds, before _init_worker ignores it) neither kills it with a traceback
    nor is lost in the parent, which gets it once unblocked."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    blocked = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if not blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _end_pool(pool: ProcessPoolExecutor, grace: float = 3.0) -> None:
    """Stop every worker now, running jobs included (SIGKILL: they ignore SIGTERM, and hold
    nothing to save; finished results are already with the parent), and free the pool without
    waiting for them."""
    processes = list((pool._processes or {}).values())
    kill = getattr(pool, "kill_workers", None)  # Python >= 3.14
    if kill is not None:
        kill()
    else:  # older Pythons have no public way: SIGKILL the executor's own {pid: Process}
        for p in processes:
            p.kill()  # a no-op for one already reaped
    # Wait on the sentinels (readable once a process is gone), not join(): the pool's manager
    # thread reaps the same processes.
    sentinels = {p.sentinel: p for p in processes}
    gone = multiprocessing.connection.wait(list(sentinels), timeout=grace)
    for sentinel, p in sentinels.items():
        if sentinel not in gone:
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _train_job(job: Job, label: str = "train"):
    """(result, CPU seconds this process spent training it)."""
    index = None if job.models is None else range(*job.models)
    cpu = time.process_time()
    result = train(job.config, snapshot_steps=job.snapshot_steps, label=label, models=index)
    return result, time.process_time() - cpu


def _train_in_worker(job: Job):
    return _train_job(dataclasses.replace(job, config=_quiet(job.config)))


def _train_into_cache(job: Job, cache_dir: str) -> str:
    """A submitit job: train (or find) the run and leave it in the cache; returns its key."""
    cached_train(_quiet(job.config), RunCache(cache_dir), job.snapshot_steps, models=job.models)
    return run_key(job.config, job.snapshot_steps, job.models)


def run_jobs(
    jobs: list,
    runner: RunnerConfig,
    cache: RunCache | None = None,
    log: Callable = print,
    log_dir=None,
    cpu_seconds: dict | None = None,
) -> dict:
    """{job key: TrainResult} for every job, training only what the cache lacks.

    With ``log_dir``, a pool job that fails with an error other than a divergence leaves its
    traceback in ``<log_dir>/<job label>.log``; a job that now has a result removes its old log.
    With ``cpu_seconds`` (a dict), the pool adds each job's training CPU seconds under its key.
    """
    results, keys, failures = {}, {}, FailureLog(log_dir)
    seconds = cpu_seconds if cpu_seconds is not None else {}
    pieces = [piece for job in jobs for piece in shards(job, runner.models_per_job)]
    for piece in pieces:
        if cache is not None:
            keys[piece.ident] = run_key(piece.config, piece.snapshot_steps, piece.models)
            hit = cache.get(keys[piece.ident], piece.config, piece.snapshot_steps, piece.models)
            if hit is not None:
                results[piece.ident] = hit
    if results:
        log(f"reused {len(results)} of {len(pieces)} training jobs from {cache.root}")
    for piece in pieces:
        if piece.ident in results:
            failures.succeeded(piece)
    todo = sorted((p for p in pieces if p.ident not in results), key=lambda p: -cost(p.config, p.models))
    if todo and runner.kind == "pool":
        _run_pool(todo, runner.workers, cache, keys, results, log, failures, seconds)
    elif todo:
        _run_submitit(todo, runner, cache, keys, results, log)
    merged = {}
    for job in jobs:
        parts = [results[piece.ident] for piece in shards(job, runner.models_per_job)]
        merged[job.key] = concatenate_results(parts)
    return merged


class FailureLog:
    """One line per failed job for the console, its traceback in ``<folder>/<label>.log``."""

    def __init__(self, folder=None):
        self.folder = Path(folder) if folder is not None else None
        self.lines = []

    def _path(self, key) -> Path:
        """<folder>/<job label>.log, the label's runs of other characters than [A-Za-z0-9_.-] as _."""
        label = getattr(key, "label", str(key))
        return self.folder / (re.sub(r"[^\w.-]+", "_", label).strip("_") + ".log")

    def failed(self, job, error: BaseException) -> None:
        line = f"{job.label}: {error}"
        if self.folder is not None and not isinstance(error, TrainingDiverged):  # a divergence is its line
            try:
                path = write_text_atomic(self._path(job), "".join(traceback.format_exception(error)))
                line += f" (traceback in {path})"
            except OSError:
                pass  # the one line still reaches the console
        self.lines.append(line)

    def succeeded(self, key) -> None:
        """A job that now has a result leaves no stale log of an earlier failure."""
        if self.folder is not None:
            self._path(key).unlink(missing_ok=True)


def _run_pool(todo, workers: int, cache, keys, results, log, failures: FailureLog, seconds: dict) -> None:
    start = time.perf_counter()

    def finished(job, outcome, done):
        result, cpu = outcome
        seconds[job.key] = seconds.get(job.key, 0.0) + cpu
        failures.succeeded(job)
        results[job.ident] = result
        if cache is not None:
            cache.put(keys[job.ident], result)
        log(f"[{done}/{len(todo)}] trained {job.label} ({time.perf_counter() - start:.0f}s)")

    # One failed job must not cost the others: report them all at the end.
    if workers <= 1 or len(todo) <= 1:
        for done, job in enumerate(todo, 1):
            try:
                result = _train_job(job, label=job.label)
            except Exception as e:
                failures.failed(job, e)
                continue
            finished(job, result, done)
        _raise_failed(failures.lines, len(todo), cached=cache is not None)
        return
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe once torch has started threads
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker)
    try:
        with _sigint_blocked():  # submit() spawns the workers
            futures = {pool.submit(_train_in_worker, job): job for job in todo}
        order = {future: i for i, future in enumerate(futures)}
        pending, done = set(futures), 0
        while pending:
            # Wake up every second: a signal caught by another thread of this process is only
            # handled (KeyboardInterrupt / Interrupted raised here) once the main thread runs.
            ready, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in sorted(ready, key=order.get):
                done += 1
                try:
                    result = future.result()
                except Exception as e:  # its __cause__ carries the worker's traceback
                    failures.failed(futures[future], e)
                    continue
                finished(futures[future], result, done)
    except BaseException:  # Ctrl-C, SIGTERM: end the running jobs too; the finished ones are cached
        _end_pool(pool)
        raise
    pool.shutdown(wait=True)
    _raise_failed(failures.lines, len(todo), cached=cache is not None)


def _run_submitit(todo, runner: RunnerConfig, cache: RunCache, keys, results, log) -> None:
    import submitit

    folder = Path(cache.root) / "submitit" / "%j"
    cluster = "local" if runner.kind == "submitit_local" else "slurm"
    executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
    params = {
        "timeout_min": runner.timeout_min,
        "cpus_per_task": runner.cpus_per_task,
        "mem_gb": runner.mem_gb,
        "name": "tms-figures",
    }
    if cluster == "slurm":
        params.update(slurm_array_parallelism=runner.array_parallelism)
        if runner.partition:
            params["slurm_partition"] = runner.partition
        if runner.gpus_per_task:
            params["gpus_per_node"] = runner.gpus_per_task
    executor.update_parameters(**params)
    log(f"submitting {len(todo)} training jobs to submitit ({cluster}); logs in {folder.parent}")
    submitted = executor.map_array(
        _train_into_cache,
        todo,
        [str(cache.root)] * len(todo),
    )
    failed = []
    try:
        for done, (job, handle) in enumerate(zip(todo, submitted, strict=True), 1):
            try:
                handle.result()
            except Exception as e:  # submitit re-raises the job's error, or reports a lost job
                failed.append(f"{job.label}: {_last_line(e)} (log: {handle.paths.stderr})")
                continue
            hit = cache.get(keys[job.ident], job.config, job.snapshot_steps, job.models)
            if hit is None:
                failed.append(f"{job.label}: finished but left no complete cache entry")
                continue
            results[job.ident] = hit
            log(f"[{done}/{len(todo)}] trained {job.label} (submitit job {handle.job_id})")
    except BaseException:  # Ctrl-C, SIGTERM: cancel what was submitted (scancel on SLURM)
        for handle in submitted:
            with contextlib.suppress(Exception):
                handle.cancel(check=False)
        raise
    _raise_failed(failed, len(todo), cached=True)


def _raise_failed(failed: list, total: int, cached: bool) -> None:
    if failed:
        then = (
            "the others are cached, so rerunning the same command retrains only these"
            if cached
            else "nothing was cached (cache=false)"
        )
        raise RunnerError(f"{len(failed)} of {total} training jobs failed ({'; '.join(failed)}); {then}")


def _last_line(e: BaseException) -> str:
    """The job's own error in one line: submitit wraps it in a report with the traceback."""
    if isinstance(e, TrainingDiverged):
        return str(e)
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    raised = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception|Diverged|Interrupt)\b.*", ln)]
    if raised:
        return raised[-1].rsplit(".", 1)[-1] if ":" not in raised[-1] else raised[-1].split(": ", 1)[1]
    return lines[-1] if lines else type(e).__name__
