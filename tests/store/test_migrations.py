"""Schema evolution with Alembic, on SQLite and PostgreSQL: an old database with data in it is
upgraded without losing a row, a database from before migrations is recognised, and the
migrations build exactly the schema the model describes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pipeline.store import Warehouse, migrate
from pipeline.store import views as analytics
from pipeline.store.schema import metadata

STAMP = datetime(2026, 11, 1, 6, tzinfo=UTC)


@pytest.fixture
def engine(request, warehouse_url):
    schema = request.getfixturevalue("pg_schema") if warehouse_url.startswith("postgresql") else None
    warehouse = Warehouse.from_url(warehouse_url, schema=schema)
    yield warehouse.engine
    warehouse.dispose()


def _fill_release_one(engine: sa.Engine) -> dict[str, int]:
    """Rows as the first release wrote them (alerts without a measure column)."""
    t = sa.text
    with engine.begin() as conn:
        conn.execute(
            t(
                "insert into feeds (feed_id, url, title, first_seen_at) values (1, 'https://f.example/rss', 'F', :at)"
            ),
            {"at": STAMP},
        )
        conn.execute(
            t(
                "insert into articles (article_id, article_key, feed_id, url, title, published_at, published_day,"
                " date_source, fetched_at, content_hash, sentence_count) values"
                " (1, 'k1', 1, 'https://f.example/1', 'T', :at, :day, 'published', :at, 'h', 1)"
            ),
            {"at": STAMP, "day": date(2026, 11, 1)},
        )
        conn.execute(
            t(
                "insert into sentences (sentence_id, article_id, seq, text, score, escalation, deescalation,"
                " matches, scorer_version, scored_at) values (1, 1, 0, 'Troops massed.', 0.7, 0.7, 0, '[]', 'v1', :at)"
            ),
            {"at": STAMP},
        )
        conn.execute(t("insert into sentence_actors (sentence_id, actor) values (1, 'IRN')"))
        for alert_id, kind in ((1, "escalation"), (2, "deescalation")):
            conn.execute(
                t(
                    "insert into alerts (alert_id, day, actor, kind, severity, value, baseline, spread, surprise,"
                    " articles, sources, evidence, mode, created_at, updated_at) values"
                    " (:id, :day, 'IRN', :kind, 'watch', 9, 1, 2, 4, 3, 2, '[]', 'live', :at, :at)"
                ),
                {"id": alert_id, "day": date(2026, 11, 1), "kind": kind, "at": STAMP},
            )
        conn.execute(
            t(
                "insert into alert_deliveries (alert_id, channel, status, attempts, updated_at)"
                " values (1, 'webhook', 'sent', 1, :at)"
            ),
            {"at": STAMP},
        )
    return _counts(engine)


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: conn.execute(sa.text(f"select count(*) from {table}")).scalar_one()
            for table in ("feeds", "articles", "sentences", "sentence_actors", "alerts", "alert_deliveries")
        }


def test_an_old_database_with_data_upgrades_without_losing_anything(engine):
    report = migrate.upgrade(engine, "0001")
    assert (report.before, report.after) == (None, "0001")
    before = _fill_release_one(engine)

    report = migrate.upgrade(engine)
    assert (report.before, report.after) == ("0001", migrate.head_revision())
    assert _counts(engine) == before
    with engine.connect() as conn:
        measures = dict(conn.execute(sa.text("select kind, measure from alerts")).all())
        text = conn.execute(sa.text("select text from sentences")).scalar_one()
        views = set(sa.inspect(conn).get_view_names())
    assert measures == {"escalation": "escalation_index", "deescalation": "deescalation_index"}
    assert text == "Troops massed."
    with engine.connect() as conn:  # 0004: the old articles took their text from the feed; none pending
        pages = conn.execute(sa.text("select body_source, page_state, attempts from article_pages")).all()
    assert [tuple(row) for row in pages] == [("feed", "skipped", 0)] * before["articles"]
    assert set(analytics.view_sql(engine.dialect.name)) <= views
    # and the upgraded database works with the current code
    assert Warehouse(engine).top_sentences(day=date(2026, 11, 1), actor="IRN", limit=1)


def test_a_database_from_before_migrations_is_recognised_and_upgraded(engine):
    migrate.upgrade(engine, "0001")
    before = _fill_release_one(engine)
    with engine.begin() as conn:  # what `metadata.create_all` of the first release left behind
        conn.execute(sa.text("drop table alembic_version"))
    assert migrate.current_revision(engine) is None

    Warehouse(engine).init_schema()
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert _counts(engine) == before


def test_migrations_and_model_agree(engine):
    migrate.upgrade(engine, "0001")
    migrate.upgrade(engine, "head")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_a_fresh_database_is_created_at_head_and_ensure_schema_is_idempotent(engine):
    Warehouse(engine).init_schema()
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []
    Warehouse(engine).init_schema()  # a second call changes nothing
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_the_model_differs_from_release_one_so_the_upgrade_test_means_something(engine):
    migrate.upgrade(engine, "0001")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert any(op[0] == "add_column" and op[3].name == "measure" for op in diff if isinstance(op, tuple))


def test_a_changed_view_file_reaches_an_existing_database(engine, tmp_path, monkeypatch):
    """A release that edits a view's SQL without a migration: the next init_schema recreates it."""
    import shutil

    Warehouse(engine).init_schema()
    with engine.connect() as conn:
        assert analytics.views_are_current(conn)
    sql_dir = tmp_path / "sql"
    shutil.copytree(analytics.SQL_DIR, sql_dir)
    feed_health = next((sql_dir / "views").glob("feed_health*.sql"))
    feed_health.write_text(feed_health.read_text() + "-- edited in a new release\n")
    monkeypatch.setattr(analytics, "SQL_DIR", sql_dir)
    with engine.connect() as conn:
        assert not analytics.views_are_current(conn, sql_dir)
    monkeypatch.setattr(analytics.view_sql, "__defaults__", (sql_dir,))
    monkeypatch.setattr(analytics.create_views, "__defaults__", (sql_dir,))
    monkeypatch.setattr(analytics.views_are_current, "__defaults__", (sql_dir,))
    Warehouse(engine).init_schema()
    with engine.connect() as conn:
        assert analytics.views_are_current(conn, sql_dir)


