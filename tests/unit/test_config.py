"""Settings come from ESCALATION_* variables, with clear errors for unusable values."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigError, Settings, env_names, load_settings, parse_bytes


def test_defaults_without_environment():
    settings = load_settings({})
    assert settings == Settings()
    assert settings.db_url.startswith("sqlite:///") and settings.db_url.endswith("data/warehouse.db")


def test_default_paths_are_the_checkouts_or_else_the_current_directory(tmp_path):
    from pipeline import config

    # From this checkout (source tree or editable install): the repo, as `make run` expects.
    repo = Path(config.__file__).resolve().parent.parent
    assert config.PROJECT_ROOT == repo and (repo / "pyproject.toml").is_file()
    assert Settings().db_url == f"sqlite:///{repo / 'data' / 'warehouse.db'}"
    assert Settings().feeds_file == repo / "feeds.yaml"
    # An installed wheel: the package in site-packages, no pyproject.toml beside it.
    site = tmp_path / "venv" / "lib" / "site-packages"
    (site / "pipeline").mkdir(parents=True)
    work = tmp_path / "work"
    assert config.project_root(site / "pipeline", cwd=work) == work
    (tmp_path / "src" / "pipeline").mkdir(parents=True)
    (tmp_path / "src" / "pyproject.toml").write_text("[project]\n")
    assert config.project_root(tmp_path / "src" / "pipeline", cwd=work) == tmp_path / "src"


def test_values_are_converted():
    settings = load_settings(
        {
            "ESCALATION_DB_URL": "postgresql+psycopg://u@h/db",
            "ESCALATION_FETCH_TIMEOUT_S": "3.5",
            "ESCALATION_MIN_SOURCES": "4",
            "ESCALATION_FEEDS_FILE": "/tmp/f.yaml",
            "ESCALATION_WEBHOOK_URL": "https://hooks.example/secret-token",
        }
    )
    assert settings.fetch.timeout_s == 3.5 and settings.detection.min_sources == 4
    assert settings.feeds_file == Path("/tmp/f.yaml")
    assert "secret-token" not in repr(settings)


def test_bad_value_names_the_variable():
    with pytest.raises(ConfigError, match="ESCALATION_MIN_ARTICLES"):
        load_settings({"ESCALATION_MIN_ARTICLES": "many"})


def test_airflow_connections_override_env_settings():
    from pipeline.config import ConnectionFields, apply_connections

    base = load_settings({"ESCALATION_DB_URL": "sqlite:///env.db", "ESCALATION_SMTP_FROM": "env@x"})
    settings = apply_connections(
        base,
        {
            "escalation_warehouse": ConnectionFields(
                conn_type="postgres",
                host="wh",
                login="analyst",
                password="p@ss/word",
                schema="escalation",
                port=5433,
            ),
            "escalation_webhook": ConnectionFields(
                conn_type="http", password="https://hooks.example/T/SECRET"
            ),
            "escalation_slack": ConnectionFields(
                conn_type="http", extra={"url": "https://hooks.slack.example/X"}
            ),
            "escalation_smtp": ConnectionFields(
                conn_type="smtp",
                host="mail",
                port=587,
                login="u",
                password="pw",
                extra={"to": "a@x,b@y", "starttls": True},
            ),
        },
    )
    # the password is URL-escaped, the dialect is the one SQLAlchemy 2 accepts
    assert settings.db_url == "postgresql+psycopg://analyst:p%40ss%2Fword@wh:5433/escalation"
    notify = settings.notify
    assert notify.webhook_url == "https://hooks.example/T/SECRET"
    assert notify.slack_webhook_url == "https://hooks.slack.example/X"
    assert (notify.smtp_host, notify.smtp_port, notify.smtp_user, notify.smtp_starttls) == (
        "mail",
        587,
        "u",
        1,
    )
    assert notify.alert_email_to == "a@x,b@y" and notify.smtp_from == "env@x"
    assert "SECRET" not in repr(settings) and "pw" not in repr(settings)
    # no connections: the env settings stand
    assert apply_connections(base, {}) == base


def test_unusable_connections_are_refused_with_the_reason():
    from pipeline.config import ConfigError, ConnectionFields, apply_connections

    with pytest.raises(ConfigError, match="escalation_warehouse.*mysql"):
        apply_connections(Settings(), {"escalation_warehouse": ConnectionFields(conn_type="mysql", host="h")})
    with pytest.raises(ConfigError, match="escalation_webhook"):
        apply_connections(Settings(), {"escalation_webhook": ConnectionFields(conn_type="http")})


def test_sections_hold_their_settings_under_todays_names():
    settings = load_settings(
        {
            "ESCALATION_FETCH_MAX_BYTES": "100MiB",
            "ESCALATION_PARALLEL_MIN_BYTES": "512 KiB",
            "ESCALATION_ALERT_WATCH": "2.5",
            "ESCALATION_SMTP_STARTTLS": "true",
            "ESCALATION_FETCH_ALLOW_LINK_LOCAL": "0",
        }
    )
    assert settings.fetch.max_bytes == 100 * 1024 * 1024
    assert settings.ingest.parallel_min_bytes == 512 * 1024
    assert settings.detection.watch == 2.5
    assert settings.notify.smtp_starttls is True and settings.fetch.allow_link_local is False
    names = env_names()
    assert names["ESCALATION_ALERT_WATCH"] == "detection.watch"
    assert names["ESCALATION_DB_URL"] == "db_url"
    assert all(name.startswith("ESCALATION_") for name in names)


@pytest.mark.parametrize(
    ("raw", "expected"), [("10485760", 10485760), ("10MiB", 10 * 1024**2), ("20 MB", 20 * 10**6), ("1.5KiB", 1536)]
)
def test_sizes_take_units(raw, expected):
    assert parse_bytes(raw) == expected


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({"ESCALATION_FETCH_MAX_BYTES": "ten megs"}, "ESCALATION_FETCH_MAX_BYTES"),
        ({"ESCALATION_SMTP_STARTTLS": "maybe"}, "ESCALATION_SMTP_STARTTLS"),
        ({"ESCALATION_ALERT_WATCH": "9", "ESCALATION_ALERT_WARNING": "5"}, "thresholds must rise"),
    ],
)
def test_unusable_values_are_config_errors(environ, name):
    with pytest.raises(ConfigError, match=name):
        load_settings(environ)


def test_overrides_change_one_field_of_a_section():
    base = load_settings({"ESCALATION_MIN_SOURCES": "3"})
    changed = base.with_overrides(detection={"watch": 2.0, "warning": None}, db_url="sqlite:///x.db")
    assert changed.detection.watch == 2.0 and changed.detection.warning == base.detection.warning
    assert changed.detection.min_sources == 3 and changed.db_url == "sqlite:///x.db"
    assert changed.fetch is base.fetch
