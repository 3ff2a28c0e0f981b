"""The one configuration module: every setting comes from an ``ESCALATION_*`` environment variable.

Settings are nested sections of frozen dataclasses (``settings.fetch``, ``settings.scoring``,
``settings.ingest``, ``settings.detection``, ``settings.notify``). Each field names its variable once
(``env(...)`` metadata; the names are today's flat ``ESCALATION_*`` ones), :func:`load_settings` reads
them all, and nothing reads ``os.environ`` anywhere else, so a test or a DAG task can build its own
``Settings`` and pass it down. A stage takes its section (``fetch_one(..., settings.fetch)``,
``detect(..., settings.detection)``), never a copy of it.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints


def project_root(package_dir: Path | None = None, cwd: Path | None = None) -> Path:
    """Where the default warehouse (data/warehouse.db) and feed list (feeds.yaml) live: the checkout
    when the package runs from one (a source tree or an editable install, `make run`: pyproject.toml
    beside the package), else the current directory (an installed wheel, whose package sits in
    site-packages: a default warehouse there would be lost with the venv)."""
    parent = (package_dir or Path(__file__).resolve().parent).parent
    if (parent / "pyproject.toml").is_file():
        return parent
    return (cwd or Path.cwd()).absolute()


PROJECT_ROOT = project_root()
PACKAGE_DATA = Path(__file__).resolve().parent / "data"
ENV_PREFIX = "ESCALATION_"

DETECTORS = ("mad", "ewma")
RANKINGS = ("mass", "index")
SEVERITIES = ("watch", "warning", "critical")
# The page reason of a grave act joining an incident that had paged without one (pipeline.incidents;
# the others are "open" and "upgrade"): the fold writes it, the store's delivery rule and `why` read it.
GRAVE_ACT_PAGE = "grave act"
DEADLINE_FACTOR = 3  # a feed attempt's whole deadline, as a multiple of the per-operation timeout
# Feeds and article pages send it; robots.txt rules are matched on its first word (the product token).
DEFAULT_USER_AGENT = "escalation-signals/0.1 (+https://github.com/escalation-signals)"


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


class FieldError(ValueError):
    """A section's own validation of one field; the loader turns it into a ConfigError naming the variable."""

    def __init__(self, field_name: str, problem: str):
        super().__init__(f"{field_name} {problem}")
        self.field = field_name
        self.problem = problem


def env(name: str, *, kind: str | None = None, secret: bool = False, default: Any = None, **kw: Any) -> Any:
    """A dataclass field read from ``ESCALATION_<name>``; kind "bytes" also takes 10MiB, 512KiB, 2GB, …"""
    metadata = {"env": ENV_PREFIX + name, "kind": kind}
    return field(default=default, repr=not secret, metadata=metadata, **kw)


@dataclass(frozen=True)
class FetchSettings:
    """Feed retrieval (pipeline.fetch)."""

    timeout_s: float = env("FETCH_TIMEOUT_S", default=20.0)  # connect, and each read or write
    max_bytes: int = env("FETCH_MAX_BYTES", kind="bytes", default=10 * 1024 * 1024)  # decoded body
    retries: int = env("FETCH_RETRIES", default=2)
    backoff_s: float = env("FETCH_BACKOFF_S", default=1.0)
    concurrency: int = env("FETCH_CONCURRENCY", default=16)
    user_agent: str = env("USER_AGENT", default=DEFAULT_USER_AGENT)  # the article pages' too
    # The whole attempt incl. redirects and body; None: DEADLINE_FACTOR x timeout_s.
    deadline_s: float | None = env("FETCH_DEADLINE_S", default=None)
    allow_link_local: bool = env("FETCH_ALLOW_LINK_LOCAL", default=False)  # cloud-metadata addresses (SSRF)

    @property
    def attempt_deadline_s(self) -> float:
        return self.deadline_s if self.deadline_s is not None else DEADLINE_FACTOR * self.timeout_s


