"""SIGINT and SIGTERM at many moments of a real `escalation run` (a subprocess on the demo feeds):
each time one line and exit code 130, no run left `running`, and after the next plain run the
warehouse holds exactly what a clean run stores, every alert delivered once to the webhook.

The moments are SQL statements: a `sitecustomize` put on the child's path counts the statements the
process sends and signals itself just before the N-th one (N spread over a whole clean run: schema
set-up, feeds, the page step, signals, alerts and their deliveries, the summary), plus three moments
by the clock after the first statement, which fall between statements (fetching, parsing, scoring)."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import REPO, escalation, schema_url

HOOK = '''
import atexit, os, signal, threading
_at, _after, _count_to = (os.environ.get(k) for k in ("HOOK_AT_STATEMENT", "HOOK_AFTER_S", "HOOK_COUNT_TO"))
_sig = getattr(signal, os.environ.get("HOOK_SIGNAL", "SIGINT"))
if _at or _count_to:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    _n = [0]

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(*_args):
        _n[0] += 1
        if _at and _n[0] == int(_at):
            os.kill(os.getpid(), _sig)

    if _count_to:
        atexit.register(lambda: open(_count_to, "w").write(str(_n[0])))
_started = []
if _after:  # the clock starts at the first statement: the command is at work
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def _start(*_args):
        if not _started:
            def _stop():
                if os.environ.get("HOOK_SENT"):
                    open(os.environ["HOOK_SENT"], "w").close()
                os.kill(os.getpid(), _sig)

            _started.append(threading.Timer(float(_after), _stop))
            _started[0].daemon = True
            _started[0].start()
'''


class Webhook:
    """A local webhook that records every incident page (and alert) POSTed to it."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def take(self) -> list[tuple]:
        keys = sorted(
            (p["type"], p["day"], p.get("actor") or "/".join(p.get("actors", ())), p["kind"], p.get("reason"))
            for p in self.received
            if p["type"] in ("escalation_alert", "escalation_incident")
        )
        self.received.clear()
        return keys


@pytest.fixture(scope="module")
def webhook():
    hook = Webhook()
    yield hook
    hook.server.shutdown()


def _run(db_url: str, hook_dir: Path, webhook: Webhook, **hook_env: str):
    env = {
        "PYTHONPATH": f"{hook_dir}:{REPO}",
        "ESCALATION_WEBHOOK_URL": webhook.url,
        "ESCALATION_ARTICLE_FETCH": "0",  # the demo's page server is not running here
        **hook_env,
    }
    return escalation("run", "--feeds", "samples/demo_feeds.yaml", db_url=db_url, env=env, timeout=120)


def _cell(value) -> str:
    return f"{value:.6f}" if isinstance(value, float) else str(value)


def snapshot(db_url: str) -> dict[str, list]:
    """What a run stores, without ids, run ids and times (floats to 6 places: either dialect)."""
    engine = sa.create_engine(db_url)
    queries = {
        "articles": "select article_key, title, url, published_day, sentence_count from articles",
        "sentences": "select a.article_key, s.seq, s.text, s.score, s.scorer_version"
        " from sentences s join articles a on a.article_id = s.article_id",
        "actors": "select a.article_key, s.seq, sa.actor from sentence_actors sa"
        " join sentences s on s.sentence_id = sa.sentence_id join articles a on a.article_id = s.article_id",
        "sources": "select a.article_key, f.url from article_sources x"
        " join articles a on a.article_id = x.article_id join feeds f on f.feed_id = x.feed_id",
        "signals": "select day, actor, articles, sources, sentences, escalatory_sentences,"
        " deescalatory_sentences, escalation_index, deescalation_index, max_score from daily_signals",
        "alerts": "select day, actor, kind, severity, measure, value, baseline, surprise, articles, sources,"
        " mode, evidence from alerts",
        "deliveries": "select a.day, a.actor, a.kind, d.channel, d.status from alert_deliveries d"
        " join alerts a on a.alert_id = d.alert_id",
        "incidents": "select mode, kind, lead, opened, actors, closed, severity, alerts, paged_severity, first_paged"
        " from incidents",
        "page_deliveries": "select i.kind, i.lead, p.day, p.reason, p.severity, d.channel, d.status"
        " from page_deliveries d join incident_pages p on p.page_id = d.page_id"
        " join incidents i on i.incident_id = p.incident_id",
    }
    with engine.connect() as conn:
        found = {
            name: sorted(tuple(map(_cell, row)) for row in conn.execute(sa.text(sql))) for name, sql in queries.items()
        }
    engine.dispose()
    found["runs"] = run_statuses(db_url)
    return found


