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
    user_agent: str = "escalation-signals/0.1 (+https://github.com/escalation-signals)"

    # Signals and alerts
    min_articles: int = 3
    min_sources: int = 2
    baseline_days: int = 28
    guard_days: int = 2
    cooldown_days: int = 3
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
