"""Fixtures of the card tests: the offline schema validator."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft6Validator

from tests.cards.harness import load_validator


@pytest.fixture(scope="session")
def validator(fixtures_dir: Path) -> Draft6Validator:
    """The Adaptive Card 1.5 schema (plus Teams' msteams) as an offline Draft-6 validator."""
    return load_validator(fixtures_dir)
