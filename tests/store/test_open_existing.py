"""Opening an existing warehouse to read: nothing is created or migrated, and each reason it cannot
be read is one line naming the URL (password masked) and the command that sets it up."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from helpers import schema_url

from pipeline.store import MissingWarehouseError, Warehouse, WarehouseError
from pipeline.store.engine import parse_url


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names()) | set(sa.inspect(conn).get_view_names())
    finally:
        engine.dispose()


def test_missing_sqlite_file_or_directory_is_an_error_and_creates_nothing(tmp_path):
    for path in (tmp_path / "absent.db", tmp_path / "no" / "such" / "dir" / "x.db"):
        with pytest.raises(MissingWarehouseError) as caught:
            Warehouse.open_existing(f"sqlite:///{path}")
        message = str(caught.value)
        assert str(path) in message and "escalation run" in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []  # neither file nor directory made


def test_empty_and_older_databases_are_not_migrated(request, warehouse_url):
    schema = request.getfixturevalue("pg_schema") if warehouse_url.startswith("postgresql") else None
    url = schema_url(warehouse_url, schema)
    if schema is None:  # an empty SQLite file
        sa.create_engine(url).connect().close()

    with pytest.raises(MissingWarehouseError, match="no escalation schema.*escalation run"):
        Warehouse.open_existing(url)
    assert _tables(url) == set()  # not one table or view created

    Warehouse.from_url(url).init_schema()
    opened = Warehouse.open_existing(url)
    assert opened.current_revision() is not None
    opened.dispose()

    engine = sa.create_engine(parse_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("update alembic_version set version_num = '0003'"))
    with pytest.raises(MissingWarehouseError, match="revision 0003.*escalation db upgrade"):
        Warehouse.open_existing(url)
    with engine.connect() as conn:  # left as it was
        assert conn.execute(sa.text("select version_num from alembic_version")).scalar_one() == "0003"
    engine.dispose()


def test_views_out_of_date_are_named(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    Warehouse.from_url(url).init_schema()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("drop view escalation_sentences"))
    engine.dispose()
    with pytest.raises(MissingWarehouseError, match="views are out of date.*escalation db upgrade"):
        Warehouse.open_existing(url)


def test_password_is_masked_and_bare_postgresql_means_psycopg(pg_url, pg_schema):
    parsed = sa.make_url(pg_url)
    with_password = parsed.set(drivername="postgresql", password="s3cret-pw")
    url = schema_url(with_password.render_as_string(hide_password=False), pg_schema)
    assert parse_url(url).drivername == "postgresql+psycopg"
    try:
        Warehouse.open_existing(url)
    except WarehouseError as exc:  # no schema (or, with password auth, a refused login): never the password
        assert "s3cret-pw" not in str(exc) and "***" in str(exc)
    else:
        pytest.fail("an empty schema opened as a warehouse")
