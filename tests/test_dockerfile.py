"""The Dockerfile's promises (no Docker engine here to build it): slim base, every package copied,
non-root user, a health check on /healthz, the serve command."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PACKAGES = [p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != "tests"]


def test_slim_python_311_base():
    assert DOCKERFILE.splitlines()[1].startswith("FROM python:3.11-slim")


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