def test_a_warehouse_at_0005_gets_its_ranking_measures_from_a_signals_recompute(engine):
    from pipeline.signals import compute_signals

    migrate.upgrade(engine, "0001")
    _fill_release_one(engine)
    migrate.upgrade(engine, "0005")
    with engine.begin() as conn:
        matches = '[{"category": "mobilisation", "effective_weight": 0.7}]'
        conn.execute(sa.text("update sentences set matches = :m"), {"m": matches})
    report = migrate.upgrade(engine)
    assert (report.before, report.after) == ("0005", migrate.head_revision())
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from daily_measures")).scalar_one() == 0  # read as zeros
    warehouse = Warehouse(engine)
    compute_signals(warehouse, date(2026, 11, 1), date(2026, 11, 1))
    rows = warehouse.signal_rows(date(2026, 11, 1), date(2026, 11, 1))
    irn = rows["IRN"][date(2026, 11, 1)]
    assert (irn["escalatory_texts"], irn["escalatory_outlets"], irn["active_outlets"]) == (1, 1, 1)
    assert irn["material_mass"] == pytest.approx(0.7) and irn["verbal_mass"] == 0


def test_a_warehouse_at_0006_reads_no_acts_until_its_signals_are_recomputed(engine):
    from pipeline.signals import compute_signals

    migrate.upgrade(engine, "0001")
    _fill_release_one(engine)
    migrate.upgrade(engine, "0005")
    with engine.begin() as conn:
        matches = '[{"category": "power_seizure", "effective_weight": 0.9}]'
        conn.execute(sa.text("update sentences set matches = :m"), {"m": matches})
    migrate.upgrade(engine, "0006")
    with engine.begin() as conn:  # a ranking row as 0006 wrote it
        conn.execute(
            sa.text(
                "insert into daily_measures (day, actor, escalatory_texts, escalatory_outlets, material_mass,"
                " verbal_mass, context_texts, active_outlets) values (:d, 'IRN', 1, 1, 0.9, 0, 0, 1)"
            ),
            {"d": date(2026, 11, 1)},
        )
    report = migrate.upgrade(engine)
    assert (report.before, report.after) == ("0006", migrate.head_revision())
    with engine.connect() as conn:  # the existing row got the column's default: no acts
        assert list(conn.execute(sa.text("select act_scores from daily_measures")).scalars()) == ["{}"]
    warehouse = Warehouse(engine)
    compute_signals(warehouse, date(2026, 11, 1), date(2026, 11, 1))
    irn = warehouse.signal_rows(date(2026, 11, 1), date(2026, 11, 1))["IRN"][date(2026, 11, 1)]
    assert set(irn["act_scores"]) == {"power_seizure"}