def run_statuses(db_url: str) -> list[str]:
    """The statuses of the pipeline runs ([] when the run was stopped before the schema existed)."""
    if db_url.startswith("sqlite") and not Path(db_url.removeprefix("sqlite:///")).exists():
        return []
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        statuses = conn.execute(sa.text("select status from pipeline_runs")).scalars().all() if "pipeline_runs" in tables else []
    engine.dispose()
    return sorted(statuses)


class Warehouses:
    """Fresh warehouses of one backend: SQLite files, or PostgreSQL schemas (dropped at the end)."""

    def __init__(self, backend: str, tmp: Path, pg_url: str | None):
        self.backend, self.tmp, self.pg_url, self.schemas = backend, tmp, pg_url, []

    def new(self, name: str) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp / f'{name}.db'}"
        schema = f"esc_interrupt_{uuid.uuid4().hex[:10]}"
        self._admin(f'create schema "{schema}"')
        self.schemas.append(schema)
        return schema_url(self.pg_url, schema)

    def _admin(self, sql: str) -> None:
        engine = sa.create_engine(self.pg_url)
        with engine.begin() as conn:
            conn.execute(sa.text(sql))
        engine.dispose()

    def drop(self) -> None:
        for schema in self.schemas:
            self._admin(f'drop schema "{schema}" cascade')


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouses(request, tmp_path):
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    made = Warehouses(request.param, tmp_path, pg_url)
    yield made
    made.drop()


def clean_run(warehouses: Warehouses, webhook: Webhook):
    """A clean run: its warehouse, its webhook posts and how many statements it sent."""
    tmp = warehouses.tmp
    (tmp / "sitecustomize.py").write_text(HOOK)
    db_url = warehouses.new("clean")
    result = _run(db_url, tmp, webhook, HOOK_COUNT_TO=str(tmp / "count"))
    assert result.returncode == 0, result.stderr
    state = snapshot(db_url)
    assert state["alerts"] and state["runs"] == ["success"]
    posts = webhook.take()
    assert posts and len(posts) == len(set(posts))
    return state, posts, int((tmp / "count").read_text())


def _moments(statements: int, count: int) -> list[dict[str, str]]:
    spread = sorted({1 + round(i * (statements - 1) / (count - 1)) for i in range(count)})
    moments = [
        {"HOOK_AT_STATEMENT": str(n), "HOOK_SIGNAL": ("SIGINT", "SIGTERM")[i % 2]} for i, n in enumerate(spread)
    ]
    timed = [{"HOOK_AFTER_S": str(s), "HOOK_SIGNAL": ("SIGINT", "SIGTERM")[i % 2]} for i, s in enumerate((0.05, 0.15, 0.3))]
    return [*moments, *timed]


def test_an_interrupted_run_loses_nothing(tmp_path, warehouses, webhook):
    state, posts, statements = clean_run(warehouses, webhook)
    assert statements > 100  # the moments below cover a real run
    # 22 statements spread over the run on SQLite; 10 on PostgreSQL (the same code, a slower server)
    for number, moment in enumerate(_moments(statements, 22 if warehouses.backend == "sqlite" else 10)):
        db_url = warehouses.new(f"w{number}")
        (tmp_path / "sitecustomize.py").write_text(HOOK)
        sent = tmp_path / f"sent{number}"
        stopped = _run(db_url, tmp_path, webhook, **moment, HOOK_SENT=str(sent))
        label = f"moment {moment}"
        timed = "HOOK_AFTER_S" in moment
        if timed and stopped.returncode == 0:  # a timer may fire after a fast run ended, not before
            assert not sent.exists(), f"{label}: the stop was taken for a failure and the run went on"
        else:
            assert stopped.returncode == 130, f"{label}: {stopped.returncode} {stopped.stderr[-500:]}"
            assert "Traceback" not in stopped.stderr, label
            last = [line for line in stopped.stderr.splitlines() if line.strip()][-1]
            assert last.startswith("interrupted: "), f"{label}: {last}"
            runs = run_statuses(db_url)
            assert runs in ([], ["interrupted"], ["success"]), f"{label}: {runs}"  # never `running`
        again = _run(db_url, tmp_path, webhook)
        assert again.returncode == 0, f"{label}: {again.stderr[-500:]}"
        after = snapshot(db_url)
        for table in (name for name in state if name != "runs"):
            assert after[table] == state[table], f"{label}: {table} differs from the clean run's"
        assert webhook.take() == posts, f"{label}: each incident page must reach the webhook exactly once"


