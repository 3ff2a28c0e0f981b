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