@dataclass(frozen=True)
class PageSettings:
    """Article pages (pipeline.pages; the rules are in its docstring). `user_agent` and
    `allow_link_local` are not variables of their own: `Settings` copies them from its fetch
    section (ESCALATION_USER_AGENT, ESCALATION_FETCH_ALLOW_LINK_LOCAL), so feeds and pages agree."""

    enabled: bool = env("ARTICLE_FETCH", default=True)  # 0: no page is ever requested (archive replay)
    allow_private: bool = env("ARTICLE_ALLOW_PRIVATE", default=False)  # loopback and private (the feeds' rule)
    allowed_networks: tuple[str, ...] = env("ARTICLE_ALLOWED_NETWORKS", default=())  # CIDRs allowed anyway
    per_host_concurrency: int = env("ARTICLE_HOST_CONCURRENCY", default=2)
    per_host_delay_s: float = env("ARTICLE_HOST_DELAY_S", default=1.0)  # between two request starts at one host
    concurrency: int = env("ARTICLE_CONCURRENCY", default=16)  # requests in flight in all
    timeout_s: float = env("ARTICLE_TIMEOUT_S", default=10.0)  # connect, and each read or write
    deadline_s: float = env("ARTICLE_DEADLINE_S", default=30.0)  # one page in all: hops, retries, waits
    max_redirects: int = env("ARTICLE_MAX_REDIRECTS", default=5)
    max_bytes: int = env("ARTICLE_MAX_BYTES", kind="bytes", default=5 * 1024 * 1024)  # of the decoded body
    retries: int = env("ARTICLE_RETRIES", default=2)
    backoff_s: float = env("ARTICLE_BACKOFF_S", default=1.0)
    max_retry_after_s: float = env("ARTICLE_MAX_RETRY_AFTER_S", default=30.0)
    max_crawl_delay_s: float = env("ARTICLE_MAX_CRAWL_DELAY_S", default=10.0)
    allow_link_local: bool = False  # with allow_private only: link-local / cloud metadata too
    user_agent: str = DEFAULT_USER_AGENT

    def __post_init__(self) -> None:
        for name in ("per_host_concurrency", "concurrency", "max_bytes"):
            if getattr(self, name) < 1:
                raise FieldError(name, f"must be at least 1, not {getattr(self, name)}")
        for name in ("max_redirects", "retries"):
            if getattr(self, name) < 0:
                raise FieldError(name, f"must not be negative, not {getattr(self, name)}")
        for name in ("per_host_delay_s", "backoff_s", "max_retry_after_s", "max_crawl_delay_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise FieldError(name, f"must be a number of seconds >= 0, not {value}")
        for name in ("timeout_s", "deadline_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise FieldError(name, f"must be a number of seconds > 0, not {value}")
        for network in self.allowed_networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise FieldError("allowed_networks", f"{network!r} is not a network (e.g. 10.1.0.0/16)") from None
        if not self.user_agent or not self.user_agent.isascii() or not self.user_agent.isprintable():
            raise FieldError("user_agent", "must be printable ASCII text")


@dataclass(frozen=True)
class ScoringSettings:
    """The knowledge files: the lexicon (pipeline.score) and the gazetteer (pipeline.actors)."""

    lexicon_file: Path = env("LEXICON_FILE", default=PACKAGE_DATA / "lexicon.yaml")
    gazetteer_file: Path = env("GAZETTEER_FILE", default=PACKAGE_DATA / "actors.csv")


@dataclass(frozen=True)
class IngestSettings:
    """Parsing and scoring one big feed (a body of at least parallel_min_bytes) in worker processes."""

    workers: int = env("WORKERS", default=0)  # 0 = one per CPU core, 1 = never (all in this process)
    parallel_min_bytes: int = env("PARALLEL_MIN_BYTES", kind="bytes", default=4 * 1024 * 1024)

    @property
    def worker_processes(self) -> int:
        """How many processes a big feed is spread over (1: none started)."""
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class DetectionParams:
    """Spike detection over daily signals (pipeline.detector), and the severity that pages people."""

    baseline_days: int = env("BASELINE_DAYS", default=28)
    guard_days: int = env("GUARD_DAYS", default=2)
    min_articles: int = env("MIN_ARTICLES", default=3)
    min_sources: int = env("MIN_SOURCES", default=2)
    min_history_days: int = env("MIN_HISTORY_DAYS", default=7)  # a newer actor alerts only on a rare act
    cooldown_days: int = env("COOLDOWN_DAYS", default=3)  # same actor+kind re-alerts only if severity rises
    watch: float = env("ALERT_WATCH", default=3.0)  # surprise thresholds of the three severities
    warning: float = env("ALERT_WARNING", default=5.0)
    critical: float = env("ALERT_CRITICAL", default=8.0)
    spread_floor: float = env("SPREAD_FLOOR", default=8.0)  # index points: a flat baseline needs a real jump
    count_spread_floor: float = env("COUNT_SPREAD_FLOOR", default=4.0)  # sentences: same for the count measure
    detector: str = env("DETECTOR", default="mad")  # mad (median/MAD) | ewma; see README "Alerts"
    # What ranks escalation (pipeline/detector.py): "mass" (distinct escalatory texts, material acts
    # over rhetoric, by outlets, against the actor's long history, with a coverage-aware outlet gate)
    # or "index" (the escalation index and count against baseline_days, gated by min_articles/min_sources).
    ranking: str = env("RANKING", default="mass")
    mass_baseline_days: int = env("MASS_BASELINE_DAYS", default=90)  # the long history of the mass
    mass_spread_floor: float = env("MASS_SPREAD_FLOOR", default=0.75)  # about one material headline
    rhetoric_weight: float = env("RHETORIC_WEIGHT", default=0.4)  # a verbal-only text against a material act
    min_mass: float = env("MIN_MASS", default=1.0)
    outlet_share: float = env("OUTLET_SHARE", default=0.25)  # of the day's active outlets (at least 1)
    # A heavy day of ordinary coverage is not news: the escalation index (a mean, not a volume) must
    # also stand this many spreads (spread_floor at least) above its median of the same window; 0: off.
    mass_index_rise: float = env("MASS_INDEX_RISE", default=1.0)
    # The rare-act path (pipeline/detector.py): a day carrying one of these material categories
    # (comma-separated; empty: off) at this score or more, of a kind the actor had on no day of the
    # rare_act_days before it, alerts at 'warning' even from one outlet (a coup in a thin corpus).
    rare_act_categories: tuple[str, ...] = env("RARE_ACT_CATEGORIES", default=("power_seizure",))
    rare_act_days: int = env("RARE_ACT_DAYS", default=365)
    rare_act_min_score: float = env("RARE_ACT_MIN_SCORE", default=0.5)
    # The new-pair path (pipeline/detector.py): an actor pair named in escalatory material texts
    # outside context whose pair mass over the last new_pair_window_days (today included) reaches
    # new_pair_min_mass, with at most new_pair_prior_ratio times that mass over the new_pair_days
    # before, is a new (or renewed) front and alerts at 'warning'. Chosen on the archive's 2022 half
    # (BENCHMARKS.md, "new or renewed fronts").
    new_pair: bool = env("NEW_PAIR", default=True)
    new_pair_days: int = env("NEW_PAIR_DAYS", default=45)
    new_pair_min_mass: float = env("NEW_PAIR_MIN_MASS", default=3.0)
    new_pair_window_days: int = env("NEW_PAIR_WINDOW_DAYS", default=2)
    new_pair_prior_ratio: float = env("NEW_PAIR_PRIOR_RATIO", default=0.5)
    ewma_lambda: float = env("EWMA_LAMBDA", default=0.2)
    # Lower alerts are stored and logged, not pushed to people.
    notify_min_severity: str = env("NOTIFY_MIN_SEVERITY", default="warning")
    evidence_sentences: int = env("EVIDENCE_SENTENCES", default=5)
    # Incidents (pipeline.incidents; they page from notify_min_severity up): closed after this many
    # days without an alert; re-paged at the same severity when a day's surprise reaches this
    # multiple of the last page's (0: only a higher severity re-pages); escalation evidence at
    # least this share disaster/accident context opens nothing; an actor named in at least this
    # share of an alert's sentences is its counterpart (the incident is the pair's).
    incident_quiet_days: int = env("INCIDENT_QUIET_DAYS", default=7)
    incident_upgrade_factor: float = env("INCIDENT_UPGRADE_FACTOR", default=1.5)
    incident_max_context_share: float = env("INCIDENT_MAX_CONTEXT_SHARE", default=0.5)
    incident_partner_share: float = env("INCIDENT_PARTNER_SHARE", default=0.3)

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(f"detector must be one of {', '.join(DETECTORS)}, not {self.detector!r}")
        if not self.watch <= self.warning <= self.critical:
            raise ValueError(
                f"thresholds must rise: watch {self.watch} <= warning {self.warning} <= critical {self.critical}"
            )
        if self.baseline_days < 1 or self.guard_days < 0 or self.min_history_days < 1:
            raise ValueError("baseline_days and min_history_days must be >= 1 and guard_days >= 0")
        if self.ranking not in RANKINGS:
            raise ValueError(f"ranking must be one of {', '.join(RANKINGS)}, not {self.ranking!r}")
        if self.mass_baseline_days < 1 or not self.mass_spread_floor > 0:
            raise ValueError("mass_baseline_days must be >= 1 and mass_spread_floor > 0")
        if not 0 <= self.rhetoric_weight <= 1 or self.min_mass < 0 or not 0 <= self.outlet_share <= 1:
            raise ValueError("rhetoric_weight and outlet_share must be in [0, 1] and min_mass >= 0")
        if self.mass_index_rise < 0:
            raise ValueError(f"mass_index_rise must be >= 0 (0: off), not {self.mass_index_rise}")
        if self.rare_act_days < 1 or not 0 < self.rare_act_min_score <= 1:
            raise ValueError("rare_act_days must be >= 1 and rare_act_min_score in (0, 1]")
        if self.new_pair_days < 1 or not self.new_pair_min_mass > 0 or self.new_pair_window_days < 1:
            raise ValueError("new_pair_days and new_pair_window_days must be >= 1 and new_pair_min_mass > 0")
        if self.new_pair_prior_ratio < 0:
            raise ValueError(f"new_pair_prior_ratio must be >= 0, not {self.new_pair_prior_ratio}")
        if self.notify_min_severity not in SEVERITIES:
            raise ValueError(
                f"notify_min_severity must be one of {', '.join(SEVERITIES)}, not {self.notify_min_severity!r}"
            )
        if not 0 < self.ewma_lambda <= 1:
            raise ValueError(f"ewma_lambda must be in (0, 1], not {self.ewma_lambda}")
        if self.incident_quiet_days < 1:
            raise ValueError(f"incident_quiet_days must be >= 1, not {self.incident_quiet_days}")
        if self.incident_upgrade_factor != 0 and not self.incident_upgrade_factor > 1:
            raise ValueError(f"incident_upgrade_factor must be > 1 (0: off), not {self.incident_upgrade_factor}")
        if not 0 < self.incident_max_context_share <= 1:
            raise ValueError(f"incident_max_context_share must be in (0, 1], not {self.incident_max_context_share}")
        if not 0 < self.incident_partner_share <= 1:
            raise ValueError(f"incident_partner_share must be in (0, 1], not {self.incident_partner_share}")


@dataclass(frozen=True)
class NotifySettings:
    """Channels that reach people; URLs of incoming webhooks carry their token, so they stay out of repr."""

    webhook_url: str | None = env("WEBHOOK_URL", secret=True)
    slack_webhook_url: str | None = env("SLACK_WEBHOOK_URL", secret=True)
    smtp_host: str | None = env("SMTP_HOST")
    smtp_port: int = env("SMTP_PORT", default=25)
    smtp_user: str | None = env("SMTP_USER")
    smtp_password: str | None = env("SMTP_PASSWORD", secret=True)
    smtp_starttls: bool = env("SMTP_STARTTLS", default=False)  # upgrade with STARTTLS before logging in
    smtp_from: str = env("SMTP_FROM", default="escalation-alerts@localhost")
    alert_email_to: str | None = env("ALERT_EMAIL_TO")  # comma-separated recipients

    @property
    def email_recipients(self) -> list[str]:
        return [r.strip() for r in (self.alert_email_to or "").split(",") if r.strip()]


SECTIONS = ("fetch", "pages", "scoring", "ingest", "detection", "notify")


@dataclass(frozen=True)
class Settings:
    # Warehouse: SQLite file under data/ by default, postgresql+psycopg:// in production.
    db_url: str = env("DB_URL", default=f"sqlite:///{PROJECT_ROOT / 'data' / 'warehouse.db'}")
    feeds_file: Path = env("FEEDS_FILE", default=PROJECT_ROOT / "feeds.yaml")
    fetch: FetchSettings = field(default_factory=FetchSettings)
    pages: PageSettings = field(default_factory=PageSettings)
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    detection: DetectionParams = field(default_factory=DetectionParams)
    notify: NotifySettings = field(default_factory=NotifySettings)

    def __post_init__(self) -> None:
        # One user agent and one link-local rule for feeds and pages: the fetch section's.
        shared = {"user_agent": self.fetch.user_agent, "allow_link_local": self.fetch.allow_link_local}
        if any(getattr(self.pages, name) != value for name, value in shared.items()):
            try:
                pages = replace(self.pages, **shared)
            except FieldError as exc:
                raise ConfigError(f"{ENV_PREFIX}USER_AGENT: {exc.problem}") from None
            object.__setattr__(self, "pages", pages)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some values changed: a top-level field by name, a section by a mapping of its
        fields, e.g. ``with_overrides(db_url=..., fetch={"retries": 0})``; None values are ignored."""
        top: dict[str, Any] = {}
        for name, value in changes.items():
            if name in SECTIONS:
                section_changes = {k: v for k, v in dict(value).items() if v is not None}
                top[name] = replace(getattr(self, name), **section_changes) if section_changes else getattr(self, name)
            elif value is not None:
                top[name] = value
        return replace(self, **top)


_BYTES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_BYTE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
               "t": 1000**4, "tb": 1000**4, "ki": 1024, "kib": 1024, "mi": 1024**2, "mib": 1024**2,
               "gi": 1024**3, "gib": 1024**3, "ti": 1024**4, "tib": 1024**4}


def parse_bytes(raw: str) -> int:
    """``10485760``, ``10MiB``, ``10 MB`` (10^6), ``512KiB`` … as a number of bytes."""
    match = _BYTES.match(raw)
    unit = (match.group(2) or "").lower() if match else None
    if not match or unit not in _BYTE_UNITS:
        raise ValueError(raw)
    return int(float(match.group(1)) * _BYTE_UNITS[unit])


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(env_name: str, raw: str, hint: Any, kind: str | None) -> object:
    type_name = getattr(hint, "__name__", str(hint))
    try:
        if kind == "bytes":
            return parse_bytes(raw)
        if hint is Path:
            return Path(raw).expanduser()
        if hint is bool:
            lowered = raw.strip().lower()
            if lowered in _TRUE | _FALSE:
                return lowered in _TRUE
            raise ValueError(raw)
        if hint is int:
            return int(raw)
        if hint is float or hint == float | None:
            type_name = "float"
            return float(raw)
        if hint == tuple[str, ...]:  # comma-separated
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError:
        what = "size (e.g. 10MiB or 10485760)" if kind == "bytes" else type_name
        raise ConfigError(f"{env_name}={raw!r} is not a valid {what}") from None
    return raw


def _env_fields(cls: type) -> Iterator[tuple[Any, Any]]:
    hints = get_type_hints(cls)
    for f in fields(cls):
        if "env" in f.metadata:
            yield f, hints[f.name]


def _section(cls: type, env_map: Mapping[str, str]) -> Any:
    values: dict[str, object] = {}
    for f, hint in _env_fields(cls):
        raw = env_map.get(f.metadata["env"])
        if raw is None or raw == "":
            continue
        values[f.name] = _convert(f.metadata["env"], raw, hint, f.metadata["kind"])
    try:
        return cls(**values)
    except FieldError as exc:  # one field's own validation: name its variable
        f = next((f for f, _ in _env_fields(cls) if f.name == exc.field), None)
        raise ConfigError(f"{f.metadata['env'] if f else exc.field}: {exc.problem}") from None
    except ValueError as exc:  # a section's own validation (e.g. thresholds that do not rise)
        raise ConfigError(str(exc)) from None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``ESCALATION_*`` variables (e.g. ``ESCALATION_DB_URL``)."""
    env_map = os.environ if environ is None else environ
    top = _section(Settings, env_map)
    sections = {name: _section(type(getattr(top, name)), env_map) for name in SECTIONS}
    return replace(top, **sections)  # __post_init__ shares the fetch section's user agent with pages


def env_names() -> dict[str, str]:
    """Every setting's variable -> its place (``"fetch.timeout_s"``), for docs and .env.example checks."""
    names: dict[str, str] = {}
    for f, _ in _env_fields(Settings):
        names[f.metadata["env"]] = f.name
    for section in SECTIONS:
        cls = type(getattr(Settings(), section))
        for f, _ in _env_fields(cls):
            names[f.metadata["env"]] = f"{section}.{f.name}"
    return names


# -- Airflow connections ----------------------------------------------------------------------------
# Under Airflow, credentials may live in connections instead of env vars. The DAG reads them (this
# module never imports airflow) and hands their plain fields to apply_connections().
WAREHOUSE_CONN_ID = "escalation_warehouse"
WEBHOOK_CONN_ID = "escalation_webhook"
SLACK_CONN_ID = "escalation_slack"
SMTP_CONN_ID = "escalation_smtp"
CONNECTION_IDS = (WAREHOUSE_CONN_ID, WEBHOOK_CONN_ID, SLACK_CONN_ID, SMTP_CONN_ID)


@dataclass(frozen=True)
class ConnectionFields:
    """The fields of an Airflow connection we use; password is a secret and stays out of repr."""

    conn_type: str | None = None
    host: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    schema: str | None = None
    port: int | None = None
    extra: Mapping[str, object] = field(default_factory=dict, repr=False)


def _warehouse_url(conn: ConnectionFields) -> str:
    from sqlalchemy.engine import URL

    if conn.extra.get("url"):
        return str(conn.extra["url"])
    kind = (conn.conn_type or "postgres").lower()
    if kind == "sqlite":
        return f"sqlite:///{conn.host}"
    if kind not in ("postgres", "postgresql"):
        raise ConfigError(f"connection {WAREHOUSE_CONN_ID!r}: type {kind!r} is not postgres or sqlite")
    # Connection.get_uri() says postgres://, which SQLAlchemy 2 refuses: build the URL ourselves.
    url = URL.create(
        "postgresql+psycopg",
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        port=conn.port or None,
        database=conn.schema or None,
    )
    return url.render_as_string(hide_password=False)


def _hook_url(conn: ConnectionFields, conn_id: str) -> str:
    # The URL of an incoming webhook carries its token, so it belongs in the password field (or
    # extra "url"); host + schema is accepted for hooks without a secret.
    url = conn.extra.get("url") or conn.password or conn.host
    if not url:
        raise ConfigError(f"connection {conn_id!r}: put the webhook URL in its password or extra 'url'")
    url = str(url)
    if "://" not in url:
        url = f"{conn.schema or 'https'}://{url}"
    return url


def apply_connections(settings: Settings, connections: Mapping[str, ConnectionFields]) -> Settings:
    """Settings with the values of the connections that exist; a connection wins over the env var."""
    changes: dict[str, object] = {}
    notify: dict[str, object] = {}
    if conn := connections.get(WAREHOUSE_CONN_ID):
        changes["db_url"] = _warehouse_url(conn)
    if conn := connections.get(WEBHOOK_CONN_ID):
        notify["webhook_url"] = _hook_url(conn, WEBHOOK_CONN_ID)
    if conn := connections.get(SLACK_CONN_ID):
        notify["slack_webhook_url"] = _hook_url(conn, SLACK_CONN_ID)
    if conn := connections.get(SMTP_CONN_ID):
        current = settings.notify
        notify.update(
            smtp_host=conn.host,
            smtp_port=conn.port or current.smtp_port,
            smtp_user=conn.login or None,
            smtp_password=conn.password or None,
            smtp_starttls=bool(conn.extra.get("starttls", current.smtp_starttls)),
            smtp_from=str(conn.extra.get("from") or current.smtp_from),
            alert_email_to=str(conn.extra.get("to") or current.alert_email_to or "") or None,
        )
    return replace(settings, notify=replace(settings.notify, **notify), **changes)
