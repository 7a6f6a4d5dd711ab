"""Provenance: the artifacts name the checkout's commit, found from where the package lives."""

import subprocess

from tests.conftest import ROOT
from tms.run.provenance import provenance


def test_provenance_names_this_checkouts_commit():
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    record = provenance()
    assert record["git_commit"] == head.stdout.strip()
    assert isinstance(record["git_dirty"], bool)
