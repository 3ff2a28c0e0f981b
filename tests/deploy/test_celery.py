"""CeleryExecutor for real: deploy/celery-local's stack runs escalation_ingest over slow local feeds.

One module fixture starts everything (PostgreSQL metadata + warehouse databases of its own, a Redis
database of its own, api-server, scheduler, dag-processor, triggerer, three Celery workers, flower),
lets the scheduler run escalation_ingest over 24 local feeds that each answer after 1.5 s, SIGKILLs
one worker (its whole process tree, as when a machine dies) while it runs feed tasks, waits for the
run and the asset-triggered escalation_signals run, and stops and purges everything. The feeds' items
are teasers whose article pages live on four local hosts, one of them slow: the two surviving
workers run the page tasks, and the slow host counts the requests it has in flight. The tests then
read the outcome: task instance records from the REST API, the warehouse against `escalation run`,
the slow host's peak against the per-host limit.

The run under test is the deployment's own 06:00 run: with catchup=False the scheduler creates the
latest interval's run as soon as the DAG is parsed (as docker-compose's stack does), and a manual
trigger would only queue behind it (max_active_runs=1).

Minutes, not seconds (6 min on the shared 2-core machine): Airflow process start-up, a 30 s
heartbeat timeout, the DAG's own retry delay of 2-4 min, a 120 s queued timeout for a task the dead
worker had only received. Marked `celery`: deselect with `-m "not celery"`. Needs PostgreSQL
(ESCALATION_TEST_PG_URL's server) and Redis on 127.0.0.1:6379; skipped without them unless
ESCALATION_REQUIRE_CELERY=1 (CI), which makes that a failure. The compose comparison at the end
starts nothing and always runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import psutil
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url
from test_compose import COMPOSE_FILE, environment, interpolate, sample_env

# The stack tests only; the compose comparison at the end is quick and runs everywhere.
stack_test = pytest.mark.celery

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "celery-local"
REDIS_URL = "redis://127.0.0.1:6379"
REQUIRE_ENV = "ESCALATION_REQUIRE_CELERY"
FEEDS = 24
FEED_DELAY_S = 1.5
WORKERS = 3  # worker-1 is killed; two survivors run the page tasks
SURVIVORS = {"worker-2", "worker-3"}
CONCURRENCY = 3
PAGE_HOSTS = 4  # host 0 is the slow one; story j of every feed links to host j
SLOW_PAGE_S = 1.0
FAST_PAGE_S = 0.1
PER_HOST = 2  # ESCALATION_ARTICLE_HOST_CONCURRENCY
HEARTBEAT_TIMEOUT_S = 30
QUEUED_TIMEOUT_S = 120
RUN_TIMEOUT_S = 900  # generous: the machine is shared, and the retry alone waits 2-4 min
MAPPED = "ingest_feed"


# -- feeds of our own words --------------------------------------------------------------------------
_ACTORS = ["Iran", "Israel", "Lebanon", "Syria", "Iraq", "Jordan", "Egypt", "Turkey"]
_STORIES = [
    ("{a} troops shelled villages near the {b} border",
     "{a} artillery shelled three villages near the {b} border overnight. Officials in {b} said the"
     " shelling damaged a school. {a} said it had answered rocket fire."),
    ("{a} and {b} agree to extend the ceasefire",
     "Negotiators from {a} and {b} agreed to extend the ceasefire for another month. Both sides said"
     " talks on prisoner exchanges would resume next week."),
    ("{a} warns {b} over naval drills",
     "The foreign ministry of {a} warned {b} that its naval drills were a provocation. A spokesman"
     " threatened retaliation if the ships came closer. Markets in {b} fell slightly."),
    ("Farmers in {a} expect a good olive harvest",
     "Growers across {a} said the rains came early this year. Cooperatives plan to sell more oil to"
     " buyers in {b}."),
]


def _feed_xml(index: int, page_origins: list[str]) -> str:
    """One RSS feed: four teaser items, dated over a week, naming two actors each; item j's page is on
    page host j."""
    items = []
    for j, (title, body) in enumerate(_STORIES):
        a, b = _ACTORS[(index + j) % len(_ACTORS)], _ACTORS[(index + 3 * j + 1) % len(_ACTORS)]
        published = datetime(2026, 11, 20, 7, tzinfo=UTC) + timedelta(days=(index + j) % 7, minutes=index)
        link = f"{page_origins[j % len(page_origins)]}/story/{index}/{j}"
        items.append(
            f"<item><title>{escape(title.format(a=a, b=b))}</title><link>{link}</link><guid>{link}</guid>"
            f"<pubDate>{format_datetime(published)}</pubDate>"
            f"<description>{escape(body.format(a=a, b=b))}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Celery test feed {index}</title><link>https://celery-feeds.example/{index}</link>"
        f"<description>feed {index}</description>{''.join(items)}</channel></rss>"
    )


class _Gate:
    """Holds feed responses while closed, so a task seen waiting on one cannot finish before the kill."""

    def __init__(self):
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._held: set[int] = set()

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def held(self) -> set[int]:
        with self._lock:
            return set(self._held)

    def pass_through(self, index: int) -> None:
        with self._lock:
            self._held.add(index)
        try:
            self._open.wait(timeout=300)
        finally:
            with self._lock:
                self._held.discard(index)


class _SlowFeeds(BaseHTTPRequestHandler):
    """Serves /feed-<i>.xml after FEED_DELAY_S (and while the server's gate is open), so feed tasks are
    still running when a worker dies."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        name = self.path.strip("/")
        if not (name.startswith("feed-") and name.endswith(".xml")):
            self.send_error(404)
            return
        index = int(name[5:-4])
        time.sleep(FEED_DELAY_S)
        self.server.gate.pass_through(index)
        body = _feed_xml(index, self.server.page_origins).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the killed worker's request

    def log_message(self, *args):
        pass


def _page_html(index: int, j: int) -> str:
    """The article behind item j of feed `index`: its teaser and two paragraphs more, our own words."""
    title, body = _STORIES[j]
    a, b = _ACTORS[(index + j) % len(_ACTORS)], _ACTORS[(index + 3 * j + 1) % len(_ACTORS)]
    paragraphs = [
        body.format(a=a, b=b),
        f"Residents of the area said they had heard about the events from relatives in {b}. Local"
        " officials promised to publish a fuller account once they had visited the places concerned.",
        f"Analysts in {a} said the coming days would show whether the news marked a change. Diplomats"
        f" from several countries were expected to discuss the situation in {b} later in the week.",
    ]
    text = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title.format(a=a, b=b))}'
        f"</title></head><body><nav><a href='/'>Home</a></nav><article><h1>{escape(title.format(a=a, b=b))}</h1>"
        f"{text}</article><footer>Copyright 2026 The Celery Test Courier</footer></body></html>"
    )


