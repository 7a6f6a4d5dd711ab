"""The README and the pages under docs/: every relative link resolves, the README stays short, and
it links every page."""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
README_MAX_BYTES = 15_000

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[`~]*[ \t]*$", flags=re.M | re.S)
CODE_SPAN = re.compile(r"(`+).+?\1", flags=re.S)
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^\s)>]*)>?(?:\s+[\"'(][^)]*)?\)")
REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", flags=re.M)
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=[\"']([^\"']*)[\"']", flags=re.I)
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", flags=re.M)
EXTERNAL = ("http://", "https://", "mailto:")


def prose(text: str) -> str:
    """The text outside fenced code blocks and code spans, where Markdown links live."""
    return CODE_SPAN.sub("code", FENCE.sub("", text))


def links(text: str) -> list[str]:
    """Every link and image target of a Markdown text: inline, reference-style and HTML."""
    body = prose(text)
    return [m.group(1) for pattern in (INLINE_LINK, REFERENCE_LINK, HTML_LINK) for m in pattern.finditer(body)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation but hyphens and spaces dropped,
    spaces turned into hyphens (inline code and link targets reduced to their text first)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # [text](url) -> text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a Markdown page's headings; repeated headings get -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    out = set()
    for m in HEADING.finditer(FENCE.sub("", page.read_text())):
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """Every relative link of ``page`` that names no existing file inside ``root``, or an anchor
    that no heading of its Markdown target has."""
    broken = []
    for target in links(page.read_text()):
        if target.lower().startswith(EXTERNAL):
            continue
        path_part, _, anchor = target.partition("#")
        file = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not file.exists() or not file.is_relative_to(root.resolve()):
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and unquote(anchor).lower() not in anchors(file):
            broken.append(f"{target}: no heading with anchor #{anchor} in {file.name}")
    return broken


def linked_files(page: Path) -> set[Path]:
    """The files a page links to (relative links only, anchors dropped)."""
    out = set()
    for target in links(page.read_text()):
        path_part = target.partition("#")[0]
        if path_part and not target.lower().startswith(EXTERNAL):
            out.add((page.parent / unquote(path_part)).resolve())
    return out


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page):
    assert broken_links(page) == []


def test_readme_is_short():
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size:,} bytes; move detail into docs/"


def test_every_docs_page_is_linked_from_the_readme():
    pages = sorted(DOCS.glob("*.md"))
    assert pages, "docs/ holds no pages"
    unlinked = [p.name for p in pages if p.resolve() not in linked_files(README)]
    assert unlinked == []


def test_the_link_check_finds_broken_links_and_anchors(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "outside.md").write_text("# outside the repository\n")
    (root / "other.md").write_text("# Sweeps, clusters and the run cache\n\n## `tms.run` (top)\n\n## Notes\n## Notes\n")
    page = root / "page.md"
    page.write_text(
        "[ok](other.md) [ok](other.md#sweeps-clusters-and-the-run-cache) [ok](other.md#tmsrun-top)\n"
        "[ok](other.md#notes-1) ![ok](other.md) [ok](https://example.org/missing) [ok](#a-heading)\n"
        "# A heading\n"
        "`[not a link](code.md)`\n```\n[not a link](fenced.md)\n```\n"
        "[bad](missing.md) [bad](other.md#no-such-heading) ![bad](missing.png) [bad](#nowhere)\n"
        "[bad](../outside.md)\n"
    )
    assert broken_links(page, root=root) == [
        "missing.md: no such file",
        "other.md#no-such-heading: no heading with anchor #no-such-heading in other.md",
        "missing.png: no such file",
        "#nowhere: no heading with anchor #nowhere in page.md",
        "../outside.md: no such file",
    ]


def test_slug_follows_githubs_rule():
    assert slug("Use it from a notebook (no Hydra needed)") == "use-it-from-a-notebook-no-hydra-needed"
    assert slug("Sweeps, clusters and the run cache") == "sweeps-clusters-and-the-run-cache"
    assert slug("Artifacts, provenance and byte-stability") == "artifacts-provenance-and-byte-stability"