def test_a_warehouse_at_0007_reads_no_pairs_until_its_signals_are_recomputed(engine):
    from pipeline.signals import compute_signals

    migrate.upgrade(engine, "0001")
    _fill_release_one(engine)
    migrate.upgrade(engine, "0005")
    with engine.begin() as conn:  # every sentence a material act naming IRN (and the pair below)
        matches = '[{"category": "armed_attack", "effective_weight": 0.9}]'
        conn.execute(sa.text("update sentences set matches = :m"), {"m": matches})
        sentence_id = conn.execute(sa.text("select min(sentence_id) from sentences")).scalar_one()
        conn.execute(sa.text("insert into sentence_actors (sentence_id, actor) values (:s, 'ISR')"), {"s": sentence_id})
    migrate.upgrade(engine, "0007")
    with engine.begin() as conn:  # a ranking row as 0007 wrote it
        conn.execute(
            sa.text(
                "insert into daily_measures (day, actor, escalatory_texts, escalatory_outlets, material_mass,"
                " verbal_mass, context_texts, active_outlets, act_scores) values (:d, 'IRN', 1, 1, 0.9, 0, 0, 1, '{}')"
            ),
            {"d": date(2026, 11, 1)},
        )
    report = migrate.upgrade(engine)
    assert (report.before, report.after) == ("0007", migrate.head_revision())
    with engine.connect() as conn:  # the existing row got the column's default: no pairs
        assert list(conn.execute(sa.text("select pair_masses from daily_measures")).scalars()) == ["{}"]
    warehouse = Warehouse(engine)
    compute_signals(warehouse, date(2026, 11, 1), date(2026, 11, 1))
    irn = warehouse.signal_rows(date(2026, 11, 1), date(2026, 11, 1))["IRN"][date(2026, 11, 1)]
    assert set(irn["pair_masses"]) == {"ISR"}


def test_a_warehouse_at_0008_gets_each_feeds_outlet_and_counts_a_publisher_once(engine):
    from pipeline.signals import compute_signals

    migrate.upgrade(engine, "0001")
    _fill_release_one(engine)  # feed 1: https://f.example/rss, its article 1 with an IRN sentence
    migrate.upgrade(engine, "0008")
    feeds = {
        2: "https://www.f.example/world/rss",  # the same publisher's second feed
        3: "https://feeds.g.example:443/rss",  # a default port written out: no second outlet
        4: "archive:the-guardian",  # an archive's feed, no host: its own outlet
    }
    with engine.begin() as conn:
        for feed_id, url in feeds.items():
            conn.execute(
                sa.text("insert into feeds (feed_id, url, title, first_seen_at) values (:id, :url, 'F', :at)"),
                {"id": feed_id, "url": url, "at": STAMP},
            )
        for feed_id in (1, 2):  # article 1 came through both feeds of the publisher
            conn.execute(
                sa.text("insert into article_sources (article_id, feed_id, first_seen_at) values (1, :f, :at)"),
                {"f": feed_id, "at": STAMP},
            )
    report = migrate.upgrade(engine)
    assert (report.before, report.after) == ("0008", migrate.head_revision())
    with engine.connect() as conn:
        outlets = dict(conn.execute(sa.text("select feed_id, outlet from feeds")).all())
    assert outlets == {1: "f.example", 2: "f.example", 3: "feeds.g.example", 4: "archive:the-guardian"}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # every feed has one now
        conn.execute(
            sa.text("insert into feeds (feed_id, url, first_seen_at) values (5, 'https://h.example/rss', :at)"),
            {"at": STAMP},
        )
    warehouse = Warehouse(engine)
    compute_signals(warehouse, date(2026, 11, 1), date(2026, 11, 1))
    with engine.connect() as conn:
        sources = dict(conn.execute(sa.text("select actor, sources from daily_signals")).all())
    assert sources == {"IRN": 1, "ALL": 1}  # two feeds, one outlet
