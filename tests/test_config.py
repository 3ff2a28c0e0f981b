"""Settings come from ESCALATION_* variables, with clear errors for unusable values."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigError, Settings, load_settings


def test_defaults_without_environment():
    settings = load_settings({})
    assert settings == Settings()
    assert settings.db_url.startswith("sqlite:///") and settings.db_url.endswith("data/warehouse.db")


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
    assert settings.fetch_timeout_s == 3.5 and settings.min_sources == 4
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
    assert settings.webhook_url == "https://hooks.example/T/SECRET"
    assert settings.slack_webhook_url == "https://hooks.slack.example/X"
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_starttls) == (
        "mail",
        587,
        "u",
        1,
    )
    assert settings.alert_email_to == "a@x,b@y" and settings.smtp_from == "env@x"
    assert "SECRET" not in repr(settings) and "pw" not in repr(settings)
    # no connections: the env settings stand
    assert apply_connections(base, {}) == base


def test_unusable_connections_are_refused_with_the_reason():
    from pipeline.config import ConfigError, ConnectionFields, apply_connections

    with pytest.raises(ConfigError, match="escalation_warehouse.*mysql"):
        apply_connections(Settings(), {"escalation_warehouse": ConnectionFields(conn_type="mysql", host="h")})
    with pytest.raises(ConfigError, match="escalation_webhook"):
        apply_connections(Settings(), {"escalation_webhook": ConnectionFields(conn_type="http")})