class _PageHost(BaseHTTPRequestHandler):
    """One article host: answers after its server's `delay_s` and counts the requests in flight."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        parts = self.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "story":
            self.send_error(404)  # robots.txt too: everything allowed
            return
        server = self.server
        with server.lock:
            server.in_flight += 1
            server.peak = max(server.peak, server.in_flight)
            server.requests += 1
        time.sleep(server.delay_s)
        # Out of flight before the answer goes out: once the client has it, it may send the next request
        # before this thread would get past the write (that would count one request too many).
        with server.lock:
            server.in_flight -= 1
        body = _page_html(int(parts[1]), int(parts[2])).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


def _start_page_host(delay_s: float) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHost)
    server.lock = threading.Lock()
    server.delay_s = delay_s
    server.in_flight = server.peak = server.requests = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _page_counts(server: ThreadingHTTPServer, reset: bool = False) -> dict[str, int]:
    with server.lock:
        counts = {"peak": server.peak, "requests": server.requests}
        if reset:
            server.peak = server.requests = 0
    return counts


# -- helpers -------------------------------------------------------------------------------------------
def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"the Celery stack is required ({REQUIRE_ENV}=1) but {reason}", pytrace=False)
    pytest.skip(f"Celery stack test skipped: {reason}")


def _server_url() -> str:
    url = os.environ.get("ESCALATION_TEST_PG_URL")
    if not url:
        _unavailable("ESCALATION_TEST_PG_URL is not set")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.SQLAlchemyError as exc:
        _unavailable(f"PostgreSQL is not reachable: {str(getattr(exc, 'orig', exc)).strip()[:200]}")
    finally:
        engine.dispose()
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def _redis_available() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis is not reachable on {REDIS_URL}: {exc}")


def _script(*args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def _query(url: str, sql: str, **params) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def _wait(predicate, timeout: float, what: str, every: float = 2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def _task_instances(metadata_url: str, dag_id: str, run_id: str) -> list[dict]:
    rows = _query(
        metadata_url,
        "select task_id, map_index, state, hostname, pid, try_number from task_instance"
        " where dag_id = :d and run_id = :r",
        d=dag_id,
        r=run_id,
    )
    keys = ("task_id", "map_index", "state", "hostname", "pid", "try_number")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _run_state(metadata_url: str, dag_id: str, run_id: str) -> str | None:
    rows = _query(metadata_url, "select state from dag_run where dag_id = :d and run_id = :r", d=dag_id, r=run_id)
    return rows[0][0] if rows else None


class _Api:
    """The stack's REST API with a SimpleAuthManager token."""

    def __init__(self, base: str, user: str, password: str):
        self.base = base
        request = urllib.request.Request(
            f"{base}/auth/token",
            data=json.dumps({"username": user, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            self.token = json.load(resp)["access_token"]

    def get(self, path: str) -> dict:
        request = urllib.request.Request(f"{self.base}{path}", headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.load(resp)


def _kill_tree(pid: int) -> list[int]:
    """SIGKILL a worker and every process under it (task runners sit in groups of their own)."""
    root = psutil.Process(pid)
    procs = [root, *root.children(recursive=True)]
    for proc in procs:
        try:
            proc.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=30)
    return [p.pid for p in procs]


# The stored corpus by natural keys (surrogate ids and which feed files a shared article depend on
# the order the tasks committed in), and the signals minus their computation time.
_CORPUS = {
    "articles": "select article_key, url, title, published_at, published_day, content_hash, sentence_count"
    " from articles",
    "sentences": "select a.article_key, s.seq, s.text, s.score, s.escalation, s.deescalation, s.matches,"
    " s.scorer_version from sentences s join articles a using (article_id)",
    "sentence_actors": "select a.article_key, s.seq, x.actor from sentence_actors x"
    " join sentences s using (sentence_id) join articles a using (article_id)",
    "article_sources": "select a.article_key, f.url from article_sources x"
    " join articles a using (article_id) join feeds f on f.feed_id = x.feed_id",
    "daily_signals": "select day, actor, articles, sources, sentences, escalatory_sentences,"
    " deescalatory_sentences, escalation_index, deescalation_index, max_score from daily_signals",
}


def _corpus(url: str) -> dict[str, list[tuple]]:
    return {name: sorted(_query(url, sql), key=repr) for name, sql in _CORPUS.items()}


# -- the one run -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def celery_run(tmp_path_factory):
    server_url = _server_url()
    _redis_available()
    root = tmp_path_factory.mktemp("celery")
    started = time.monotonic()

    page_hosts = [_start_page_host(SLOW_PAGE_S if i == 0 else FAST_PAGE_S) for i in range(PAGE_HOSTS)]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _SlowFeeds)
    httpd.gate = _Gate()
    httpd.page_origins = [f"http://127.0.0.1:{h.server_port}" for h in page_hosts]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    feeds_file = root / "feeds.yaml"
    feeds_file.write_text(
        "version: 1\nfeeds:\n"
        + "".join(
            f"  - {{name: feed {i}, url: 'http://127.0.0.1:{httpd.server_port}/feed-{i}.xml'}}\n"
            for i in range(FEEDS)
        )
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ESCALATION_"))}
    # The page hosts are on loopback; the small per-host delay leaves the concurrency limit to bind.
    env = {
        **clean,
        "ESCALATION_FEEDS_FILE": str(feeds_file),
        "ESCALATION_WORKERS": "1",
        "ESCALATION_ARTICLE_ALLOWED_NETWORKS": "127.0.0.0/8",
        "ESCALATION_ARTICLE_HOST_CONCURRENCY": str(PER_HOST),
        "ESCALATION_ARTICLE_HOST_DELAY_S": "0.05",
    }

    # The reference: the CLI's one cycle over the same feeds, into a database of its own.
    cli_db = f"escalation_cli_{uuid.uuid4().hex[:8]}"
    cli_url = make_url(server_url).set(database=cli_db).render_as_string(hide_password=False)
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{cli_db}"'))
    state_dir = root / "stack"
    outcome: dict = {"cli_url": cli_url}
    bystander = subprocess.Popen(["sleep", "600"], start_new_session=True)  # not the script's: must survive
    try:
        cli = subprocess.run(
            [str(Path(sys.executable).parent / "escalation"), "run", "--no-notify"],
            env={**env, "ESCALATION_DB_URL": cli_url, "PYTHONPATH": str(REPO)},
            capture_output=True, text=True, timeout=300,
        )
        assert cli.returncode == 0, cli.stdout + cli.stderr
        outcome["cli_slow_host"] = _page_counts(page_hosts[0], reset=True)

        start = _script(
            "start", "--state-dir", str(state_dir), "--postgres", server_url,
            "--workers", str(WORKERS), "--concurrency", str(CONCURRENCY), "--timeout", "600",
            "--airflow-config", f"scheduler__task_instance_heartbeat_timeout={HEARTBEAT_TIMEOUT_S}",
            "--airflow-config", "scheduler__task_instance_heartbeat_timeout_detection_interval=5",
            # A task the dead worker had received but not started stays unacked in Redis (visibility
            # timeout: a day); the scheduler's queued timeout revokes and re-queues it.
            "--airflow-config", f"scheduler__task_queued_timeout={QUEUED_TIMEOUT_S}",
            "--airflow-config", "scheduler__task_queued_timeout_check_interval=10",
            "--wait-dag", "escalation_ingest", "--wait-dag", "escalation_signals",
            env=env,
        )
        assert start.returncode == 0, start.stdout + start.stderr
        state = json.loads((state_dir / "state.json").read_text())
        outcome["state"] = state
        cfg = state["config"]
        metadata, warehouse = cfg["metadata_url"], cfg["warehouse_url"]
        outcome["warehouse_url"] = warehouse
        outcome["started_s"] = time.monotonic() - started

        run_id = _wait(
            lambda: (_query(metadata, "select run_id from dag_run where dag_id = 'escalation_ingest'") or [[None]])[0][0],
            120, "the scheduler to create the escalation_ingest run",
        )
        outcome["run_id"] = run_id

        # Kill worker-1 once it has finished a feed and is running others (the fetches take 1.5 s). The
        # gate holds every feed response from then on, so a worker-1 task whose request is held cannot
        # commit in the instant before SIGKILL lands: it must be retried.
        def running_on_worker_1():
            return [
                t for t in _task_instances(metadata, "escalation_ingest", run_id)
                if t["task_id"] == MAPPED and t["hostname"] == "worker-1" and t["state"] == "running"
            ]

        def worker_1_busy():
            tis = [t for t in _task_instances(metadata, "escalation_ingest", run_id) if t["task_id"] == MAPPED]
            done = [t for t in tis if t["hostname"] == "worker-1" and t["state"] == "success"]
            return bool(done and running_on_worker_1())

        _wait(worker_1_busy, RUN_TIMEOUT_S, "worker-1 to run feed tasks", every=0.5)
        httpd.gate.close()
        try:
            def held_on_worker_1():
                held = httpd.gate.held()
                running = running_on_worker_1()
                return (running, held) if any(t["map_index"] in held for t in running) else None

            victims, held = _wait(held_on_worker_1, 120, "a worker-1 feed task waiting on its feed", every=0.2)
            outcome["killed_pids"] = _kill_tree(state["services"]["worker-1"]["pid"])
        finally:
            httpd.gate.open()
        outcome["killed_map_indexes"] = sorted(t["map_index"] for t in victims)
        outcome["held_map_indexes"] = sorted(t["map_index"] for t in victims if t["map_index"] in held)
        outcome["killed_at_s"] = time.monotonic() - started

        final = _wait(
            lambda: _run_state(metadata, "escalation_ingest", run_id) in ("success", "failed")
            and _run_state(metadata, "escalation_ingest", run_id),
            RUN_TIMEOUT_S, "the escalation_ingest run to finish",
        )
        outcome["ingest_state"] = final
        signals_run = _wait(
            lambda: (_query(metadata, "select run_id, state from dag_run where dag_id = 'escalation_signals'"
                                      " and run_type = 'asset_triggered' and state in ('success', 'failed')")
                     or [None])[0],
            RUN_TIMEOUT_S, "the asset-triggered escalation_signals run",
        )
        outcome["signals_run"] = signals_run
        outcome["ran_s"] = time.monotonic() - started

        api = _Api(
            f"http://127.0.0.1:{cfg['api_port']}", "admin",
            json.loads((state_dir / "auth" / "passwords.json").read_text())["admin"],
        )
        outcome["api_tis"] = api.get(f"/api/v2/dags/escalation_ingest/dagRuns/{run_id}/taskInstances?limit=1000")
        outcome["signals_tis"] = _task_instances(metadata, "escalation_signals", signals_run[0])
        outcome["warehouse"] = _corpus(warehouse)
        outcome["article_keys"] = _query(warehouse, "select article_key, count(*) from articles group by article_key")
        outcome["cli"] = _corpus(cli_url)
        outcome["slow_host"] = _page_counts(page_hosts[0])
        outcome["page_states"] = {
            name: _query(url, "select page_state, body_source, count(*) from article_pages group by page_state, body_source")
            for name, url in (("stack", warehouse), ("cli", cli_url))
        }
    finally:
        stop = _script("stop", "--state-dir", str(state_dir), "--purge", timeout=300) if state_dir.exists() else None
        outcome["stop"] = stop
        outcome["bystander_alive"] = bystander.poll() is None
        bystander.kill()
        bystander.wait()
        httpd.shutdown()
        for host in page_hosts:
            host.shutdown()
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{cli_db}" with (force)'))
        admin.dispose()
    outcome["total_s"] = time.monotonic() - started
    print(
        f"\ncelery stack: up after {outcome['started_s']:.0f} s, worker-1 killed at {outcome['killed_at_s']:.0f} s,"
        f" runs done at {outcome['ran_s']:.0f} s, stopped at {outcome['total_s']:.0f} s"
    )
    return outcome


# -- what the run shows --------------------------------------------------------------------------------
def _mapped(celery_run) -> list[dict]:
    return [t for t in celery_run["api_tis"]["task_instances"] if t["task_id"] == MAPPED]


@stack_test
@pytest.mark.timeout(1800)
def test_every_mapped_feed_task_succeeded_and_the_signals_run_followed(celery_run):
    assert celery_run["ingest_state"] == "success"
    mapped = _mapped(celery_run)
    assert sorted(t["map_index"] for t in mapped) == list(range(FEEDS))
    assert {t["state"] for t in mapped} == {"success"}, [(t["map_index"], t["state"]) for t in mapped]
    others = [t for t in celery_run["api_tis"]["task_instances"] if t["task_id"] != MAPPED]
    states = {t["task_id"]: t["state"] for t in others if t["task_id"] != "fetch_pages"}
    assert states == dict.fromkeys(("list_feeds", "plan_pages", "finish_run"), "success"), states
    # One page task per host group; four hosts, so four groups.
    pages = [t for t in others if t["task_id"] == "fetch_pages"]
    assert sorted(t["map_index"] for t in pages) == list(range(PAGE_HOSTS)), pages
    assert {t["state"] for t in pages} == {"success"}, [(t["map_index"], t["state"]) for t in pages]
    assert celery_run["signals_run"][1] == "success"
    assert {t["state"] for t in celery_run["signals_tis"]} == {"success"}


@stack_test
@pytest.mark.timeout(1800)
def test_feed_tasks_ran_on_more_than_one_worker(celery_run):
    hosts = {t["hostname"] for t in _mapped(celery_run)}
    assert "worker-1" in hosts and len(hosts) > 1, hosts
    assert len({t["pid"] for t in _mapped(celery_run)}) > 1


@stack_test
@pytest.mark.timeout(1800)
def test_tasks_of_the_killed_worker_were_retried_on_the_survivor(celery_run):
    killed = set(celery_run["killed_map_indexes"])
    held = set(celery_run["held_map_indexes"])
    assert held and held <= killed
    victims = {t["map_index"]: t for t in _mapped(celery_run) if t["map_index"] in killed}
    # A held victim was waiting on its feed when SIGKILL landed: it cannot have finished on worker-1.
    for index in held:
        ti = victims[index]
        assert ti["hostname"] in SURVIVORS and ti["state"] == "success", (index, ti)
    # Any other victim seen running may still have committed its success in the instant before the kill:
    # it then stays worker-1's first try; otherwise it too ended on the survivor. (A task the dead worker
    # had only received is re-queued by task_queued_timeout and may keep its try number, so the host is
    # what tells.)
    for index, ti in victims.items():
        if not (ti["try_number"] == 1 and ti["hostname"] == "worker-1"):
            assert ti["hostname"] in SURVIVORS, (index, ti["hostname"], ti["try_number"])
    for pid in celery_run["killed_pids"]:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@stack_test
@pytest.mark.timeout(1800)
def test_no_duplicate_or_half_written_article(celery_run):
    assert all(count == 1 for _, count in celery_run["article_keys"])
    assert len(celery_run["article_keys"]) == FEEDS * len(_STORIES)
    stored = {}
    for key, seq, *_ in celery_run["warehouse"]["sentences"]:
        stored.setdefault(key, []).append(seq)
    for key, *_rest, sentence_count in celery_run["warehouse"]["articles"]:
        assert sorted(stored.get(key, [])) == list(range(len(stored.get(key, [])))), key
        assert len(stored.get(key, [])) == sentence_count > 0, key


@stack_test
@pytest.mark.timeout(1800)
def test_every_teaser_got_its_page_on_both_paths(celery_run):
    total = FEEDS * len(_STORIES)
    for path in ("stack", "cli"):
        assert celery_run["page_states"][path] == [("done", "page", total)], (path, celery_run["page_states"])


@stack_test
@pytest.mark.timeout(1800)
def test_the_slow_host_never_had_more_than_its_limit_in_flight_across_workers(celery_run):
    # Page tasks ran on the surviving workers, a host in one task only (its host group); the slow host
    # saw at most ARTICLE_HOST_CONCURRENCY requests at a time, and that many: the limit binds, not the load.
    pages = [t for t in celery_run["api_tis"]["task_instances"] if t["task_id"] == "fetch_pages"]
    assert {t["hostname"] for t in pages} <= SURVIVORS, pages
    per_host_pages = FEEDS  # story 0 of every feed
    for counts in (celery_run["slow_host"], celery_run["cli_slow_host"]):
        assert counts["requests"] == per_host_pages, counts
        assert counts["peak"] == PER_HOST, counts


@stack_test
@pytest.mark.timeout(1800)
def test_warehouse_equals_the_cli_run_over_the_same_feeds(celery_run):
    warehouse, cli = celery_run["warehouse"], celery_run["cli"]
    for table in _CORPUS:
        assert warehouse[table], table
        if table != "daily_signals":
            assert warehouse[table] == cli[table], table
    # The indexes are float sums over the day's sentences, which PostgreSQL adds in storage order, and
    # that order is the order the feed tasks committed in: equal up to rounding in the last digits.
    assert len(warehouse["daily_signals"]) == len(cli["daily_signals"])
    for ours, theirs in zip(warehouse["daily_signals"], cli["daily_signals"], strict=True):
        assert ours[:7] == theirs[:7]
        assert ours[7:] == pytest.approx(theirs[7:], rel=1e-12, abs=1e-12), ours[:2]


@stack_test
@pytest.mark.timeout(1800)
def test_stop_stopped_every_process_it_started_and_nothing_else(celery_run):
    stop = celery_run["stop"]
    assert stop is not None and stop.returncode == 0, stop and stop.stdout + stop.stderr
    for name, record in celery_run["state"]["services"].items():
        alive = psutil.pid_exists(record["pid"]) and psutil.Process(record["pid"]).create_time() == record["create_time"]
        assert not alive, name
    assert celery_run["bystander_alive"]
    databases = {make_url(u).database for u in (celery_run["warehouse_url"], celery_run["state"]["config"]["metadata_url"])}
    left = _query(
        make_url(celery_run["cli_url"]).set(database="postgres").render_as_string(hide_password=False),
        "select datname from pg_database",
    )
    assert not databases & {r[0] for r in left}


# -- docker-compose.yml's celery profile and deploy/celery-local say the same thing ---------------------
# Settings only the one-machine script has, each for a reason the containers do not share: a home
# and DAG folder on disk (the image bakes them in), free ports on 127.0.0.1 (containers own theirs),
# psycopg 3 for Airflow's async engine (the image ships asyncpg), one api-server worker on 2 cores.
ONE_MACHINE_ONLY = {
    "AIRFLOW_HOME",
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__API__BASE_URL",
    "AIRFLOW__API__WORKERS",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
    "PYTHONPATH",
}
# Servers the script takes from the machine instead of starting them.
EXTERNAL = {"postgres", "warehouse", "redis"}


def _celery_profile() -> dict[str, dict]:
    """The services `docker compose --profile celery up` starts, variables resolved as for a user's .env."""
    env = {**sample_env(), "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}
    resolved = yaml.safe_load(interpolate(COMPOSE_FILE.read_text(), env))
    return {n: s for n, s in resolved["services"].items() if "celery" in s.get("profiles", ["celery"])}


@pytest.fixture(scope="module")
def plan():
    result = _script("plan", "--workers", "3", env={**os.environ, "ESCALATION_FETCH_TIMEOUT_S": "7"}, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_script_starts_the_services_of_the_celery_profile(plan):
    compose = _celery_profile()
    started = {s["compose"] for s in plan["services"]}
    assert started == set(compose) - EXTERNAL - {"airflow-init"}
    workers = [s for s in plan["services"] if s["compose"] == "airflow-worker"]
    assert len(workers) == 3
    hostnames = [s["argv"][s["argv"].index("--celery-hostname") + 1] for s in workers]
    assert len(set(hostnames)) == 3
    assert len({s["env"]["CELERY_LOCAL_WORKER_HOSTNAME"] for s in workers}) == 3


def test_each_service_runs_the_compose_command(plan):
    compose = _celery_profile()
    for service in plan["services"]:
        command = compose[service["compose"]]["command"]
        words = command if isinstance(command, list) else command.split()
        assert service["argv"][0] == "airflow"  # the image's entrypoint
        assert service["argv"][1 : 1 + len(words)] == words, service["name"]


def test_init_runs_the_steps_of_airflow_init(plan):
    import shlex

    compose_init = _celery_profile()["airflow-init"]["command"][-1]
    steps = [
        shlex.split(line.strip())
        for line in compose_init.splitlines()
        if line.strip().startswith(("airflow ", "escalation "))
    ]
    assert steps == [step["argv"] for step in plan["init"]], compose_init


def test_the_script_sets_the_settings_of_x_airflow_common(plan):
    compose_env = environment(_celery_profile()["airflow-scheduler"])
    script_env = plan["env"]
    compose_airflow = {k for k in compose_env if k.startswith("AIRFLOW__")}
    script_airflow = {k for k in script_env if k.startswith("AIRFLOW")} | {"PYTHONPATH"}
    assert script_airflow - compose_airflow == ONE_MACHINE_ONLY
    assert compose_airflow - script_airflow == set()
    same_value = {
        "AIRFLOW__CORE__EXECUTOR",
        "AIRFLOW__CORE__LOAD_EXAMPLES",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK",
        "AIRFLOW__CORE__AUTH_MANAGER",
    }
    for key in same_value:
        assert script_env[key] == compose_env[key], key
    assert script_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(":")[1] == "admin"
    assert script_env["AIRFLOW__API_AUTH__JWT_SECRET"] and script_env["AIRFLOW__CORE__FERNET_KEY"]
    # The metadata DB, the Celery result backend in it, a Redis broker, a separate warehouse.
    for env in (compose_env, script_env):
        metadata = make_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        backend = env["AIRFLOW__CELERY__RESULT_BACKEND"]
        assert metadata.get_backend_name() == "postgresql"
        assert backend.startswith("db+") and make_url(backend[3:]).database == metadata.database
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        assert make_url(env["ESCALATION_DB_URL"]).database != metadata.database
    # Tasks reach the execution API of the api-server the stack runs.
    api = next(s for s in plan["services"] if s["name"] == "api-server")
    port = api["argv"][api["argv"].index("--port") + 1]
    assert script_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"http://127.0.0.1:{port}/execution/"
    assert compose_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    # Every pipeline setting reaches the services (compose passes each through from .env).
    assert script_env["ESCALATION_FETCH_TIMEOUT_S"] == "7"


def test_health_checks_match(plan):
    compose = _celery_profile()
    for service in plan["services"]:
        check = service["health"]
        text = json.dumps(compose[service["compose"]]["healthcheck"]["test"])
        if "http" in check:
            path = check["http"].split(":", 2)[2].split("/", 1)[1]
            assert f"/{path}" in text.replace("localhost:8080", "").replace("localhost:8974", "").replace(
                "localhost:5555", ""
            ), service["name"]
        elif "job" in check:
            assert f"--job-type {check['job']}" in text, service["name"]
        else:  # a worker: compose pings it through the broker, the script reads its "ready." line
            assert "inspect ping" in text
