"""`.env.example` means the same to python-dotenv (the app), `docker run --env-file` and Compose.

The Docker rules are written out here from Docker's documentation, not taken from a library:
- `docker run --env-file` (docs.docker.com/reference/cli/docker/container/run/#env, and the
  format notes of docker/cli's pkg/kvfile/kvfile.go): the file is UTF-8, a BOM is dropped; each
  line's leading whitespace is removed; empty lines and lines starting with `#` are skipped;
  a line is `KEY[=VALUE]`, KEY non-empty and without whitespace; VALUE is everything after the
  first `=`, trailing whitespace and any `# comment` included (no inline comments); a KEY without
  `=` takes the value of the caller's environment. Quotes around a value are kept by older
  Docker releases and removed by newer ones, so a quoted value is ambiguous.
- Compose's `env_file` (docs.docker.com/compose/env-file/): `#` lines are comments; an unquoted
  value's inline comment starts at ` #`; unquoted and double-quoted values are interpolated
  (`$NAME`), single-quoted ones are not.
So a file whose values are unquoted, hold no ` #` and no `$`, and whose comments stand on their
own lines, reads the same under all three.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from dotenv import dotenv_values

from settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / ".env.example"
BOM = "\ufeff"


class DockerEnvFileError(ValueError):
    """What `docker run --env-file` refuses."""


def docker_env_file(text: str, host_environment: dict[str, str] | None = None) -> dict[str, str]:
    """The variables `docker run --env-file` would set from `text` (rules in the module docstring)."""
    variables: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, has_value, value = line.partition("=")
        if not key:
            raise DockerEnvFileError(f"no variable name on line {number}")
        if any(c in key for c in " \t"):
            raise DockerEnvFileError(f"variable {key!r} contains whitespaces")
        if has_value:
            variables[key] = value
        elif host_environment is not None and key in host_environment:
            variables[key] = host_environment[key]
    return variables


def ambiguous_under_docker(value: str) -> bool:
    """A value Docker releases read differently (quoted), or Compose would cut or interpolate."""
    quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
    return quoted or " #" in value or "\t#" in value or "$" in value or value != value.strip()


def test_the_docker_reader_follows_the_documented_rules():
    text = BOM + "# comment\n\n  A=1\nB=two words  \nC=x # not a comment for docker\nD\nE=\nF=a=b\n"
    assert docker_env_file(text, {"D": "from host"}) == {
        "A": "1", "B": "two words  ", "C": "x # not a comment for docker", "D": "from host", "E": "", "F": "a=b"}
    with pytest.raises(DockerEnvFileError, match="contains whitespaces"):
        docker_env_file("MY KEY=1\n")
    with pytest.raises(DockerEnvFileError, match="no variable name"):
        docker_env_file("=1\n")


def test_the_reader_catches_what_broke_the_docker_path():
    # The line as .env.example had it: dotenv drops the comment, Docker keeps it in the value.
    line = "DATABASE_URL=                 # empty = SQLite in data/\n"
    assert dotenv_values(stream=io.StringIO(line)) == {"DATABASE_URL": ""}
    assert docker_env_file(line) == {"DATABASE_URL": "                 # empty = SQLite in data/"}


def test_env_example_reads_the_same_under_dotenv_and_docker():
    text = EXAMPLE.read_text(encoding="utf-8")
    docker = docker_env_file(text)
    dotenv = {k: v for k, v in dotenv_values(EXAMPLE).items()}
    assert docker == dotenv
    assert [k for k, v in docker.items() if ambiguous_under_docker(v)] == []


def test_every_comment_stands_on_its_own_line():
    for number, line in enumerate(EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert "#" not in value, f".env.example:{number}: a comment after a value: {line!r}"


def test_what_docker_reads_is_a_valid_configuration():
    settings = load_settings(docker_env_file(EXAMPLE.read_text(encoding="utf-8")))
    assert settings.database_url.reveal() == "" and settings.port == 3978 and settings.companies == ()
