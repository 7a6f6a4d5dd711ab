"""The README's notebook example runs as written (with fewer steps)."""

import os
import re

import matplotlib.pyplot as plt

from tests.conftest import ROOT


def test_readme_notebook_example_runs(monkeypatch):
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, flags=re.S).group(1)
    assert "steps=10_000" in code
    monkeypatch.chdir(ROOT)  # the example redraws figures/correlated_pairs.npz
    namespace = {}
    exec(compile(code.replace("steps=10_000", "steps=50"), "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["result"].W.shape == (16, 2, 4)
    assert os.path.exists("figures/correlated_pairs.npz")
    plt.close("all")
