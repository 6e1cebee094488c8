"""The repository stands alone: no tracked file points at a reference library beside the clone.

A user's clone has nothing beside it, while CI and the developers' machines do, so only this test
catches a test, a benchmark, a script or a doc that reaches out of the repository.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The name of the folder beside the clone, written in two pieces so this file does not match itself.
SIBLING = "sha" + "red"
OUTSIDE = re.compile(
    r"\.\./" + SIBLING + r"\b"  # ../<sibling>, the folder beside the clone
    + r"|\b" + SIBLING + r"/(?:docs|intacct-samples|teams-samples|schemas|hooks)\b"  # its sub-folders
    + r"|parents?\[\d\]\s*/\s*[\"']" + SIBLING + r"[\"']"  # Path(...).parent / "<sibling>"
    + r"|\.parent\s*/\s*[\"']" + SIBLING + r"[\"']"
)


def tracked_files() -> list[Path]:
    """Every file git tracks (falls back to walking the tree outside a git checkout)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode("utf-8").split("\0")
        return [ROOT / name for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "node_modules", "data", ".pytest_cache"}
        return [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]


def test_no_tracked_file_names_the_folder_beside_the_clone():
    offenders = []
    for path in tracked_files():
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert offenders == [], "tracked files reach outside the repository:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "line",
    [
        "see ../" + SIBLING + "/docs/architecture.md",
        "(" + SIBLING + "/docs/intacct-xml-api.md §9)",
        "SAMPLES = ROOT.parent / '" + SIBLING + "' / 'x'",
        'Path(__file__).resolve().parents[3] / "' + SIBLING + '"',
        "read " + SIBLING + "/teams-samples/playground",
    ],
)
def test_the_pattern_catches_each_way_of_reaching_out(line: str):
    assert OUTSIDE.search(line)


@pytest.mark.parametrize("line", ["a shared session", "shared by every instance", "tests/fixtures/schemas/x.json"])
def test_the_pattern_leaves_ordinary_words_alone(line: str):
    assert not OUTSIDE.search(line)


def test_every_fixture_folder_names_its_sources():
    fixtures = ROOT / "tests" / "fixtures"
    folders = [p for p in fixtures.iterdir() if p.is_dir()]
    assert folders, "tests/fixtures is empty"
    for folder in folders:
        readme = folder / "README.md"
        assert readme.is_file(), f"{folder.relative_to(ROOT)} has no README naming its sources"
        text = readme.read_text(encoding="utf-8")
        assert re.search(r"licen[cs]e", text, re.IGNORECASE), f"{readme.relative_to(ROOT)} names no licence"
