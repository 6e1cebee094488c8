"""The Dockerfile's promises (no Docker engine here to build it): slim base, every package copied,
non-root user, a health check on /healthz, the serve command."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PACKAGES = [p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != "tests"]


def test_slim_python_311_base():
    bases = [line.split()[1] for line in DOCKERFILE.splitlines() if line.startswith("FROM ")]
    assert bases == ["python:3.11-slim", "python:3.11-slim"]  # the page reader's build stage, then the app


def test_the_page_reader_is_compiled_in_a_build_stage_and_only_its_module_is_copied():
    build, app = DOCKERFILE.split("\nFROM python:3.11-slim\n")
    assert "python -m intacct._fastpage_build --require" in build and "gcc" in build
    assert "requirements-build.txt" in build and "gcc" not in app
    assert "COPY --from=fastpage --chown=root:root /app/intacct/_fastpage.cpython-311-*.so ./intacct/" in app


def test_every_runtime_package_and_module_is_copied():
    for name in [*PACKAGES, "app.py", "settings.py", "appPackage", "requirements.txt"]:
        assert f" {name}" in DOCKERFILE, name


def test_runs_as_non_root_with_a_health_check_and_serve():
    assert "\nUSER mlc\n" in DOCKERFILE and "useradd --system" in DOCKERFILE
    assert "HEALTHCHECK" in DOCKERFILE and "/healthz" in DOCKERFILE
    assert DOCKERFILE.rstrip().endswith('CMD ["python", "app.py", "serve"]')


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", "data", ".venv", ".git"} <= set(ignored)
