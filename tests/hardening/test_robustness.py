"""Crash and concurrency safety, hostile strings and secrets: real subprocesses, real databases.

- kill -9 in the middle of a run, then run again: no duplicate, no article without its sentences,
  and signals equal to those of one clean run;
- two ingests of overlapping feeds at the same time (PostgreSQL and SQLite): the same warehouse as
  one sequential ingest, no deadlock left unhandled;
- hostile strings stored verbatim (NUL aside) on both dialects; secrets never in any output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import sqlalchemy as sa
from helpers import article, fetch_record

from pipeline.articles import ArticleRecord, SentenceRecord

REPO = Path(__file__).resolve().parents[2]
DAY0 = date(2026, 10, 1)
LINES = [
    "Iran-backed militias fired rockets at a base in Syria and vowed to increase their attacks.",
    "Qatar offered to mediate talks on a ceasefire between Israel and Hamas.",
    "The United States deployed a carrier group to the eastern Mediterranean.",
    "Hezbollah warned of serious consequences if the strikes continue.",
    "Markets in Ankara closed higher on Tuesday.",
]


def write_feeds(folder: Path, feeds: int, items: int, shared_every: int = 5) -> dict[str, set[str]]:
    """RSS files; every `shared_every`-th item of a feed is also carried by the next feed, so some
    articles have two sources. Returns guid -> the feed files that carry it."""
    folder.mkdir(parents=True, exist_ok=True)
    carriers: dict[str, set[str]] = {}
    for f in range(feeds):
        path = folder / f"feed{f:03d}.xml"
        entries = []
        for i in range(items):
            owner = f - 1 if (i % shared_every == 0 and f > 0) else f  # shared with the previous feed
            guid = f"https://news.example/{owner}/{i}"  # a URL guid is global: shared items are one article
            carriers.setdefault(guid, set()).add(str(path))
            when = datetime.combine(
                DAY0 + timedelta(days=i % 10), datetime.min.time(), tzinfo=UTC
            ) + timedelta(hours=owner % 20)
            body = " ".join(LINES[(i + k + owner) % len(LINES)] for k in range(4))
            entries.append(
                f"<item><guid>{guid}</guid><title>Story {owner}-{i}</title>"
                f"<link>https://news.example/{owner}/{i}</link><pubDate>{format_datetime(when)}</pubDate>"
                f"<description>{escape(body)}</description></item>"
            )
        path.write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {f}</title><link>https://feed{f}.example/</link><description>t</description>"
            + "".join(entries)
            + "</channel></rss>"
        )
    return carriers


def feed_list(folder: Path, files: list[Path], name: str) -> Path:
    path = folder / name
    path.write_text("version: 1\nfeeds:\n" + "".join(f"  - name: {p.stem}\n    url: {p}\n" for p in files))
    return path


def cli(*args: str, db_url: str, extra_env: dict | None = None, **popen) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESCALATION_")}
    env.update({"ESCALATION_DB_URL": db_url, **(extra_env or {})})
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A whole database per test (subprocesses cannot share the per-test PostgreSQL schema trick)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.db'}"
        return
    pg_url = request.getfixturevalue("pg_url")
    name = f"esc_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    yield sa.make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database "{name}" with (force)'))
    admin.dispose()


def snapshot(db_url: str) -> dict:
    engine = sa.create_engine(db_url)
    q = sa.text
    with engine.connect() as conn:
        state = {
            "articles": sorted(conn.execute(q("select article_key, sentence_count from articles")).all()),
            "incomplete": conn.execute(
                q(
                    "select count(*) from articles as a where a.sentence_count <> "
                    "(select count(*) from sentences as s where s.article_id = a.article_id)"
                )
            ).scalar_one(),
            "sentences": conn.execute(q("select count(*) from sentences")).scalar_one(),
            "sources": sorted(
                conn.execute(
                    q(
                        "select a.article_key, f.url from article_sources as x join articles as a "
                        "on a.article_id = x.article_id join feeds as f on f.feed_id = x.feed_id"
                    )
                ).all()
            ),
            "signals": sorted(
                tuple(round(v, 9) if isinstance(v, float) else str(v) for v in row)
                for row in conn.execute(
                    q(
                        "select day, actor, articles, sources, sentences, escalatory_sentences, "
                        "escalation_index, deescalation_index from daily_signals"
                    )
                ).all()
            ),
        }
    engine.dispose()
    return state


def test_kill_9_half_way_then_run_again(database_url, tmp_path):
    write_feeds(tmp_path / "feeds", feeds=60, items=50)
    feeds = feed_list(tmp_path, sorted((tmp_path / "feeds").glob("*.xml")), "feeds.yaml")
    args = ("run", "--feeds", str(feeds), "--no-notify")

    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    clean = cli(*args, db_url=clean_url)
    assert clean.wait(300) == 0, clean.stderr.read()
    expected = snapshot(clean_url)
    assert len(expected["articles"]) > 2000

    victim = cli(*args, db_url=database_url)
    engine = sa.create_engine(database_url)
    deadline = time.monotonic() + 120
    stored = 0
    try:
        while time.monotonic() < deadline and victim.poll() is None:
            try:
                with engine.connect() as conn:
                    stored = conn.execute(sa.text("select count(*) from articles")).scalar_one()
            except sa.exc.SQLAlchemyError:
                stored = 0  # schema not created yet
            if stored >= 100:
                break
            time.sleep(0.01)
    finally:
        engine.dispose()
    assert victim.poll() is None, "the run finished before it could be killed: make the feeds bigger"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(30)
    assert victim.returncode == -signal.SIGKILL

    after_kill = snapshot(database_url)
    assert 100 <= len(after_kill["articles"]) < len(expected["articles"])
    assert after_kill["incomplete"] == 0  # a feed batch is one transaction: all of it or nothing

    again = cli(*args, db_url=database_url)
    assert again.wait(300) == 0, again.stderr.read()
    final = snapshot(database_url)
    assert final == expected  # same articles, sentences, sources and signals as one clean run


# "worker processes": every feed is split and parsed and scored in worker processes, its parts'
# articles written as they arrive (the streamed transaction), with the other run writing meanwhile.
@pytest.mark.parametrize(
    "processes",
    [{}, {"ESCALATION_WORKERS": "2", "ESCALATION_PARALLEL_MIN_BYTES": "0"}],
    ids=["one process", "worker processes"],
)
def test_two_overlapping_ingests_at_once(database_url, tmp_path, processes):
    carriers = write_feeds(tmp_path / "feeds", feeds=30, items=40)
    files = sorted((tmp_path / "feeds").glob("*.xml"))
    first = feed_list(tmp_path, files[:20], "first.yaml")
    second = feed_list(tmp_path, files[10:][::-1], "second.yaml")  # overlap, in the other order

    init = cli("db", "upgrade", db_url=database_url)
    assert init.wait(60) == 0, init.stderr.read()
    runs = [
        cli("run", "--feeds", str(f), "--no-notify", db_url=database_url, extra_env=processes)
        for f in (first, second)
    ]
    for run in runs:
        assert run.wait(300) == 0, run.stderr.read()

    state = snapshot(database_url)
    assert state["incomplete"] == 0
    assert len(state["articles"]) == len(carriers) == len({key for key, _ in state["articles"]})
    guid_sources = {}
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        for guid, url in conn.execute(
            sa.text(
                "select a.guid, f.url from article_sources as x join articles as a on a.article_id = x.article_id "
                "join feeds as f on f.feed_id = x.feed_id"
            )
        ):
            guid_sources.setdefault(guid, set()).add(url)
        per_feed_logs = conn.execute(sa.text("select count(*) from fetch_log")).scalar_one()
    engine.dispose()
    assert guid_sources == carriers  # every carrying feed counted once as a source
    assert per_feed_logs == 40  # 20 + 20 fetches, none lost

    sequential_url = f"sqlite:///{tmp_path / 'sequential.db'}"
    for f in (first, second):
        assert cli("run", "--feeds", str(f), "--no-notify", db_url=sequential_url).wait(300) == 0
    expected = snapshot(sequential_url)
    assert state["articles"] == expected["articles"] and state["sources"] == expected["sources"]
    assert state["signals"] == expected["signals"]


HOSTILE = [
    'O\'Brien said "no"; --',
    "'; drop table articles; --",
    "Robert'); DELETE FROM sentences WHERE ('1'='1",
    "right-to-left \u202eevil\u202c override and \u200b zero width",
    "emoji \U0001f4a5 and CJK 北京 and Arabic طهران",
    "back\\slash \\u0000 literal",
    "<script>alert(1)</script>",
]


def test_hostile_strings_are_stored_verbatim(warehouse):
    big_title = "T" * 1_000_000
    records = [
        ArticleRecord(
            article_key=f"hostile-{i}",
            guid=text,
            url=f"https://news.example/{i}?q={text}",
            title=text,
            published_at=datetime(2026, 10, 1, 12, tzinfo=UTC),
            date_source="published",
            content_hash=str(i),
            sentences=(
                SentenceRecord(
                    0, text, 0.5, 0.5, 0.0, json.dumps([{"term": "attack", "surface": text}]), ("IRN",)
                ),
            ),
        )
        for i, text in enumerate(HOSTILE)
    ]
    records.append(
        ArticleRecord(**{**article("big", date(2026, 10, 1), [(0.1, ())]).__dict__, "title": big_title})
    )
    nul = ArticleRecord(
        **{
            **article("nul", date(2026, 10, 1), [(0.1, ())]).__dict__,
            "title": "before\x00after",
            "sentences": (
                SentenceRecord(0, "text\x00with nul", 0.1, 0.1, 0.0, json.dumps([{"surface": "a\x00b"}]), ()),
            ),
        }
    )
    records.append(nul)
    warehouse.store_feed_batch(
        fetch_record("https://hostile.example/rss'; drop table feeds; --"), records, "r", "v"
    )

    with warehouse.engine.connect() as conn:
        titles = dict(conn.execute(sa.text("select article_key, title from articles")).all())
        texts = dict(
            conn.execute(
                sa.text(
                    "select a.article_key, s.text from sentences as s join articles as a on a.article_id = s.article_id"
                )
            ).all()
        )
        feeds = conn.execute(sa.text("select url from feeds")).scalars().all()
        tables = set(sa.inspect(conn).get_table_names())
    for i, text in enumerate(HOSTILE):
        assert titles[f"hostile-{i}"] == text and texts[f"hostile-{i}"] == text
    assert titles["big"] == big_title
    assert titles["nul"] == "beforeafter" and texts["nul"] == "textwith nul"  # only NUL is dropped
    assert feeds == ["https://hostile.example/rss'; drop table feeds; --"]
    assert {"articles", "sentences", "feeds"} <= tables
    if warehouse.engine.dialect.name == "postgresql":
        with warehouse.engine.connect() as conn:  # the matches JSON stays valid jsonb
            assert conn.execute(sa.text("select count(*) from escalation_sentences")).scalar_one() == len(
                HOSTILE
            )


def test_secrets_never_reach_any_output(database_url, tmp_path):
    secrets = {
        "ESCALATION_WEBHOOK_URL": "http://127.0.0.1:9/hooks/WEBHOOK-SECRET-1",
        "ESCALATION_SLACK_WEBHOOK_URL": "http://127.0.0.1:9/services/SLACK-SECRET-2",
        "ESCALATION_SMTP_HOST": "127.0.0.1",
        "ESCALATION_SMTP_PORT": "9",
        "ESCALATION_SMTP_USER": "alerts",
        "ESCALATION_SMTP_PASSWORD": "SMTP-SECRET-3",
        "ESCALATION_ALERT_EMAIL_TO": "oncall@example.org",
        "ESCALATION_NOTIFY_MIN_SEVERITY": "watch",
    }
    db_url = database_url
    if db_url.startswith("postgresql"):  # trust auth ignores the password, so it can be a canary
        db_url = sa.make_url(db_url).set(password="DB-SECRET-4").render_as_string(hide_password=False)
    run = cli(
        "run",
        "--feeds",
        "samples/demo_feeds.yaml",
        db_url=db_url,
        extra_env=secrets,
    )
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    alerts = cli(
        "alerts", "--since", "2026-10-01", "--until", "2026-10-16", "--json", db_url=db_url, extra_env=secrets
    )
    alerts_out, alerts_err = alerts.communicate(timeout=60)
    bad_db = cli(
        "signals", db_url="postgresql+psycopg://u:DB-SECRET-4@127.0.0.1:1/x"
    )  # nothing listens on :1
    bad_out, bad_err = bad_db.communicate(timeout=60)
    assert bad_db.returncode == 2 and "cannot connect" in bad_err

    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        # People are paged through incidents (page_deliveries); alerts go to the log (alert_deliveries).
        errors = " ".join(
            e or ""
            for table in ("alert_deliveries", "page_deliveries")
            for e in conn.execute(sa.text(f"select last_error from {table}")).scalars()
        )
        failed = conn.execute(
            sa.text("select count(*) from page_deliveries where status = 'failed'")
        ).scalar_one()
    engine.dispose()
    assert failed > 0, "the canary channels must have been tried (and failed)"
    everything = out + err + alerts_out + alerts_err + bad_out + bad_err + errors
    for canary in ("WEBHOOK-SECRET-1", "SLACK-SECRET-2", "SMTP-SECRET-3", "DB-SECRET-4"):
        assert canary not in everything