def _archive(path: Path) -> Path:
    lines = [
        {
            "outlet": f"outlet{i % 3}",
            "title": f"Troops shelled the border town {i} as talks collapsed",
            "description": "Militias fired rockets at the base. Officials vowed retaliation.",
            "link": f"https://news.example/{i}",
            "date_published": f"2026-10-{1 + i % 20:02d}T08:00:00Z",
        }
        for i in range(60)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.mark.parametrize("command", ["ingest", "import", "signals", "detect"])
def test_other_commands_stop_with_one_line_and_a_consistent_warehouse(tmp_path, webhook, command):
    (tmp_path / "sitecustomize.py").write_text(HOOK)
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    env = {"PYTHONPATH": f"{tmp_path}:{REPO}", "ESCALATION_ARTICLE_FETCH": "0", "ESCALATION_WEBHOOK_URL": webhook.url}
    feeds = sorted(str(p.relative_to(REPO)) for p in (REPO / "samples" / "feeds").glob("*.xml"))
    args = {
        "ingest": ("ingest", *feeds),
        "import": ("import", str(_archive(tmp_path / "a.jsonl"))),
        "signals": ("signals", "--since", "2026-10-01", "--until", "2026-10-16"),
        "detect": ("detect", "--since", "2026-10-01", "--until", "2026-12-31"),  # live: it ends in the future
    }[command]
    assert escalation("db", "upgrade", db_url=db_url, env=env).returncode == 0
    if command in ("signals", "detect"):
        assert escalation("ingest", *feeds, db_url=db_url, env=env).returncode == 0
        assert escalation("signals", "--since", "2026-10-01", "--until", "2026-10-16", db_url=db_url, env=env).returncode == 0
    counted = tmp_path / "count"
    before = snapshot(db_url)
    # How many statements the command sends (on a copy), then a stop half-way through them.
    trial = f"sqlite:///{tmp_path / 'trial.db'}"
    Path(trial.removeprefix("sqlite:///")).write_bytes(Path(db_url.removeprefix("sqlite:///")).read_bytes())
    assert escalation(*args, db_url=trial, env={**env, "HOOK_COUNT_TO": str(counted)}).returncode in (0, 1)
    half = int(counted.read_text()) // 2
    stopped = escalation(*args, db_url=db_url, env={**env, "HOOK_AT_STATEMENT": str(half), "HOOK_SIGNAL": "SIGTERM"})
    assert stopped.returncode == 130, stopped.stderr
    lines = [line for line in stopped.stderr.splitlines() if line.strip() and not line.startswith("ALERT")]
    assert len(lines) == 1 and lines[0].startswith("interrupted: ") and "Traceback" not in stopped.stderr, lines
    statuses = run_statuses(db_url)
    assert "running" not in statuses
    if command == "ingest":
        assert statuses == ["interrupted"]
        assert escalation(*args, db_url=db_url, env=env).returncode == 0  # the same ingest stores the rest
    if command == "import":
        assert escalation(*args, db_url=db_url, env=env).returncode == 0  # the same import continues
        assert snapshot(db_url)["articles"] == snapshot(trial)["articles"]
    if command == "signals":
        assert snapshot(db_url) == before  # one transaction: nothing changed
    if command == "detect":
        assert statuses == ["interrupted", "success"]  # the ingest, and the range left for the next run
        webhook.take()
        assert escalation("run", "--feeds", "samples/demo_feeds.yaml", db_url=db_url, env=env).returncode == 0
        sent = webhook.take()
        assert len(sent) == len(set(sent))
        after = snapshot(db_url)
        assert after["alerts"] and all(d[-1] == "sent" for d in after["deliveries"])
