"""Settings: parsed from an injected mapping, every problem in one message, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from poller.schedules import interval_seconds
from settings import DEFAULT_WAKEUP_POLL_SCHEDULE, Secret, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent
COMPANY = {
    "INTACCT_SENDER_ID": "mlc-sandbox",
    "INTACCT_SENDER_PASSWORD": "sender-pw-123",
    "INTACCT_COMPANY_ID": "DEMO-CO",
    "INTACCT_USER_ID": "ap-admin",
    "INTACCT_USER_PASSWORD": "user-pw-456",
}


def test_defaults_without_any_configuration():
    s = load_settings({})
    assert s.companies == () and s.port == 3978 and s.database_url.reveal() == "" and not s.bot_authenticated
    assert not s.graph_enabled


def test_one_company_from_environment():
    (company,) = load_settings(COMPANY).companies
    assert company.key == "DEMO-CO" and company.user_password.reveal() == "user-pw-456"
    assert company.poll_schedule == "*/2 6-19 * * mon-fri" and company.poll_timezone == "UTC"


def test_entity_makes_its_own_company_key():
    (company,) = load_settings(COMPANY | {"INTACCT_ENTITY_ID": "E100"}).companies
    assert company.key == "DEMO-CO/E100" and company.entity_id == "E100"


def test_every_problem_is_listed_in_one_error_and_no_secret_appears():
    env = {
        "INTACCT_SENDER_ID": "x",
        "INTACCT_USER_PASSWORD": "hunter2-secret",
        "PORT": "http",
        "APP_TYPE": "Weird",
        "POLL_SCHEDULE": "61 * * * *",
        "POLL_TIMEZONE": "Mars/Olympus",
        "DATABASE_URL": "mysql://root:db-secret@host/db",
        "LOG_LEVEL": "LOUD",
        "ML_CONNECTOR_MASTER_KEY": "not-a-key",
        "PUBLIC_URL": "ftp://example.com",
    }
    with pytest.raises(SettingsError) as info:
        load_settings(env)
    text = str(info.value)
    for key in ("INTACCT_SENDER_PASSWORD", "INTACCT_COMPANY_ID", "INTACCT_USER_ID", "PORT", "APP_TYPE",
                "POLL_SCHEDULE", "POLL_TIMEZONE", "DATABASE_URL", "LOG_LEVEL", "ML_CONNECTOR_MASTER_KEY", "PUBLIC_URL"):
        assert key in text, key
    assert len(info.value.problems) == 11
    assert "hunter2-secret" not in text and "db-secret" not in text


def test_single_tenant_bot_needs_password_and_tenant():
    with pytest.raises(SettingsError) as info:
        load_settings({"APP_ID": "00000000-0000-0000-0000-000000000001", "APP_TYPE": "singletenant"})
    assert "APP_PASSWORD is required" in str(info.value) and "APP_TENANTID is required" in str(info.value)


TENANT = "7f3c1a52-3d2e-4b8a-9d61-0c8e2f4a9b10"
BOT = {"APP_ID": "0b4e8a1c-5f6d-4e2a-8c3b-9a7d6e5f4c21", "APP_PASSWORD": "bot-secret"}


def test_a_bot_is_single_tenant_by_default_and_admits_only_its_own_tenant():
    s = load_settings(BOT | {"APP_TENANTID": TENANT.upper()})

    assert s.app_type == "SingleTenant"
    assert s.allowed_tenant_ids == frozenset({TENANT})  # compared in lower case
    assert s.route_admins == ("team-owners",)
    assert s.warnings == ()
    with pytest.raises(SettingsError) as info:
        load_settings(BOT)
    assert info.value.problems == ["APP_TENANTID is required when APP_TYPE is SingleTenant (the default: Azure creates "
                                   "single-tenant bots; set APP_TYPE=MultiTenant only for a bot registered as multi-tenant)"]


def test_a_multi_tenant_bot_must_name_its_tenants_and_is_flagged_with_a_tenant_id():
    with pytest.raises(SettingsError) as info:
        load_settings(BOT | {"APP_TYPE": "MultiTenant"})
    assert "ALLOWED_TENANT_IDS is required" in str(info.value)

    flagged = load_settings(BOT | {"APP_TYPE": "MultiTenant", "APP_TENANTID": TENANT})
    assert flagged.allowed_tenant_ids == frozenset({TENANT})
    assert len(flagged.warnings) == 1 and "APP_TYPE=SingleTenant" in flagged.warnings[0]

    other = "11111111-2222-3333-4444-555555555555"
    listed = load_settings(BOT | {"APP_TYPE": "MultiTenant", "ALLOWED_TENANT_IDS": f"{TENANT}, {other}"})
    assert listed.allowed_tenant_ids == frozenset({TENANT, other}) and listed.warnings == ()


def test_a_graph_tenant_outside_the_allow_list_is_flagged():
    other = "11111111-2222-3333-4444-555555555555"
    s = load_settings(BOT | {"APP_TENANTID": TENANT, "GRAPH_TENANT_ID": other})

    assert any(f"GRAPH_TENANT_ID {other} is not in ALLOWED_TENANT_IDS" in w for w in s.warnings)
    assert load_settings(BOT | {"APP_TENANTID": TENANT, "GRAPH_TENANT_ID": TENANT.upper()}).warnings == ()


def test_every_tenant_only_when_asked_for_and_then_loudly():
    s = load_settings(BOT | {"APP_TENANTID": TENANT, "ALLOWED_TENANT_IDS": "*"})

    assert s.allowed_tenant_ids == frozenset({"*"})
    assert any("ALLOWED_TENANT_IDS=*" in w for w in s.warnings)


@pytest.mark.parametrize("value", ["contoso.onmicrosoft.com", f"*,{TENANT}", "not-a-guid"])
def test_allowed_tenant_ids_take_tenant_ids_or_a_star(value: str):
    with pytest.raises(SettingsError) as info:
        load_settings(BOT | {"APP_TENANTID": TENANT, "ALLOWED_TENANT_IDS": value})

    assert "ALLOWED_TENANT_IDS" in str(info.value)


def test_anonymous_local_mode_admits_any_tenant_and_is_on_loopback_only_unless_asked():
    s = load_settings({})

    assert not s.bot_authenticated and s.allowed_tenant_ids == frozenset({"*"})
    assert s.host == "0.0.0.0" and s.allow_anonymous_on_network is False
    assert load_settings({"ALLOW_ANONYMOUS_ON_NETWORK": "yes"}).allow_anonymous_on_network is True
    with pytest.raises(SettingsError) as info:
        load_settings({"ALLOW_ANONYMOUS_ON_NETWORK": "sure"})
    assert "ALLOW_ANONYMOUS_ON_NETWORK must be true or false" in str(info.value)


def test_secrets_never_show_in_repr():
    s = load_settings(COMPANY | {"APP_ID": "a", "APP_PASSWORD": "bot-secret-789", "APP_TENANTID": TENANT,
                                 "DATABASE_URL": "postgresql://u:db-pw-000@h/db"})
    text = repr(s) + str(s)
    for secret in ("sender-pw-123", "user-pw-456", "bot-secret-789", "db-pw-000"):
        assert secret not in text
    assert repr(Secret("x")) == "Secret('********')"


def test_environment_beats_env_file_beats_stored_secrets(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("INTACCT_USER_PASSWORD=from-file\nPORT=4000\n")
    base = {k: v for k, v in COMPANY.items() if k != "INTACCT_USER_PASSWORD"}
    stored = {"INTACCT_USER_PASSWORD": "from-store", "APP_PASSWORD": "stored-bot", "APP_ID": "id", "APP_TENANTID": TENANT}
    s = load_settings(base, env_file=env_file, stored_secrets=stored)
    assert s.companies[0].user_password.reveal() == "from-file" and s.port == 4000
    assert s.app_password.reveal() == "stored-bot"
    s = load_settings(base | {"INTACCT_USER_PASSWORD": "from-env"}, env_file=env_file, stored_secrets=stored)
    assert s.companies[0].user_password.reveal() == "from-env"


def test_several_companies_from_toml_with_shared_and_per_company_secrets(tmp_path):
    config = tmp_path / "companies.toml"
    config.write_text(
        """
