"""The one configuration module: every setting comes from an ``ESCALATION_*`` environment variable.

Settings are read into a frozen dataclass by :func:`load_settings`; nothing reads ``os.environ``
anywhere else, so a test or a DAG task can build its own ``Settings`` and pass it down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DATA = Path(__file__).resolve().parent / "data"
ENV_PREFIX = "ESCALATION_"


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    # Warehouse: SQLite file under data/ by default, postgresql+psycopg:// in production.
    db_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'warehouse.db'}"
    feeds_file: Path = PROJECT_ROOT / "feeds.yaml"
    lexicon_file: Path = PACKAGE_DATA / "lexicon.yaml"
    gazetteer_file: Path = PACKAGE_DATA / "actors.csv"

    # Fetching
    fetch_timeout_s: float = 20.0
    fetch_max_bytes: int = 10 * 1024 * 1024
    fetch_retries: int = 2
    fetch_backoff_s: float = 1.0
    fetch_concurrency: int = 16
    fetch_allow_link_local: int = 0  # 1: allow link-local/cloud-metadata addresses (SSRF guard)
    user_agent: str = "escalation-signals/0.1 (+https://github.com/escalation-signals)"

    # Parsing and scoring one big feed (a body of at least parallel_min_bytes) in worker processes:
    # 0 = one per CPU core, 1 = never (everything in the calling process).
    workers: int = 0
    parallel_min_bytes: int = 4 * 1024 * 1024

    # Signals and alerts
    min_articles: int = 3
    min_sources: int = 2
    baseline_days: int = 28
    guard_days: int = 2
    cooldown_days: int = 3
    min_history_days: int = 7  # a newer actor cannot alert: no alert storm on its first days
    detector: str = "mad"  # mad (median/MAD, default) | ewma; see README "Alerts"
    alert_watch: float = 3.0  # surprise thresholds of the three severities
    alert_warning: float = 5.0
    alert_critical: float = 8.0
    spread_floor: float = 8.0  # index points
    count_spread_floor: float = 4.0  # escalatory sentences
    notify_min_severity: str = "warning"  # watch alerts are stored and logged; warning+ reach people
    webhook_url: str | None = field(default=None, repr=False)  # a secret: never in repr/logs
    slack_webhook_url: str | None = field(default=None, repr=False)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: int = 0  # 1: upgrade the connection with STARTTLS before logging in
    smtp_from: str = "escalation-alerts@localhost"
    alert_email_to: str | None = None  # comma-separated recipients

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)

    @property
    def worker_processes(self) -> int:
        """How many processes a big feed is spread over (1: none started)."""
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)


def _convert(name: str, raw: str, target: object) -> object:
    env_name = ENV_PREFIX + name.upper()
    try:
        if target is Path or target == "Path":
            return Path(raw).expanduser()
        if target in (int, "int"):
            return int(raw)
        if target in (float, "float"):
            return float(raw)
    except ValueError:
        raise ConfigError(
            f"{env_name}={raw!r} is not a valid {target if isinstance(target, str) else target.__name__}"
        ) from None
    return raw


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``ESCALATION_<FIELD>`` variables (e.g. ``ESCALATION_DB_URL``)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = env.get(ENV_PREFIX + f.name.upper())
        if raw is None or raw == "":
            continue
        values[f.name] = _convert(f.name, raw, f.type.split(" ")[0] if isinstance(f.type, str) else f.type)
    return Settings(**values)


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
    if conn := connections.get(WAREHOUSE_CONN_ID):
        changes["db_url"] = _warehouse_url(conn)
    if conn := connections.get(WEBHOOK_CONN_ID):
        changes["webhook_url"] = _hook_url(conn, WEBHOOK_CONN_ID)
    if conn := connections.get(SLACK_CONN_ID):
        changes["slack_webhook_url"] = _hook_url(conn, SLACK_CONN_ID)
    if conn := connections.get(SMTP_CONN_ID):
        changes.update(
            smtp_host=conn.host,
            smtp_port=conn.port or settings.smtp_port,
            smtp_user=conn.login or None,
            smtp_password=conn.password or None,
            smtp_starttls=int(bool(conn.extra.get("starttls", settings.smtp_starttls))),
            smtp_from=str(conn.extra.get("from") or settings.smtp_from),
            alert_email_to=str(conn.extra.get("to") or settings.alert_email_to or "") or None,
        )
    return replace(settings, **changes)
