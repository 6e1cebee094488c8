"""Configuration: one frozen Settings parsed from an injected mapping and validated at start-up.

Sources, strongest first: the mapping given (the process environment), a `.env` file, the
secrets stored encrypted by `python app.py setup`, then the defaults below. Several companies or
entities come from a TOML file named by ML_CONNECTOR_CONFIG (one `[[company]]` table each).
Every problem is collected and reported in ONE SettingsError; no message ever contains a secret.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from poller.schedules import interval_seconds, make_trigger

DEFAULT_ENDPOINT_URL = "https://api.intacct.com/ia/xml/xmlgw.phtml"
DEFAULT_WEB_URL = "https://www.intacct.com"
DEFAULT_POLL_SCHEDULE = "*/2 6-19 * * mon-fri"  # every 2 minutes, Mon–Fri 06:00–20:00
# With Intacct wake-ups on, the regular poll is only the fallback: every 15 minutes in the AP day.
DEFAULT_WAKEUP_POLL_SCHEDULE = "*/15 6-19 * * mon-fri"
DEFAULT_DIGEST_SCHEDULE = "0 8 * * mon-fri"
DEFAULT_RECONCILE_SCHEDULE = "17 6-19 * * mon-fri"  # hourly in the AP day, off the busy minute
DEFAULT_REFERENCE_SCHEDULE = "43 6-19 * * mon-fri"
APP_TYPES = ("SingleTenant", "MultiTenant", "UserAssignedMSI")
# Azure has created only single-tenant (or managed-identity) bots since 2025-07-31 (Learn, "Register a
# bot with Azure"); MultiTenant stays for bots registered before.
DEFAULT_APP_TYPE = "SingleTenant"
ANY_TENANT = "*"  # ALLOWED_TENANT_IDS=* admits every tenant (as bot.tenant_gate.ANY_TENANT)
ANYONE = "anyone"  # ROUTE_ADMINS=anyone: every member of a team may change its channels' routes
DEFAULT_ROUTE_ADMINS = ("team-owners",)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")

# Every key ml-connector reads (documented one by one in .env.example).
SECRET_KEYS = frozenset(
    {
        "INTACCT_SENDER_PASSWORD",
        "INTACCT_USER_PASSWORD",
        "APP_PASSWORD",
        "GRAPH_CLIENT_SECRET",
        "ML_CONNECTOR_MASTER_KEY",
        "INTACCT_EVENTS_SECRET",
        "INTACCT_EVENTS_CLIENT_SECRET",
    }
)
INTACCT_REQUIRED = ("INTACCT_SENDER_ID", "INTACCT_SENDER_PASSWORD", "INTACCT_COMPANY_ID", "INTACCT_USER_ID", "INTACCT_USER_PASSWORD")

# The keys of a `[[company]]` table and the environment key each falls back to (a per-company
# INTACCT_*__<NAME> first, for the INTACCT_* ones). Any other key in a table is an error.
TOML_COMPANY_KEYS = {
    "name": "",
    "sender_id": "INTACCT_SENDER_ID",
    "sender_password": "INTACCT_SENDER_PASSWORD",
    "company_id": "INTACCT_COMPANY_ID",
    "user_id": "INTACCT_USER_ID",
    "user_password": "INTACCT_USER_PASSWORD",
    "entity_id": "INTACCT_ENTITY_ID",
    "endpoint_url": "INTACCT_ENDPOINT_URL",
    "web_url": "INTACCT_WEB_URL",
    "gmt_offset": "INTACCT_GMT_OFFSET",
    "events_secret": "INTACCT_EVENTS_SECRET",
    "poll_schedule": "POLL_SCHEDULE",
    "poll_timezone": "POLL_TIMEZONE",
    "digest_schedule": "DIGEST_SCHEDULE",
}

# The keys that may also be given per company as <KEY>__<NAME> (the table's name, upper case).
PER_COMPANY_KEYS = frozenset(TOML_COMPANY_KEYS[name] for name in (
    "sender_id", "sender_password", "company_id", "user_id", "user_password", "entity_id", "endpoint_url", "web_url", "gmt_offset",
    "events_secret"))

# A wake-up secret travels in a URL or a templated body: URL-safe characters only, long enough
# that guessing it is hopeless.
_EVENTS_SECRET = re.compile(r"^[A-Za-z0-9._~-]{16,200}$")
MIN_EVENTS_SECRET_LENGTH = 16


class SettingsError(ValueError):
    """The configuration is incomplete or invalid; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


