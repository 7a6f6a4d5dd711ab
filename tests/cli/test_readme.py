"""The README: its example runs, and its results block is the committed summary, verbatim."""

import json
import re

from tests.conftest import ROOT, run_module
from tms.figures import summary_markdown
from tms.figures.report import DETAIL, headline
from tms.run.readme import BEGIN, END, results_block, with_results


def test_readme_notebook_example_runs(monkeypatch, tmp_path):
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, flags=re.S).group(1)
    assert "steps=10_000" in code
    monkeypatch.chdir(tmp_path)  # the library runs from anywhere
    namespace = {}
    exec(compile(code.replace("steps=10_000", "steps=50"), "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["result"].W.shape == (16, 2, 4)
    assert namespace["control"].seed.tolist() == namespace["result"].seed.tolist()


def test_readme_results_block_is_the_committed_summary_headline():
    readme = (ROOT / "README.md").read_text()
    summary = (ROOT / "figures" / "summary.md").read_text()
    assert results_block(readme) == headline(summary)
    assert DETAIL in summary and DETAIL not in results_block(readme)


def test_committed_summary_md_renders_from_summary_json():
    summary = json.loads((ROOT / "figures" / "summary.json").read_text())
    assert summary_markdown(summary) == (ROOT / "figures" / "summary.md").read_text()


def test_results_block_is_replaced_in_place():
    readme = f"intro\n{BEGIN}\nold\n{END}\nrest\n"
    new = with_results(readme, "| new |\n")
    assert results_block(new) == "| new |\n" and new.startswith("intro\n") and new.endswith("rest\n")


def readme_error_examples():
    """(args, expected stderr line) for every `$ python -m experiments.train ...` shown with its error
    in docs/command-line.md (the README links to it)."""
    lines = (ROOT / "docs" / "command-line.md").read_text().splitlines()
    out = []
    for cmd, nxt in zip(lines, lines[1:], strict=False):
        if cmd.startswith("$ python -m experiments.train ") and nxt.startswith("error: "):
            out.append((cmd.split()[4:], nxt))
    return out


def test_readme_error_examples_print_what_the_readme_shows(tmp_path):
    examples = readme_error_examples()
    assert len(examples) >= 3
    for i, (args, expected) in enumerate(examples):
        proc = run_module("experiments.train", *args, f"out_dir={tmp_path / str(i)}", "train.progress=false")
        assert proc.returncode != 0 and proc.stderr.strip().splitlines()[-1] == expected, (args, proc.stderr)
