"""The figures command's work: plan every training job once, train (or reuse) them, then per
figure write <name>.npz, draw <name>.png/.svg from that npz alone and summarise it; then
summary.json, summary.md, timing.json and, last, complete.json vouching for the rest
(``tms.core.completion``; removed before the first write).

Flow: FiguresConfig -> ``plan`` (every field checked, jobs built and checked once) -> runner
(through the run cache) -> npz -> figures and summary drawn from the saved npz.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tms.analysis.robustness import robustness_table
from tms.core import completion
from tms.core.artifacts import load_arrays, write_json_atomic, write_npz_atomic, write_text_atomic
from tms.core.config import validate
from tms.core.errors import ConfigError
from tms.figures import FIGURES, figure, names, summary_markdown
from tms.figures.base import JobKey
from tms.figures.plotting import save_figure
from tms.run.apps import FiguresConfig, validate_app
from tms.run.cache import RunCache
from tms.run.provenance import provenance
from tms.run.runner import Job, run_jobs


def selected(app: FiguresConfig) -> list:
    """The selected figures, in the order asked for (every figure when ``figures`` is null)."""
    return list(FIGURES) if app.figures is None else [figure(name) for name in app.figures]


def figure_jobs(fig, app: FiguresConfig) -> list:
    """Every training job of one figure: each part's runs, then its control's (paired by seed)."""
    jobs = []
    for part in fig.parts(app):
        for group, cfg in enumerate(part.runs()):
            jobs.append(Job(JobKey(fig.name, part.name, False, group), cfg, part.snapshot_steps, part.models))
        if part.control:
            for group, cfg in enumerate(part.runs(control=True)):
                jobs.append(Job(JobKey(fig.name, part.name, True, group), cfg))
    return jobs


def plan(app: FiguresConfig) -> list:
    """Check every field of ``app`` and every run it will train, before anything trains or is
    written; return the jobs (built once, here)."""
    validate_app(app, names())
    figures = selected(app)
    for fig in figures:
        fig.check(app)
    jobs = [job for fig in figures for job in figure_jobs(fig, app)]
    here = app.runner.kind != "submitit_slurm"  # SLURM jobs check their device where they train
    for job in jobs:  # the runs themselves, e.g. their memory
        try:
            validate(job.config, here=here)
        except ConfigError as e:
            raise ConfigError(e.field, f"{e.message} (training job '{job.label}')") from None
    return jobs


def make_figures(app: FiguresConfig, out: Path, log: Callable = print) -> dict:
    """Train (or reuse) every job of the selected figures and write their artifacts to ``out``.

    Returns the summary. Timing goes to timing.json (the one file that differs between runs).
    """
    jobs = plan(app)
    out = Path(out)
    start = time.perf_counter()
    cache = RunCache(app.cache_dir) if app.cache else None
    cpu = {}
    results = run_jobs(jobs, app.runner, cache, log=log, log_dir=out / "failed_jobs", cpu_seconds=cpu)
    trained = time.perf_counter() - start
    origin = provenance()
    summary = {"figures": {}, "provenance": origin}
    figures = selected(app)
    completion.start(out)  # from the first write on, out is not complete until the marker is back
    written = []
    for fig in figures:
        mine = {key: r for key, r in results.items() if key.figure == fig.name}
        arrays = fig.arrays(mine, app)
        arrays["provenance_json"] = np.asarray(json.dumps(origin, sort_keys=True))
        npz = write_npz_atomic(out / f"{fig.name}.npz", arrays)
        saved = load_arrays(npz)  # figures and summaries are drawn from the saved artifact
        entry = summary["figures"][fig.name] = fig.summarize(saved)
        pictures = save_figure(fig.draw(saved, entry, app), out / fig.name)
        for key, picture in fig.companions(saved, entry, app).items():
            pictures += save_figure(picture, out / f"{fig.name}_{key}", formats=("png",))
        written += [npz.name] + [path.name for path in pictures]
    summary["robustness"] = robustness_table(summary["figures"])
    written += [write_json_atomic(out / "summary.json", summary).name]
    written += [write_text_atomic(out / "summary.md", summary_markdown(summary)).name]
    seconds = time.perf_counter() - start
    write_json_atomic(  # timing differs from run to run: written, but not vouched for
        out / "timing.json",
        {
            "seconds_total": round(seconds, 1),
            "seconds_training": round(trained, 1),
            "jobs": len(jobs),
            "jobs_trained": sum(1 for job in jobs if job.key in cpu),
            # CPU seconds spent training each figure's jobs in this run (0 where all came from the cache)
            "training_cpu_seconds": {
                fig.name: round(sum(s for key, s in cpu.items() if key.figure == fig.name), 1) for fig in figures
            },
        },
    )
    completion.finish(out, written, figures=[fig.name for fig in figures])
    log(f"wrote {len(figures)} figures to {out} in {seconds:.0f}s")
    return summary
