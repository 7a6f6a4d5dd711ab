"""Aggregate a sweep folder into aggregate.csv and aggregate.md, optionally with a plot.

python -m experiments.aggregate multirun/train/2026-11-24/10-00-00-000000
python -m experiments.aggregate PATH --plot geometry.mean_cos_within_sets --by data.sparsity
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from tms.aggregate import collect, to_csv, to_markdown
from tms.artifacts import write_text_atomic


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="a sweep folder (Hydra's multirun folder, or any folder of job folders)")
    parser.add_argument("--plot", metavar="METRIC", help="draw this metric (a column of aggregate.csv)")
    parser.add_argument("--by", metavar="PARAM", help="against this swept parameter (an override key)")
    args = parser.parse_args(argv)
    root = Path(args.path)
    if not root.is_dir():
        print(f"error: path: {root} is not a folder", file=sys.stderr)
        return 2
    if bool(args.plot) != bool(args.by):
        print("error: --plot and --by go together", file=sys.stderr)
        return 2
    agg = collect(root)
    for job, reason in agg.skipped:
        print(f"skipped {job}: {reason}", file=sys.stderr)
    if not agg.rows:
        print(f"error: path: no job with a readable metrics.json under {root}", file=sys.stderr)
        return 1
    if args.plot:
        for name, allowed, field in ((args.plot, agg.metrics, "--plot"), (args.by, agg.params, "--by")):
            if name not in allowed:
                print(f"error: {field}: unknown column {name!r}; allowed: {', '.join(allowed)}", file=sys.stderr)
                return 2
    write_text_atomic(root / "aggregate.csv", to_csv(agg))
    write_text_atomic(root / "aggregate.md", to_markdown(agg))
    print(to_markdown(agg), end="")
    if args.plot:
        from tms.plotting import plot_metric_by_param, save_figure

        stem = root / re.sub(r"[^A-Za-z0-9_.-]+", "_", f"aggregate_{args.plot}_by_{args.by}").strip("_")
        save_figure(plot_metric_by_param(agg, args.plot, args.by), stem)
        print(f"plot: {stem}.png")
    print(f"{len(agg.rows)} jobs aggregated, {len(agg.skipped)} skipped -> {root / 'aggregate.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
