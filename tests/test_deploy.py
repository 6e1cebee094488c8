"""deploy/: the scale-out layout (PostgreSQL, two instances, Caddy for HTTPS) holds together.

There is no Docker engine here, so the compose file is checked as Docker Compose would read it:
valid YAML, valid against the Compose Specification's schema (tests/fixtures/schemas), and
consistent with itself, the Dockerfile, the settings and the Caddyfile in front of it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from settings import load_settings
from store.engine import normalize_url

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
CADDYFILE = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
SERVICES = COMPOSE["services"]
INSTANCES = sorted(name for name, service in SERVICES.items() if service.get("image") == "ml-connector:local")
INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::?[-?][^}]*)?\}")


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:?message}, ${NAME:-default} with `values`."""
    return INTERPOLATION.sub(lambda m: values[m.group(1)], text)


def test_the_compose_file_is_valid_for_the_compose_specification(fixtures_dir):
    schema = json.loads((fixtures_dir / "schemas/compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(COMPOSE)


def test_two_instances_of_the_repository_image_share_the_database_and_the_master_key():
    assert INSTANCES == ["mlc-1", "mlc-2"]
    first = SERVICES[INSTANCES[0]]
    for name in INSTANCES:
        service = SERVICES[name]
        assert service == first, f"{name} differs from {INSTANCES[0]}: every instance runs the same way"
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == ROOT / "Dockerfile"
        assert service["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        assert service["environment"]["PORT"] == "3978" and "3978" in service["expose"]
        assert (DEPLOY / service["env_file"]).resolve() == ROOT / ".env"  # .env.example, filled in
    assert "ML_CONNECTOR_MASTER_KEY" in first["environment"], "instances must open each other's stored credentials"


def test_the_database_url_names_the_postgres_service_and_the_settings_accept_it():
    postgres = SERVICES["postgres"]
    assert postgres["image"].startswith("postgres:") and "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    values = {"POSTGRES_PASSWORD": "s3cret", "ML_CONNECTOR_MASTER_KEY": "k", "MLC_PUBLIC_HOST": "mlc.example.com"}
    url = interpolate(SERVICES[INSTANCES[0]]["environment"]["DATABASE_URL"], values)
    env = postgres["environment"]
    assert url == f"postgresql://{env['POSTGRES_USER']}:{interpolate(env['POSTGRES_PASSWORD'], values)}@postgres:5432/{env['POSTGRES_DB']}"
    settings = load_settings({"DATABASE_URL": url})
    assert normalize_url(settings.database_url.reveal(), data_dir=ROOT / "data").drivername == "postgresql+asyncpg"


def test_caddy_serves_https_for_the_public_host_and_spreads_over_every_instance():
    proxy = SERVICES["proxy"]
    assert proxy["image"].startswith("caddy:") and "443:443" in proxy["ports"] and "80:80" in proxy["ports"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert sorted(proxy["depends_on"]) == INSTANCES
    assert CADDYFILE.count("{$MLC_PUBLIC_HOST} {") == 1 and "MLC_PUBLIC_HOST" in proxy["environment"]
    (upstreams,) = re.findall(r"^\s*reverse_proxy\s+([^{\n]+)\{", CADDYFILE, re.M)
    assert sorted(upstreams.split()) == [f"{name}:3978" for name in INSTANCES]
    assert re.search(r"^\s*health_uri /healthz$", CADDYFILE, re.M)
    assert re.search(r"^\s*respond @metrics 404$", CADDYFILE, re.M) and "@metrics path /metrics" in CADDYFILE
    assert CADDYFILE.count("{") == CADDYFILE.count("}")


@pytest.mark.parametrize("name", sorted(set(INTERPOLATION.findall((DEPLOY / "compose.yaml").read_text()))))
def test_every_variable_the_compose_file_needs_is_explained_in_the_readme(name):
    deployment = (ROOT / "README.md").read_text().split("## Deployment", 1)[1].split("\n## ", 1)[0]
    assert f"`{name}`" in deployment