class Secret:
    """A secret string that never shows itself in repr, str or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: call only where it is sent to its owner."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__


@dataclass(frozen=True)
class CompanySettings:
    """One Intacct company (or one entity of a multi-entity company) to poll."""

    key: str  # stable name used in the store, routes and logs
    sender_id: str
    sender_password: Secret
    company_id: str
    user_id: str
    user_password: Secret
    entity_id: str | None = None
    endpoint_url: str = DEFAULT_ENDPOINT_URL
    web_url: str = DEFAULT_WEB_URL
    gmt_offset: str | None = None  # "+HH:MM"; None → read the user's preference from Intacct
    poll_schedule: str = DEFAULT_POLL_SCHEDULE
    poll_timezone: str = "UTC"
    digest_schedule: str = DEFAULT_DIGEST_SCHEDULE
    events_secret: Secret = field(default_factory=lambda: Secret(""))  # Smart Event wake-ups of this company
    # The AP team's zone for dates on cards, "today" and "this week": a company's own
    # `poll_timezone` in its TOML table; None = the Intacct user's zone (read from Intacct).
    # The global POLL_TIMEZONE only places the schedules.
    team_timezone: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to start, validated."""

    companies: tuple[CompanySettings, ...] = ()
    app_id: str = ""
    app_password: Secret = field(default_factory=lambda: Secret(""))
    app_type: str = DEFAULT_APP_TYPE
    app_tenant_id: str = ""
    graph_tenant_id: str = ""
    graph_client_id: str = ""
    graph_client_secret: Secret = field(default_factory=lambda: Secret(""))
    graph_authority_host: str = "https://login.microsoftonline.com"
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    public_url: str = ""
    database_url: Secret = field(default_factory=lambda: Secret(""))  # may hold a password
    data_dir: Path = Path("data")
    host: str = "0.0.0.0"
    port: int = 3978
    log_level: str = "INFO"
    log_format: str = "text"
    master_key: Secret = field(default_factory=lambda: Secret(""))
    key_file: Path = Path("data/master.key")
    poll_overlap_seconds: int = 300
    poll_lease_seconds: int = 300
    outbox_claim_seconds: int = 120
    outbox_retention_days: int = 30
    max_events_per_cycle_per_channel: int = 20
    reconcile_schedule: str = DEFAULT_RECONCILE_SCHEDULE
    reference_schedule: str = DEFAULT_REFERENCE_SCHEDULE
    allowed_tenant_ids: frozenset[str] = frozenset()  # resolved: "*" = any; else lower-case tenant ids
    route_admins: tuple[str, ...] = DEFAULT_ROUTE_ADMINS
    max_request_bytes: int = 256 * 1024
    live_reads_per_minute: int = 60  # people's Intacct reads (links, searches, refreshes, commands) per company a minute
    events_client_id: str = ""  # Platform Triggers with webhook delivery: the trigger's Client ID
    events_client_secret: Secret = field(default_factory=lambda: Secret(""))  # that REST client's secret
    events_issuer: str = ""  # when set, a Platform Trigger token's `iss` must equal it
    events_max_age_seconds: int = 300  # a Platform Trigger token older than this is refused
    wakeup_min_interval_seconds: int = 2  # wake-up polls of one company start at least this far apart
    wakeup_max_polls_per_hour: int = 60  # and at most this many an hour (then they wait for the budget)
    allow_anonymous_on_network: bool = False  # ALLOW_ANONYMOUS_ON_NETWORK: anonymous mode off loopback
    warnings: tuple[str, ...] = ()  # valid but worth a word at start-up and in `check`

    # The Teams app package's publisher block (`python app.py package`): who publishes the app in
    # this tenant, and their support, privacy and terms pages (Teams shows them in the app's details).
    teams_app_developer: str = ""
    teams_app_website_url: str = ""
    teams_app_privacy_url: str = ""
    teams_app_terms_url: str = ""

    @property
    def platform_triggers_enabled(self) -> bool:
        """Platform Trigger wake-ups need the REST client's id and secret."""
        return bool(self.events_client_id and self.events_client_secret)

    def wakeup_kinds(self, company: CompanySettings) -> tuple[str, ...]:
        """Which wake-up kinds this company accepts: "platform_trigger", "smart_event" (empty: off)."""
        kinds = ("platform_trigger",) if self.platform_triggers_enabled else ()
        return kinds + (("smart_event",) if company.events_secret else ())

    @property
    def wakeups_enabled(self) -> bool:
        """Whether any company can be woken up by Intacct."""
        return any(self.wakeup_kinds(c) for c in self.companies)

    @property
    def graph_enabled(self) -> bool:
        """Graph needs an app identity with a secret and a public URL for notifications."""
        return bool(self.graph_client_id and self.graph_client_secret and self.graph_tenant_id and self.public_url)

    @property
    def bot_authenticated(self) -> bool:
        """With APP_ID set, /api/messages requires a valid Bot Framework token."""
        return bool(self.app_id)