[[company]]
name = "us"
company_id = "ACME-US"
user_id = "api-us"
poll_timezone = "America/Chicago"

[[company]]
name = "uk"
company_id = "ACME"
entity_id = "UK"
user_id = "api-uk"
poll_schedule = "every 5m"
"""
    )
    env = {
        "ML_CONNECTOR_CONFIG": str(config),
        "INTACCT_SENDER_ID": "sender",
        "INTACCT_SENDER_PASSWORD": "shared-sender",
        "INTACCT_USER_PASSWORD__US": "pw-us",
        "INTACCT_USER_PASSWORD__UK": "pw-uk",
    }
    us, uk = load_settings(env).companies
    assert (us.key, us.poll_timezone, us.user_password.reveal()) == ("us", "America/Chicago", "pw-us")
    assert (uk.key, uk.entity_id, uk.poll_schedule, uk.user_password.reveal()) == ("uk", "UK", "every 5m", "pw-uk")
    assert uk.sender_password.reveal() == "shared-sender"
    # A company's own poll_timezone is its AP team's zone for cards too; the other keeps Intacct's.
    assert (us.team_timezone, uk.team_timezone) == ("America/Chicago", None)


def test_poll_timezone_alone_places_the_schedules_not_the_cards():
    (company,) = load_settings(COMPANY | {"POLL_TIMEZONE": "America/Chicago"}).companies
    assert company.poll_timezone == "America/Chicago" and company.team_timezone is None


def test_toml_problems_are_reported(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[[company]]\nname = 'a'\n[[company]]\nname = 'a'\n")
    with pytest.raises(SettingsError) as info:
        load_settings({"ML_CONNECTOR_CONFIG": str(config)})
    assert "used twice" in str(info.value) and "INTACCT_COMPANY_ID" in str(info.value)
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings({"ML_CONNECTOR_CONFIG": str(tmp_path / "missing.toml")})
    config.write_text("[[company]\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings({"ML_CONNECTOR_CONFIG": str(config)})


def test_a_bad_value_in_a_company_table_names_the_file_the_table_and_the_key(tmp_path):
    config = tmp_path / "companies.toml"
    config.write_text('[[company]]\nname = "us"\ncompany_id = "ACME-US"\n'
                      '[[company]]\nname = "uk"\ncompany_id = "ACME"\npoll_timezone = "Europe/Londres"\ngmt_offset = "+1"\n')
    env = {"ML_CONNECTOR_CONFIG": str(config), "INTACCT_SENDER_ID": "s", "INTACCT_SENDER_PASSWORD": "p", "INTACCT_USER_ID": "u",
           "INTACCT_USER_PASSWORD": "p", "POLL_TIMEZONE": "America/Chicago"}
    with pytest.raises(SettingsError) as info:
        load_settings(env)
    assert info.value.problems == [
        f"{config} [[company]] #2 (name 'uk') key poll_timezone must be an IANA time zone such as Europe/London (got 'Europe/Londres')",
        f"{config} [[company]] #2 (name 'uk') key gmt_offset must look like -08:00 or +05:30 (got '+1')",
    ]  # not POLL_TIMEZONE, which is fine (and the first company's zone)
    with pytest.raises(SettingsError) as info:
        load_settings(env | {"POLL_TIMEZONE": "Mars/Olympus", "INTACCT_GMT_OFFSET__US": "8"})
    assert "INTACCT_GMT_OFFSET__US must look like" in str(info.value)
    assert "POLL_TIMEZONE must be an IANA time zone such as Europe/London (got 'Mars/Olympus')" in str(info.value)


def test_unknown_keys_in_the_companies_file_are_errors(tmp_path):
    config = tmp_path / "companies.toml"
    config.write_text('poll_schedule = "every 1m"\n[[company]]\nname = "us"\ncompany_id = "ACME-US"\npoll_timzone = "UTC"\n'
                      'user_id = ["a", "b"]\n')
    env = {"ML_CONNECTOR_CONFIG": str(config), "INTACCT_SENDER_ID": "s", "INTACCT_SENDER_PASSWORD": "p", "INTACCT_USER_ID": "u",
           "INTACCT_USER_PASSWORD": "p"}
    with pytest.raises(SettingsError) as info:
        load_settings(env)
    text = str(info.value)
    assert f"{config}: unknown key 'poll_schedule' (the file holds only [[company]] tables)" in text
    assert f"{config} [[company]] #1 (name 'us'): unknown key 'poll_timzone' (known: name, sender_id," in text
    assert f"{config} [[company]] #1 (name 'us'): user_id must be a string (got a list)" in text


def test_env_example_documents_every_key_and_is_valid():
    example = (ROOT / ".env.example").read_text()
    s = load_settings({}, env_file=ROOT / ".env.example")
    assert s.companies == ()
    source = (ROOT / "settings.py").read_text()
    import re

    read_keys = set(re.findall(r'"([A-Z][A-Z0-9_]{2,})"', source)) - {"UTC", "INFO", "DEBUG", "WARNING", "ERROR"}
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, re.M))
    assert read_keys - documented == set()


@pytest.mark.parametrize("expr,seconds", [("every 30s", 30), ("every 2m", 120), ("EVERY 1h", 3600), ("*/2 * * * *", None)])
def test_interval_schedules(expr, seconds):
    assert interval_seconds(expr) == seconds


# --- Intacct wake-ups -----------------------------------------------------------------------------
EVENTS_SECRET = "a-company-events-secret-0123"


def test_wake_ups_make_the_regular_poll_a_fallback_unless_it_is_set():
    (company,) = load_settings(COMPANY | {"INTACCT_EVENTS_SECRET": EVENTS_SECRET}).companies
    assert company.poll_schedule == DEFAULT_WAKEUP_POLL_SCHEDULE and company.events_secret.reveal() == EVENTS_SECRET
    (company,) = load_settings(COMPANY | {"INTACCT_EVENTS_SECRET": EVENTS_SECRET, "POLL_SCHEDULE": "every 5m"}).companies
    assert company.poll_schedule == "every 5m"
    platform = load_settings(COMPANY | {"INTACCT_EVENTS_CLIENT_ID": "client.app.sage.com", "INTACCT_EVENTS_CLIENT_SECRET": "cs-1"})
    assert platform.companies[0].poll_schedule == DEFAULT_WAKEUP_POLL_SCHEDULE
    assert platform.wakeup_kinds(platform.companies[0]) == ("platform_trigger",) and platform.wakeups_enabled
    assert not load_settings(COMPANY).wakeups_enabled


def test_events_secrets_per_company_from_toml_or_the_environment(tmp_path):
    config = tmp_path / "companies.toml"
    config.write_text(f'[[company]]\nname = "us"\nevents_secret = "{EVENTS_SECRET}"\n\n[[company]]\nname = "uk"\n\n'
                      '[[company]]\nname = "fr"\n')
    env = COMPANY | {"ML_CONNECTOR_CONFIG": str(config), "INTACCT_EVENTS_SECRET__UK": "uk-secret-from-the-environment"}
    settings = load_settings(env)
    us, uk, fr = settings.companies

    assert us.events_secret.reveal() == EVENTS_SECRET and uk.events_secret.reveal() == "uk-secret-from-the-environment"
    assert not fr.events_secret and settings.wakeup_kinds(fr) == ()
    assert [c.poll_schedule for c in settings.companies] == [DEFAULT_WAKEUP_POLL_SCHEDULE, DEFAULT_WAKEUP_POLL_SCHEDULE,
                                                             "*/2 6-19 * * mon-fri"]


@pytest.mark.parametrize("secret", ["short-secret", "has spaces in it, 0123456789", "ümlaut-secret-0123456789", "a" * 201])
def test_an_events_secret_must_be_long_and_url_safe_and_is_never_echoed(secret):
    with pytest.raises(SettingsError, match="INTACCT_EVENTS_SECRET must be 16 to 200 URL-safe characters") as error:
        load_settings(COMPANY | {"INTACCT_EVENTS_SECRET": secret})
    assert secret not in str(error.value)


def test_platform_trigger_keys_go_together_and_bounds_are_checked():
    with pytest.raises(SettingsError) as error:
        load_settings(COMPANY | {"INTACCT_EVENTS_CLIENT_ID": "client.app.sage.com", "INTACCT_EVENTS_MAX_AGE_SECONDS": "5",
                                 "WAKEUP_MIN_INTERVAL_SECONDS": "0", "WAKEUP_MAX_POLLS_PER_HOUR": "lots"})
    problems = str(error.value)
    assert "INTACCT_EVENTS_CLIENT_ID and INTACCT_EVENTS_CLIENT_SECRET go together" in problems
    assert "INTACCT_EVENTS_MAX_AGE_SECONDS must be between 30 and 3600" in problems
    assert "WAKEUP_MIN_INTERVAL_SECONDS must be between 1 and 3600" in problems
    assert "WAKEUP_MAX_POLLS_PER_HOUR must be a whole number" in problems


URL_KEYS = ("INTACCT_ENDPOINT_URL", "INTACCT_WEB_URL", "GRAPH_AUTHORITY_HOST", "GRAPH_BASE_URL", "PUBLIC_URL")


@pytest.mark.parametrize("key", URL_KEYS)
@pytest.mark.parametrize("value", ["http://login.example.com", "http://localhost.example.com", "http://127.0.0.1.nip.io",
                                   "ftp://example.com", "https://", "login.example.com", "https://host:notaport/"])
def test_every_url_must_be_https_and_says_so_in_one_line(key, value):
    with pytest.raises(SettingsError) as info:
        load_settings(COMPANY | {key: value})
    (problem,) = info.value.problems
    assert problem.startswith(key) and "\n" not in problem


@pytest.mark.parametrize("key", ["INTACCT_ENDPOINT_URL", "INTACCT_WEB_URL", "GRAPH_BASE_URL", "PUBLIC_URL"])
@pytest.mark.parametrize("value", ["http://127.0.0.1:8090/x", "http://localhost:1", "http://[::1]:3978", "https://example.com"])
def test_plain_http_is_accepted_only_for_loopback(key, value):
    load_settings(COMPANY | {key: value})


def test_the_graph_authority_is_an_https_origin_even_on_loopback():
    # msal refuses any other authority; validation must say so before `serve` builds the bridge.
    for value in ("http://127.0.0.1:8443", "https://login.example.com/tenant"):
        with pytest.raises(SettingsError, match="GRAPH_AUTHORITY_HOST"):
            load_settings({"GRAPH_AUTHORITY_HOST": value})
    assert load_settings({"GRAPH_AUTHORITY_HOST": "https://127.0.0.1:8443/"}).graph_authority_host == "https://127.0.0.1:8443"


def test_a_url_with_a_password_is_refused_without_echoing_it():
    with pytest.raises(SettingsError) as info:
        load_settings(COMPANY | {"INTACCT_ENDPOINT_URL": "https://user:url-pw-111@api.intacct.com/ia/xml/xmlgw.phtml"})
    assert "INTACCT_ENDPOINT_URL must not carry" in str(info.value) and "url-pw-111" not in str(info.value)


def test_urls_in_a_company_table_are_checked_too(tmp_path):
    config = tmp_path / "companies.toml"
    config.write_text('[[company]]\nname = "us"\nendpoint_url = "http://gateway.example.com/ia/xml/xmlgw.phtml"\n')
    with pytest.raises(SettingsError, match=r"companies.toml \[\[company\]\] #1 \(name 'us'\) key endpoint_url must use https"):
        load_settings(COMPANY | {"ML_CONNECTOR_CONFIG": str(config)})  # the table's key is named, not the environment's


def test_peoples_reads_per_minute_default_to_60_and_are_bounded():
    assert load_settings({}).live_reads_per_minute == 60
    assert load_settings({"LIVE_READS_PER_MINUTE": "120"}).live_reads_per_minute == 120
    for bad in ("0", "many", "100000"):
        with pytest.raises(SettingsError, match="LIVE_READS_PER_MINUTE"):
            load_settings({"LIVE_READS_PER_MINUTE": bad})
