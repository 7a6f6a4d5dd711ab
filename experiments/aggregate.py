"""Aggregate a sweep folder into aggregate.csv and aggregate.md, optionally with a plot.

python -m experiments.aggregate multirun/train/2026-11-24/10-00-00-000000
python -m experiments.aggregate PATH --plot geometry.mean_cos_within_sets --by data.feature_probability
python -m experiments.aggregate PATH --out results/   # when PATH is read-only

Columns are plain dotted names: overrides as their keys, metrics flattened from metrics.json,
per-instance lists averaged over instances (nulls ignored), strings left out; a metric that
shares an override's key is prefixed ``metric.`` (see tms.run.aggregate). Outputs go to --out
(default: the sweep folder), which is created if missing and checked writable before
anything is written.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
from pathlib import Path

from tms.core.artifacts import write_text_atomic
from tms.run.aggregate import collect, to_csv, to_markdown


def _error(field: str, message: str, code: int) -> int:
    print(f"error: {field}: {message}", file=sys.stderr)
    return code


def _missing(value) -> bool:
    """No number to draw: null, missing, or NaN (e.g. the mean of a list of nulls)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def writable_folder(path: Path) -> bool:
    """Whether files can be created in ``path`` (created if missing): probed with a temporary
    file that is removed at once, since permission bits alone miss read-only mounts and root."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".aggregate-probe.", dir=path)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="a sweep folder (Hydra's multirun folder, or any folder of job folders)")
    parser.add_argument("--plot", metavar="METRIC", help="draw this metric (a column of aggregate.csv)")
    parser.add_argument("--by", metavar="PARAM", help="against this swept parameter (an override key)")
    parser.add_argument("--out", metavar="PATH", help="folder for aggregate.csv/.md and the plot (default: PATH)")
    args = parser.parse_args(argv)
    root = Path(args.path)
    out = Path(args.out) if args.out else root
    if not root.is_dir():
        return _error("path", f"{root} is not a folder", 2)
    if bool(args.plot) != bool(args.by):
        return _error("--by" if args.plot else "--plot", "--plot and --by go together", 2)
    agg = collect(root)
    for job, reason in agg.skipped:
        print(f"skipped {job}: {reason}", file=sys.stderr)
    if not agg.rows:
        return _error("path", f"no complete job with a readable metrics.json under {root}", 2)
    if args.plot:
        for name, allowed, field in ((args.plot, agg.metrics, "--plot"), (args.by, agg.params, "--by")):
            if name not in allowed:
                return _error(field, f"unknown column {name!r}; allowed: {', '.join(allowed)}", 2)
        if all(_missing(row.get(args.plot)) for row in agg.rows):
            return _error("--plot", f"column {args.plot!r} is empty (null, NaN or missing) in every job", 2)
    if not writable_folder(out):  # before anything is written
        return _error("--out", f"{out} is not a writable folder (use --out PATH)", 2)
    markdown = to_markdown(agg)
    try:
        write_text_atomic(out / "aggregate.csv", to_csv(agg))
        write_text_atomic(out / "aggregate.md", markdown)
        print(markdown, end="")
        if args.plot:
            from tms.figures.plot_curves import plot_metric_by_param
            from tms.figures.plotting import save_figure

            stem = out / re.sub(r"[^A-Za-z0-9_.-]+", "_", f"aggregate_{args.plot}_by_{args.by}").strip("_")
            save_figure(plot_metric_by_param(agg, args.plot, args.by), stem)
            print(f"plot: {stem}.png")
    except OSError as e:
        return _error("--out", f"cannot write to {out}: {e.strerror or e}", 1)
    print(f"{len(agg.rows)} jobs aggregated, {len(agg.skipped)} skipped -> {out / 'aggregate.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
