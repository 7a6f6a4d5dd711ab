"""Release metadata agrees with itself: package metadata, __version__, CITATION.cff, LICENSE, CHANGELOG."""

import importlib.metadata
import re

import yaml

import tms
from tests.conftest import ROOT

PAPER_URL = "https://transformer-circuits.pub/2022/toy_model/index.html"


def _citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def _pyproject_version() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    return re.search(r'^version\s*=\s*"([^"]+)"', project, flags=re.M).group(1)


def test_citation_cff_has_the_keys_cff_1_2_0_requires():
    cff = _citation()
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title"):
        assert isinstance(cff[key], str) and cff[key].strip(), key
    assert isinstance(cff["authors"], list) and cff["authors"]
    assert all(author.get("name") or author.get("family-names") for author in cff["authors"])


def test_citation_cff_references_the_toy_models_paper():
    papers = [ref for ref in _citation().get("references", []) if ref.get("title") == "Toy Models of Superposition"]
    assert len(papers) == 1
    paper = papers[0]
    assert paper["type"] == "article"
    assert paper["year"] == 2022
    assert paper["url"] == PAPER_URL
    assert paper["journal"] == "Transformer Circuits Thread"
    families = [author["family-names"] for author in paper["authors"]]
    assert families[0] == "Elhage" and families[-1] == "Olah" and len(families) == 16


def test_citation_cff_version_matches_pyproject():
    assert str(_citation()["version"]) == _pyproject_version()


def test_installed_metadata_declares_the_mit_license():
    meta = importlib.metadata.metadata("tms")
    assert "MIT" in (meta.get("License-Expression") or meta.get("License") or "")


def test_installed_metadata_has_a_summary():
    assert (importlib.metadata.metadata("tms").get("Summary") or "").strip()


def test_dunder_version_is_the_installed_version():
    assert tms.__version__ == importlib.metadata.metadata("tms")["Version"]
    assert "__version__" in tms.__all__


def test_installed_version_is_the_pyproject_version():
    """A stale install (pyproject bumped, package not reinstalled) shows up here."""
    assert importlib.metadata.version("tms") == _pyproject_version()


def test_license_file_is_mit():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text


def test_changelog_has_a_section_for_the_installed_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    version = re.escape(importlib.metadata.version("tms"))
    assert re.search(rf"^## \[{version}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text, flags=re.M)
