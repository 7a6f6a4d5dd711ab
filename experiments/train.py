"""Train one configured batch of toy models and save weights, config and metrics.

    python -m experiments.train setup=local_orthogonal_basis
    python -m experiments.train -m data.feature_probability=0.1,0.05,0.01 seed=0,1,2

Artifacts go to Hydra's output folder (``out_dir=PATH`` sets it): weights.npz, config.yaml,
metrics.json, then complete.json, the completion marker with their SHA-256 and those of Hydra's
.hydra/overrides.yaml and config.yaml (tms.core.completion: an in-progress marker from the start
of the job, the complete one written last, so an interrupted run, first or rerun, never looks
complete). A run whose key (config, package
version and training code) is complete in ``cache_dir`` is reused, not retrained.
"""

from __future__ import annotations

import time

import hydra
from omegaconf import DictConfig

from experiments._cli import (
    CONFIGS,
    check_overrides,
    configure_threads,
    hydra_output_dir,
    one_line_errors,
    report_failed_jobs,
    resolved_yaml,
    stop_on_signals,
)
from tms.analysis.run_metrics import run_metrics
from tms.core import completion
from tms.core.artifacts import write_json_atomic, write_text_atomic
from tms.run.cache import RunCache, cached_train, run_key
from tms.run.compose import to_dataclass
from tms.run.provenance import provenance


@hydra.main(version_base="1.3", config_path=str(CONFIGS), config_name="train")
def run(cfg: DictConfig) -> None:
    with one_line_errors():
        app = to_dataclass(cfg)  # checked by check_overrides before Hydra started; train() checks the run
        out = hydra_output_dir()
        completion.start(out)  # Hydra has rewritten .hydra/: until the end, this is a run in progress
        threads = configure_threads(app.threads)
        cache = RunCache(app.cache_dir) if app.cache else None
        start = time.perf_counter()
        result, cached = cached_train(app, cache)
        seconds = time.perf_counter() - start
        metrics = run_metrics(result, app, seconds)
        metrics.update(cached=cached, run_key=run_key(app), torch_threads=threads, provenance=provenance())
        result.save(out / "weights.npz")
        write_text_atomic(out / "config.yaml", resolved_yaml(cfg))
        write_json_atomic(out / "metrics.json", metrics)
        completion.finish(out, ["weights.npz", "config.yaml", "metrics.json", *hydra_record(out)])
        verb = "reused cached" if cached else "trained"
        loss = metrics["final_loss_mean"]
        loss_text = "no steps" if loss is None else f"final loss {loss:.4g}"
        print(f"{verb} {metrics['n_instances']} models in {seconds:.1f}s; {loss_text}; artifacts in {out}")


def hydra_record(out) -> list:
    """The files of Hydra's .hydra/ record that say what ran (aggregate reads the overrides)."""
    return [f".hydra/{name}" for name in ("overrides.yaml", "config.yaml") if (out / ".hydra" / name).is_file()]


def main() -> None:
    with stop_on_signals():  # SIGINT and SIGTERM: end every process of the run, one line, 130 / 143
        check_overrides("train")
        run()
        report_failed_jobs()  # a -m sweep finishes its other jobs, then says which failed


if __name__ == "__main__":
    main()