def load_settings(
    environ: Mapping[str, str],
    *,
    env_file: Path | None = None,
    stored_secrets: Mapping[str, str] | None = None,
    without_companies: bool = False,
) -> Settings:
    """Parse and validate; raise SettingsError listing every problem at once.

    `without_companies` reads everything but the Intacct companies (whose secrets may be stored
    in a database that is not reachable yet): what `serve` needs to listen and log at start."""
    values: dict[str, str] = {}
    values.update(stored_secrets or {})
    if env_file is not None:
        values.update(read_env_file(env_file))
    values.update({k: v for k, v in environ.items() if v is not None})
    return _Parser(values, without_companies=without_companies).parse()


def read_env_file(path: Path) -> dict[str, str]:
    """The KEY=value lines of a `.env`-syntax file (python-dotenv); nothing when there is no such file."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values  # local import: only needed when a .env exists

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


class _Parser:
    """Collects problems while reading keys, so one error can list them all."""

    def __init__(self, values: Mapping[str, str], *, without_companies: bool = False) -> None:
        self.values = values
        self.without_companies = without_companies
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def get(self, key: str, default: str = "") -> str:
        return (self.values.get(key) or default).strip()

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def parse(self) -> Settings:
        app_id = self.get("APP_ID")
        app_password = self.get("APP_PASSWORD")
        app_tenant = self.get("APP_TENANTID")
        app_type = self.choice("APP_TYPE", APP_TYPES, DEFAULT_APP_TYPE, case_insensitive=True)
        if app_type == "SingleTenant" and app_id:
            for key, value in (("APP_PASSWORD", app_password), ("APP_TENANTID", app_tenant)):
                if not value:
                    self.problem(f"{key} is required when APP_TYPE is SingleTenant (the default: Azure creates "
                                 "single-tenant bots; set APP_TYPE=MultiTenant only for a bot registered as multi-tenant)")
        if app_type == "MultiTenant" and app_id and app_tenant:
            self.warnings.append("APP_TYPE is MultiTenant but APP_TENANTID is set: the bot asks the botframework.com "
                                 "tenant for its token and APP_TENANTID is only used as the allowed tenant. If the Azure "
                                 "Bot is single-tenant, set APP_TYPE=SingleTenant or every card and reply will fail")
        if app_type == "UserAssignedMSI" and app_id and not app_tenant:
            self.problem("APP_TENANTID is required when APP_TYPE is UserAssignedMSI")
        if app_password and not app_id:
            self.problem("APP_PASSWORD is set but APP_ID is empty (set both, or neither for anonymous local use)")
        data_dir = Path(self.get("DATA_DIR", "data"))
        client_id, client_secret = self.get("INTACCT_EVENTS_CLIENT_ID"), self.get("INTACCT_EVENTS_CLIENT_SECRET")
        if bool(client_id) != bool(client_secret):
            self.problem("INTACCT_EVENTS_CLIENT_ID and INTACCT_EVENTS_CLIENT_SECRET go together (Platform Trigger wake-ups "
                         "need both: the REST client id entered in the trigger and that client's secret), or set neither")
        allowed = self.allowed_tenants(app_id, app_tenant, app_type)
        graph_tenant = self.get("GRAPH_TENANT_ID") or app_tenant
        if graph_tenant and app_id and allowed and ANY_TENANT not in allowed and graph_tenant.lower() not in allowed:
            self.warnings.append(f"GRAPH_TENANT_ID {graph_tenant} is not in ALLOWED_TENANT_IDS: Graph's channel "
                                 "notifications from that tenant will be refused")
        settings = Settings(
            companies=self.companies(platform_triggers=bool(client_id and client_secret)),
            app_id=app_id,
            app_password=Secret(app_password),
            app_type=app_type,
            app_tenant_id=app_tenant,
            graph_tenant_id=graph_tenant,
            graph_client_id=self.get("GRAPH_CLIENT_ID") or app_id,
            graph_client_secret=Secret(self.get("GRAPH_CLIENT_SECRET") or app_password),
            # msal accepts only an https authority, loopback included, and only its origin.
            graph_authority_host=self.url("GRAPH_AUTHORITY_HOST", "https://login.microsoftonline.com", https_always=True, origin_only=True),
            graph_base_url=self.url("GRAPH_BASE_URL", "https://graph.microsoft.com/v1.0"),
            public_url=self.url("PUBLIC_URL", ""),
            database_url=self.database_url(),
            data_dir=data_dir,
            host=self.get("HOST", "0.0.0.0"),
            port=self.integer("PORT", 3978, 1, 65535),
            log_level=self.choice("LOG_LEVEL", LOG_LEVELS, "INFO", case_insensitive=True),
            log_format=self.choice("LOG_FORMAT", LOG_FORMATS, "text", case_insensitive=True),
            master_key=Secret(self.master_key()),
            key_file=Path(self.get("ML_CONNECTOR_KEY_FILE") or data_dir / "master.key"),
            poll_overlap_seconds=self.integer("POLL_OVERLAP_SECONDS", 300, 0, 86400),
            poll_lease_seconds=self.integer("POLL_LEASE_SECONDS", 300, 2, 86400),
            outbox_claim_seconds=self.integer("OUTBOX_CLAIM_SECONDS", 120, 2, 3600),
            outbox_retention_days=self.integer("OUTBOX_RETENTION_DAYS", 30, 1, 3650),
            max_events_per_cycle_per_channel=self.integer("MAX_EVENTS_PER_CYCLE_PER_CHANNEL", 20, 1, 10000),
            reconcile_schedule=self.schedule("RECONCILE_SCHEDULE", DEFAULT_RECONCILE_SCHEDULE),
            reference_schedule=self.schedule("REFERENCE_SCHEDULE", DEFAULT_REFERENCE_SCHEDULE),
            allowed_tenant_ids=allowed,
            route_admins=tuple(self.csv("ROUTE_ADMINS")) or DEFAULT_ROUTE_ADMINS,
            max_request_bytes=self.integer("MAX_REQUEST_BYTES", 256 * 1024, 1024, 16 * 1024 * 1024),
            live_reads_per_minute=self.integer("LIVE_READS_PER_MINUTE", 60, 1, 6000),
            events_client_id=client_id,
            events_client_secret=Secret(client_secret),
            events_issuer=self.get("INTACCT_EVENTS_ISSUER"),
            events_max_age_seconds=self.integer("INTACCT_EVENTS_MAX_AGE_SECONDS", 300, 30, 3600),
            wakeup_min_interval_seconds=self.integer("WAKEUP_MIN_INTERVAL_SECONDS", 2, 1, 3600),
            wakeup_max_polls_per_hour=self.integer("WAKEUP_MAX_POLLS_PER_HOUR", 60, 1, 3600),
            allow_anonymous_on_network=self.boolean("ALLOW_ANONYMOUS_ON_NETWORK", False),
            warnings=tuple(self.warnings),
            teams_app_developer=self.text("TEAMS_APP_DEVELOPER", max_length=32),
            teams_app_website_url=self.https_url("TEAMS_APP_WEBSITE_URL"),
            teams_app_privacy_url=self.https_url("TEAMS_APP_PRIVACY_URL"),
            teams_app_terms_url=self.https_url("TEAMS_APP_TERMS_URL"),
        )
        if self.problems:
            raise SettingsError(self.problems)
        return settings

    # --- companies ---------------------------------------------------------------------------
    def companies(self, *, platform_triggers: bool = False) -> tuple[CompanySettings, ...]:
        if self.without_companies:
            return ()
        config_path = self.get("ML_CONNECTOR_CONFIG")
        if config_path:
            return self.companies_from_toml(Path(config_path), platform_triggers)
        if not any(self.get(k) for k in INTACCT_REQUIRED):
            return ()  # nothing configured: commands that need Intacct say so themselves
        return (self.company({}, "", "the company set by the INTACCT_* keys", platform_triggers),)

    def companies_from_toml(self, path: Path, platform_triggers: bool = False) -> tuple[CompanySettings, ...]:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.problem(f"ML_CONNECTOR_CONFIG: file {path} does not exist")
            return ()
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            self.problem(f"ML_CONNECTOR_CONFIG: {path} is not valid TOML ({exc})")
            return ()
        for key in sorted(set(document) - {"company"}):
            self.problem(f"{path}: unknown key {key!r} (the file holds only [[company]] tables)")
        tables = document.get("company", [])
        if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
            self.problem(f"ML_CONNECTOR_CONFIG: {path} has no [[company]] table")
            return ()
        companies = []
        for number, table in enumerate(tables, 1):
            where = f"{path} [[company]] #{number}" + (f" (name {table['name']!r})" if isinstance(table.get("name"), str) else "")
            for key in sorted(set(table) - set(TOML_COMPANY_KEYS)):
                self.problem(f"{where}: unknown key {key!r} (known: {', '.join(TOML_COMPANY_KEYS)})")
            for key in sorted(k for k in table if k in TOML_COMPANY_KEYS and not isinstance(table[k], (str, int))):
                self.problem(f"{where}: {key} must be a string (got a {type(table[key]).__name__})")
            companies.append(self.company(table, _suffix(str(table.get("name", ""))), where, platform_triggers))
        keys = [c.key for c in companies]
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            self.problem(f"ML_CONNECTOR_CONFIG: company name {key!r} is used twice in {path}")
        return tuple(companies)

    def company(self, table: Mapping[str, Any], suffix: str, where: str, platform_triggers: bool = False) -> CompanySettings:
        """One company from a TOML table, falling back to the environment's keys (secrets too). With
        wake-ups on (its events secret, or Platform Triggers for every company) the poll's default
        is the fallback schedule.

        Every value comes with its source (`<file> [[company]] #2 (name 'uk') key poll_timezone`,
        or the environment key), and a problem names that source."""

        def pick(name: str, default: str = "") -> tuple[str, str]:
            env_key = TOML_COMPANY_KEYS[name]
            own = table.get(name)
            if isinstance(own, (str, int)) and not isinstance(own, bool):
                return str(own).strip(), f"{where} key {name}"
            per_company = f"{env_key}__{suffix}"
            if suffix and env_key in PER_COMPANY_KEYS and self.get(per_company):
                return self.get(per_company), per_company
            return self.get(env_key, default), env_key

        required = {n: pick(n)[0] for n in ("sender_id", "sender_password", "company_id", "user_id", "user_password")}
        for name, value in required.items():
            if not value:
                hint = f"INTACCT_{name.upper()}" + (f" (or INTACCT_{name.upper()}__{suffix}, or `{name}` in the TOML table)" if suffix else "")
                self.problem(f"{hint} is required for {where}")
        entity = pick("entity_id")[0] or None
        name, _ = pick("name")
        key = name or (f"{required['company_id']}/{entity}" if entity else required["company_id"])
        timezone, timezone_source = pick("poll_timezone", "UTC")
        own_timezone = timezone if table.get("poll_timezone") else None  # the table's own zone: the AP team's (cards)
        self.timezone(timezone, timezone_source)
        gmt_offset, gmt_source = pick("gmt_offset")
        if gmt_offset and not re.fullmatch(r"[+-]\d{2}:\d{2}", gmt_offset):
            self.problem(f"{gmt_source} must look like -08:00 or +05:30 (got {gmt_offset!r})")
        events_secret, events_source = pick("events_secret")
        if events_secret and not _EVENTS_SECRET.match(events_secret):
            self.problem(f"{events_source} must be {MIN_EVENTS_SECRET_LENGTH} to 200 "
                         "URL-safe characters (letters, digits, - . _ ~), e.g. the output of "
                         "`python -c \"import secrets; print(secrets.token_urlsafe(24))\"`")
        default_poll = DEFAULT_WAKEUP_POLL_SCHEDULE if events_secret or platform_triggers else DEFAULT_POLL_SCHEDULE
        poll, poll_source = pick("poll_schedule", default_poll)
        digest, digest_source = pick("digest_schedule", DEFAULT_DIGEST_SCHEDULE)
        self.check_schedule(poll, poll_source)
        self.check_schedule(digest, digest_source)
        endpoint, endpoint_source = pick("endpoint_url", DEFAULT_ENDPOINT_URL)
        web, web_source = pick("web_url", DEFAULT_WEB_URL)
        for source, value in ((endpoint_source, endpoint), (web_source, web)):
            self.check_url(source, value)
        return CompanySettings(
            key=key,
            sender_id=required["sender_id"],
            sender_password=Secret(required["sender_password"]),
            company_id=required["company_id"],
            user_id=required["user_id"],
            user_password=Secret(required["user_password"]),
            entity_id=entity,
            endpoint_url=endpoint,
            web_url=web.rstrip("/"),
            gmt_offset=gmt_offset or None,
            poll_schedule=poll,
            poll_timezone=timezone,
            digest_schedule=digest,
            events_secret=Secret(events_secret),
            team_timezone=own_timezone,
        )

    # --- typed readers -------------------------------------------------------------------------
    def choice(self, key: str, options: tuple[str, ...], default: str, *, case_insensitive: bool = False) -> str:
        raw = self.get(key, default)
        for option in options:
            if raw == option or (case_insensitive and raw.lower() == option.lower()):
                return option
        self.problem(f"{key} must be one of {', '.join(options)} (got {raw!r})")
        return default

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        raw = self.get(key)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problem(f"{key} must be a whole number (got {raw!r})")
            return default
        if not low <= value <= high:
            self.problem(f"{key} must be between {low} and {high} (got {value})")
            return default
        return value

    def url(self, key: str, default: str, *, https_always: bool = False, origin_only: bool = False) -> str:
        raw = self.get(key, default)
        if raw:
            self.check_url(key, raw, https_always=https_always, origin_only=origin_only)
        return raw.rstrip("/")

    def check_url(self, key: str, value: str, *, https_always: bool = False, origin_only: bool = False) -> None:
        problem = url_problem(value, https_always=https_always, origin_only=origin_only)
        if problem:
            self.problem(f"{key} {problem}")

    def boolean(self, key: str, default: bool) -> bool:
        raw = self.get(key).lower()
        if not raw:
            return default
        if raw in _TRUE or raw in _FALSE:
            return raw in _TRUE
        self.problem(f"{key} must be true or false (got {raw!r})")
        return default

    def allowed_tenants(self, app_id: str, app_tenant: str, app_type: str) -> frozenset[str]:
        """ALLOWED_TENANT_IDS as given; else the bot's own tenant (APP_TENANTID); else, in anonymous
        local mode, any (nothing there is authenticated anyway). An authenticated bot with neither
        is a configuration error: admitting every tenant must be asked for (`*`)."""
        given = [t.lower() for t in self.csv("ALLOWED_TENANT_IDS")]
        wrong = [t for t in given if t != ANY_TENANT and not _GUID.match(t)]
        if wrong:
            self.problem(f"ALLOWED_TENANT_IDS takes Entra tenant ids (GUIDs) or * (got {', '.join(map(repr, wrong))})")
        if ANY_TENANT in given and len(given) > 1:
            self.problem("ALLOWED_TENANT_IDS is * (every tenant) together with tenant ids: give one or the other")
        if given:
            if ANY_TENANT in given and app_id:
                self.warnings.append("ALLOWED_TENANT_IDS=*: every Microsoft 365 tenant that installs an app naming this "
                                     "bot can read AP data and subscribe channels to the cards")
            return frozenset(given)
        if app_tenant:
            if not _GUID.match(app_tenant):
                self.problem(f"APP_TENANTID must be an Entra tenant id (a GUID; got {app_tenant!r})")
            return frozenset({app_tenant.lower()})
        if not app_id:
            return frozenset({ANY_TENANT})
        if app_type != "MultiTenant":
            return frozenset()  # APP_TENANTID's absence is already a problem of its own
        self.problem("ALLOWED_TENANT_IDS is required when APP_TENANTID is empty: your Entra tenant id "
                     "(or * to admit every tenant, which lets anyone who knows the bot's id read AP data)")
        return frozenset()

    def text(self, key: str, *, max_length: int) -> str:
        raw = self.get(key)
        if len(raw) > max_length:
            self.problem(f"{key} must be at most {max_length} characters (got {len(raw)})")
        return raw

    def https_url(self, key: str) -> str:
        raw = self.get(key)
        if raw:
            self.check_url(key, raw, https_always=True)  # a page Teams shows people: never plain http
        return raw

    def csv(self, key: str) -> list[str]:
        return [part.strip() for part in self.get(key).split(",") if part.strip()]

    def database_url(self) -> Secret:
        raw = self.get("DATABASE_URL")
        if not raw:
            return Secret("")
        scheme = raw.split(":", 1)[0].lower()
        if not (scheme.startswith("sqlite") or scheme.startswith("postgres")):
            # Do not echo the URL: it may hold a database password.
            self.problem(f"DATABASE_URL must start with sqlite:// or postgresql:// (got a {scheme!r} URL)")
        return Secret(raw)

    def master_key(self) -> str:
        raw = self.get("ML_CONNECTOR_MASTER_KEY")
        if not raw:
            return ""
        from cryptography.fernet import Fernet  # validation only

        for part in raw.split(","):
            try:
                Fernet(part.strip().encode())
            except (ValueError, TypeError):
                self.problem("ML_CONNECTOR_MASTER_KEY must be one or more comma-separated Fernet keys (32 url-safe base64-encoded bytes)")
                break
        return raw

    def timezone(self, name: str, key: str) -> None:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(f"{key} must be an IANA time zone such as Europe/London (got {name!r})")

    def schedule(self, key: str, default: str) -> str:
        raw = self.get(key, default)
        self.check_schedule(raw, key)
        return raw

    def check_schedule(self, expression: str, key: str) -> None:
        seconds = interval_seconds(expression)
        if seconds is not None:
            if seconds < 1:
                self.problem(f"{key} interval must be at least 1 second (got {expression!r})")
            return
        if len(expression.split()) != 5:
            self.problem(f"{key} must be a 5-field cron expression or 'every 30s' / 'every 2m' (got {expression!r})")
            return
        try:
            make_trigger(expression, "UTC")
        except ValueError as exc:
            self.problem(f"{key} is not a valid cron expression ({exc}; got {expression!r})")


def _suffix(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", str(name).upper()).strip("_")


def url_problem(value: str, *, https_always: bool = False, origin_only: bool = False) -> str | None:
    """What is wrong with a configured URL (None when it is fine): https only, except plain http to
    a loopback host (the sandbox and test doubles), and never a user name or password in it."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return f"is not a valid URL (got {value!r})"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password"  # and the value is not echoed: it may hold one
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"must be an https URL (got {value!r})"
    if parts.scheme == "http" and (https_always or not is_loopback_host(parts.hostname)):
        where = "" if https_always else " (plain http only to a loopback host such as 127.0.0.1, for tests)"
        return f"must use https{where}; got {value!r}"
    if origin_only and (parts.path.strip("/") or parts.query or parts.fragment):
        return f"must be a bare origin such as https://login.microsoftonline.com, without a path (got {value!r})"
    return None


def is_loopback_host(host: str) -> bool:
    """Whether a URL's host name is this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
