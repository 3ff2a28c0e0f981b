"""Shared fixtures. Airflow's environment is set here, at import time, before anything imports airflow."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# A fresh AIRFLOW_HOME per test session: never reuse a stale metadata DB between runs.
_airflow_home = tempfile.mkdtemp(prefix="escalation-airflow-")
atexit.register(shutil.rmtree, _airflow_home, True)  # each session's own home; none left in /tmp
os.environ["AIRFLOW_HOME"] = _airflow_home
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_airflow_home}/airflow.db"

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from pipeline.store import Warehouse  # noqa: E402

PG_URL_ENV = "ESCALATION_TEST_PG_URL"
REQUIRE_PG_ENV = "ESCALATION_REQUIRE_PG"


def _pg_unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_PG_ENV) == "1":
        pytest.fail(f"PostgreSQL is required ({REQUIRE_PG_ENV}=1) but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        _pg_unavailable(f"{PG_URL_ENV} not set")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.SQLAlchemyError as exc:
        _pg_unavailable(f"cannot connect to {PG_URL_ENV}: {str(getattr(exc, 'orig', exc)).strip()[:200]}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def pg_schema(pg_url: str):
    """A fresh PostgreSQL schema per test, dropped afterwards, so tests never see each other's rows."""
    schema = f"esc_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    yield schema
    with admin.begin() as conn:
        conn.execute(sa.text(f'drop schema "{schema}" cascade'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request, tmp_path) -> str:
    """Every warehouse test runs on a real SQLite file and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def warehouse(request, warehouse_url: str):
    schema = request.getfixturevalue("pg_schema") if warehouse_url.startswith("postgresql") else None
    wh = Warehouse.from_url(warehouse_url, schema=schema)
    wh.init_schema()
    yield wh
    wh.dispose()
