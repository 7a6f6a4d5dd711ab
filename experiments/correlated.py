"""Regenerate the paper's correlated / anticorrelated figures, sweeps and summary.

    python -m experiments.correlated                        # everything into figures/
    python -m experiments.correlated preset=quick out_dir=/tmp/f
    python -m experiments.correlated 'figures=[correlated_pairs]' runner=submitit_slurm runner.partition=cpu

Intentionally short: composition and validation happen here, everything else in the library.
Flow: config -> training jobs planned once (tms.run.make_figures), run through the run cache ->
per figure <name>.npz -> <name>.png/.svg drawn from that npz -> summary.json/.md. Each figure is
one module of tms.figures; tms.figures.FIGURES lists them.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from experiments._cli import (
    CONFIGS,
    check_overrides,
    hydra_output_dir,
    one_line_errors,
    report_failed_jobs,
    stop_on_signals,
)
from tms.figures import summary_markdown
from tms.run.compose import to_dataclass
from tms.run.make_figures import make_figures


@hydra.main(version_base="1.3", config_path=str(CONFIGS), config_name="correlated")
def run(cfg: DictConfig) -> None:
    with one_line_errors():
        summary = make_figures(to_dataclass(cfg), hydra_output_dir())  # plans and checks every job first
        print(f"\n{summary_markdown(summary)}")


def main() -> None:
    with stop_on_signals():  # SIGINT and SIGTERM: end every process of the run, one line, 130 / 143
        check_overrides("correlated")
        run()
        report_failed_jobs()  # a -m sweep finishes its other jobs, then says which failed


if __name__ == "__main__":
    main()
