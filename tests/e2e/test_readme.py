"""The newcomer test: README.md's commands, in README's order, on a fresh copy of the checkout.

The commands are read from README.md itself: every line of a ``bash`` or unlabelled fenced block
that starts with a command word (``escalation``, ``make``, ...), and every inline code span that is
a whole ``make`` / ``airflow`` / ``docker`` / ``deploy/celery-local`` / ``pip`` / ``cp`` /
``sqlite3`` command. Each one is either RUN here (with what README says it does checked on its
output) or listed in NOT_RUN with the reason; a README command that is in neither fails the test, and
so does an entry here that README no longer has. The ``sql`` and ``python`` blocks of "For
analysts" are run on the demo warehouse, and the DataFrame printed in README is compared with the
one the code gives.

The copy holds the git-tracked files only (what a clone holds). The install is set aside: the copy
gets a `.venv/bin` whose `python` and `escalation` are this test's interpreter on the copy's code
(so `make` finds its venv made and `escalation` is the copy's CLI).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(400)  # about a minute here; make run offline waits on DNS

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"

COMMAND_WORDS = ("escalation", "make", "airflow", "docker", "deploy/celery-local", "pip", "cp", "sqlite3")
_WORDS = "|".join(re.escape(w) for w in COMMAND_WORDS)
_COMMAND = re.compile(rf"^(?:[A-Z_]+=\S+ )*(?:{_WORDS}) \S")

DEMO = "sqlite:///data/demo.db"

# README commands this test cannot run here, each with why.
NOT_RUN = {
    "make test": "the whole suite, which holds this test; it is what runs this test",
    "ESCALATION_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test make test": "the whole suite again, with PostgreSQL",
    "make test PYTEST_ARGS=tests/unit": "a part of the suite; the suite runs it",
    "make install": "the install is set aside: the copy reuses the test's interpreter and its packages",
    "make audit": "needs PyPI's advisory data over the network (README says it has not been run here)",
    "pip install 'escalation-signals[analyst]'": "an install from a package index (network); the install is set aside",
    "sqlite3 data/warehouse.db": "an interactive SQL shell (the sqlite3 client need not be installed); the sql block is run instead",
    "airflow backfill create --dag-id escalation_signals --from-date 2026-10-01 --to-date 2026-10-31": "needs running Airflow services (scheduler, metadata DB); tests/e2e/test_dags.py runs the backfill with dag.test()",
    "airflow dags test escalation_ingest 2026-10-16": "needs a migrated Airflow metadata DB; tests/e2e/test_dags.py runs that date with dag.test()",
    "AIRFLOW__CORE__DAGS_FOLDER=$PWD/dags ESCALATION_DB_URL=postgresql+psycopg://… airflow standalone": "starts long-running Airflow services on a PostgreSQL warehouse",
    'airflow pools set escalation_fetch 8 "escalation feed fetches"': "needs Airflow's metadata database (set up by airflow standalone)",
    "airflow standalone": "starts long-running Airflow services (see the full command above)",
    "airflow db migrate": "done by deploy/celery-local on its own metadata database (tests/deploy/test_celery.py)",
    "cp .env.example .env": "the first step of the Docker compose stack; no Docker engine here",
    "docker compose up -d": "no Docker engine on the build machines (tests/deploy/test_compose.py checks the file)",
    "docker compose --profile celery up -d --scale airflow-worker=4": "no Docker engine on the build machines",
    "deploy/celery-local start --workers 2 --concurrency 4": "starts a Celery stack on PostgreSQL and Redis (minutes; tests/deploy/test_celery.py, marker celery)",
    "make celery-up CELERY_WORKERS=2": "the same Celery stack through make",
    "deploy/celery-local status": "needs a started Celery stack",
    "make celery-down": "needs a started Celery stack",
}


def readme_items(text: str) -> list[tuple[str, str]]:
    """README's commands and its sql/python blocks, in document order, each once:
    (kind, text) with kind "command", "sql" or "python"."""
    items: list[tuple[str, str]] = []
    prose: list[str] = []
    fence: str | None = None
    block: list[str] = []

    def flush_prose() -> None:
        # Inline spans may wrap over a line break: read a paragraph run as one line.
        for span in re.findall(r"`([^`]+)`", " ".join(prose)):
            span = " ".join(span.split())
            # `escalation alerts` in a sentence names a command; three words or more are one to run.
            if _COMMAND.match(span) and (not span.startswith("escalation ") or len(span.split()) >= 3):
                items.append(("command", span))
        prose.clear()

    for line in text.splitlines():
        if line.startswith("```"):
            if fence is None:
                flush_prose()
                fence = line[3:].strip()
                block = []
            else:
                if fence in ("sql", "python"):
                    items.append((fence, "\n".join(block)))
                fence = None
            continue
        if fence is None:
            prose.append(line)
        elif fence in ("sql", "python"):
            block.append(line)
        elif fence in ("", "bash", "sh"):
            command = re.sub(r"\s+#\s.*$", "", line).strip()
            if _COMMAND.match(command):
                items.append(("command", " ".join(command.split())))
    flush_prose()
    seen: set[tuple[str, str]] = set()
    return [item for item in items if not (item in seen or seen.add(item))]


# ---- what README promises, per command -------------------------------------------------------


class Checkout:
    def __init__(self, root: Path, env: dict[str, str]):
        self.root = root
        self.env = env

    def sh(self, command: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _ok(result: subprocess.CompletedProcess, *needles: str) -> None:
    out = result.stdout + result.stderr
    assert result.returncode == 0, f"exit {result.returncode}:\n{out[-3000:]}"
    for needle in needles:
        assert needle in out, f"{needle!r} not in the output:\n{out[-3000:]}"


def _json_lines(result: subprocess.CompletedProcess) -> list[dict]:
    _ok(result)
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def run_make_run(co: Checkout, readme: str) -> None:
    result = co.sh("make run", timeout=300)
    _ok(result, "Feeds", "feeds ok / failed")
    summary = re.search(r"feeds ok / failed\s*│\s*(\d+) / (\d+)", result.stdout)
    assert summary, result.stdout[-2000:]
    if summary.group(1) == "0":  # offline: README's example reason, and the way on to the demo
        said = re.search(r"every feed fails with its reason \(e\.g\. (.*?)\), the command", " ".join(readme.split()))
        reasons = re.findall(r"`([^`]+)`", said.group(1)) if said else []
        assert reasons, "README no longer gives the offline reason"
        assert any(reason in result.stdout for reason in reasons), (reasons, result.stdout[-2000:])
        said = " ".join((result.stdout + result.stderr).split())  # the console wraps long lines
        assert "`make demo` runs the same cycle on the bundled sample feeds, offline" in said, said[-500:]
    assert (co.root / "data" / "warehouse.db").is_file()


def run_make_demo(co: Checkout, readme: str) -> None:
    result = co.sh("make demo", timeout=300)
    _ok(result, "Now try (the demo's articles are from 2026-10-01 to 2026-10-16)")
    tries = [line.strip() for line in result.stdout.splitlines() if line.startswith("  .venv/bin/escalation ")]
    assert len(tries) == 4 and all(f"--db {DEMO} " in t for t in tries), result.stdout[-2000:]
    # README: "the exact commands": each one works as printed.
    for command in tries:
        out = co.sh(command)
        _ok(out)
        assert "Alerts (0)" not in out.stdout and "no rows" not in out.stderr, (command, out.stdout[-2000:])
    assert (co.root / "report.html").stat().st_size > 1_000_000
    # "On the demo warehouse (`make demo`)": the notebook example reads this one, as made.
    (co.root / "fresh-demo" / "data").mkdir(parents=True)
    shutil.copy2(co.root / "data" / "demo.db", co.root / "fresh-demo" / "data" / "demo.db")


def _demo(co: Checkout, command: str, **kw) -> subprocess.CompletedProcess:
    return co.sh(command, env={"ESCALATION_DB_URL": DEMO}, **kw)


ARCHIVE = [
    {"outlet": "Readme Wire", "title": "Border guards exchanged fire overnight", "description": "Two soldiers were wounded.", "link": "https://readme.example/a1", "date_published": "2026-10-12T08:00:00Z"},
    {"outlet": "Readme Post", "title": "Envoys agree to resume talks", "description": "A ceasefire was discussed.", "link": "https://readme.example/a2", "date_published": "2026-10-12T09:00:00Z"},
]
LABELLED = [
    ("Missiles struck the capital overnight, killing dozens.", 4), ("The army shelled border villages.", 4),
    ("Warplanes bombed the city again.", 4), ("Militants attacked a police post.", 4),
    ("The minister threatened sanctions against the neighbour.", 3), ("Officials condemned the provocation.", 3),
    ("Leaders traded harsh accusations.", 3), ("The envoy was expelled after the row.", 3),
    ("The two sides signed a trade agreement.", 1), ("Ministers met to discuss cooperation.", 1),
    ("The countries agreed to a ceasefire.", 1), ("Talks resumed in Geneva.", 1),
    ("The leaders expressed hope for peace.", 2), ("Diplomats called for calm.", 2),
    ("The foreign minister visited the capital.", 2), ("The sides pledged dialogue.", 2),
]  # fmt: skip
EVENTS = """\
escalations:
  - {name: demo strikes, actors: [USA, SYR, IRQ], first: 2026-10-12, last: 2026-10-14}
quiet: []
"""


def run_make_lint(co: Checkout, _: str) -> None:
    _ok(co.sh("make lint"), "All checks passed")


def run_full_cycle(co: Checkout, _: str) -> None:
    _ok(_demo(co, "escalation run --feeds samples/demo_feeds.yaml --no-notify"), "Feeds", "feeds ok / failed")


def run_ingest(co: Checkout, _: str) -> None:
    # Into a warehouse of its own: the demo's feed under another name is another feed to the demo's.
    env = {"ESCALATION_DB_URL": "sqlite:///data/ingest.db"}
    result = co.sh("escalation ingest samples/feeds/meridian_wire.xml", env=env)
    _ok(result, "meridian_wire.xml", "signals not computed: `escalation signals --since")
    new = re.search(r"meridian_wire\.xml\s*│\s*ok\s*│\s*(\d+)\s*│\s*(\d+)", result.stdout)
    assert new and int(new.group(2)) > 0, result.stdout
    again = co.sh("escalation ingest samples/feeds/meridian_wire.xml", env=env)  # idempotent
    _ok(again)
    assert re.search(r"meridian_wire\.xml\s*│\s*ok\s*│\s*\d+\s*│\s*0\s*│", again.stdout), again.stdout


def run_import(co: Checkout, _: str) -> None:
    import gzip

    with gzip.open(co.root / "archive.jsonl.gz", "wt") as out:
        out.writelines(json.dumps(row) + "\n" for row in ARCHIVE)
    first = _demo(co, "escalation import archive.jsonl.gz")
    _ok(first)
    again = _demo(co, "escalation import archive.jsonl.gz")  # idempotent
    _ok(again)
    con = sqlite3.connect(co.root / "data" / "demo.db")
    try:
        assert con.execute("select count(*) from articles where url like 'https://readme.example/%'").fetchone()[0] == 2
    finally:
        con.close()


def run_score(co: Checkout, _: str) -> None:
    _ok(co.sh('escalation score "Text to explain"'))
    result = co.sh("escalation score \"Iran won't strike the base, officials said.\"")
    _ok(result, "strike", "negation")  # matched terms and modifiers


def run_score_jsonl(co: Checkout, _: str) -> None:
    (co.root / "texts.txt").write_text("Troops shelled the town.\nThe sides agreed to a ceasefire.\n")
    rows = _json_lines(co.sh("escalation score --jsonl --workers 2 < texts.txt"))
    assert len(rows) == 2 and rows[0]["score"] > 0.2 > -0.2 > rows[1]["score"]  # in input order
    for key in ("text", "score", "escalation", "deescalation", "matches"):
        assert key in rows[0]["sentences"][0]


def run_signals(co: Checkout, command: str) -> None:
    _ok(_demo(co, command))


def run_detect(co: Checkout, command: str) -> None:
    _ok(_demo(co, command), "mode backtest")  # "a past range is a backtest"


def run_alerts_json(co: Checkout, command: str) -> None:
    rows = _json_lines(_demo(co, command))
    assert rows and all(row["evidence"] and row["day"] >= "2026-10-01" for row in rows)


def run_incidents(co: Checkout, _: str) -> None:
    before = (co.root / "data" / "demo.db").stat().st_mtime_ns
    _ok(_demo(co, "escalation incidents --since 2026-10-01"), "USA")
    rows = _json_lines(_demo(co, "escalation incidents --since 2026-10-01 --json"))
    assert rows and {"actors", "opened", "peak_severity", "paged", "evidence"} <= rows[0].keys()
    assert (co.root / "data" / "demo.db").stat().st_mtime_ns == before  # reads only


def run_incidents_range(co: Checkout, _: str) -> None:
    for mode in ("live", "backtest"):
        rows = _json_lines(_demo(co, f"escalation incidents --since 2026-10-01 --until 2026-10-31 --mode {mode} --json"))
        assert rows and all(row["mode"] == mode for row in rows)


def run_backtest(co: Checkout, _: str) -> None:
    (co.root / "events.yaml").write_text(EVENTS)
    _ok(_demo(co, "escalation backtest --events events.yaml"), "demo strikes")


def run_backtest_full(co: Checkout, _: str) -> None:
    (co.root / "events.yaml").write_text(EVENTS)
    result = _demo(co, "escalation backtest --events events.yaml --since 2026-10-01 --until 2026-10-16 --json --list")
    _ok(result, "demo strikes")
    json.loads(result.stdout)


def run_rescore(co: Checkout, _: str) -> None:
    _ok(_demo(co, "escalation rescore --since 2026-10-01 --until 2026-10-16"))


def run_eval(co: Checkout, _: str) -> None:
    lines = "".join(f"{text}\t{label}\n" for text, label in LABELLED * 2)
    (co.root / "labelled.tsv").write_text(lines)
    (co.root / "other.tsv").write_text(lines)
    _ok(co.sh("escalation eval labelled.tsv"), "escalation scorer", "VADER", "TF-IDF + LR")
    _ok(co.sh("escalation eval labelled.tsv --train other.tsv"), "VADER", "TF-IDF + LR")


def run_query_synopsis(co: Checkout, _: str) -> None:
    _ok(_demo(co, "escalation query spike_drivers -p actor=IRN -p day=2026-10-16"), "spike_drivers")
    for fmt in ("csv", "json", "parquet"):
        _ok(_demo(co, f"escalation query spike_drivers -p actor=IRN -p day=2026-10-16 --format {fmt} --out q.{fmt}"))
        assert (co.root / f"q.{fmt}").stat().st_size > 0


def run_export_synopsis(co: Checkout, _: str) -> None:
    for what in ("signals", "sentences"):
        for fmt in ("csv", "json", "parquet"):
            out = f"{what}.{fmt}"
            _ok(_demo(co, f"escalation export {what} --since 2026-10-13 --until 2026-10-13 --format {fmt} --out {out}"))
            assert (co.root / out).stat().st_size > 0


def run_report(co: Checkout, _: str) -> None:
    _ok(_demo(co, "escalation report --since 2026-10-01 --until 2026-10-16 --actors IRN,USA --out report-readme.html"))
    html = (co.root / "report-readme.html").read_text()
    assert "Content-Security-Policy" in html and "IRN" in html


def run_db(co: Checkout, _: str) -> None:
    _ok(_demo(co, "escalation db upgrade"))
    _ok(_demo(co, "escalation db current"), "head")


def run_alerts_db(co: Checkout, command: str) -> None:
    # No ESCALATION_DB_URL at all: --db chooses the warehouse. Its default window (the last 30 days)
    # misses the demo's October days, and the empty answer says so, naming the warehouse.
    result = co.sh(command)
    _ok(result, f"in {DEMO}", "its articles are from 2026-10-01 to 2026-10-16")


def run_incidents_mode(co: Checkout, command: str) -> None:
    _ok(_demo(co, command + " --since 2026-10-01"))


def run_detect_backtest(co: Checkout, _: str) -> None:
    _ok(_demo(co, "escalation detect --since 2026-10-01 --until 2026-10-16 --no-notify"), "mode backtest")


def run_query_list(co: Checkout, command: str) -> None:
    _ok(_demo(co, command), "top_escalating_actors", "spike_drivers", "data_range")


def run_data_range(co: Checkout, command: str) -> None:
    _ok(_demo(co, command), "2026-10-01", "2026-10-16")


def run_relative_window(co: Checkout, command: str) -> None:
    # README: on the demo warehouse a relative window is empty, and the command says so with its days.
    _ok(_demo(co, command), "its articles are from 2026-10-01 to 2026-10-16")


def run_to_file(co: Checkout, command: str) -> None:
    _ok(_demo(co, command))
    out = command.split("--out ")[1] if "--out " in command else command.split("> ")[1]
    assert (co.root / out.split()[0]).stat().st_size > 100


RUN: dict[str, Callable[[Checkout, str], None]] = {
    "make run": run_make_run,
    "make demo": run_make_demo,
    "make lint": run_make_lint,
    "escalation run [--feeds FILE] [--no-notify]": run_full_cycle,
    "escalation ingest SOURCE...": run_ingest,
    "escalation import archive.jsonl.gz": run_import,
    'escalation score "Text to explain"': run_score,
    "escalation score --jsonl [--workers N] < texts.txt": run_score_jsonl,
    "escalation signals --since 2026-10-01 --until 2026-10-16": run_signals,
    "escalation detect --since 2026-10-01 --until 2026-10-16 --no-notify": run_detect,
    "escalation alerts --since 2026-10-01 --json": run_alerts_json,
    "escalation incidents --since 2026-10-01 [--json]": run_incidents,
    "escalation backtest --events events.yaml": run_backtest,
    "escalation rescore [--since D] [--until D]": run_rescore,
    "escalation eval labelled.tsv [--train other.tsv]": run_eval,
    "escalation query NAME -p key=value [--format table|csv|json|parquet] [--out FILE]": run_query_synopsis,
    "escalation export signals|sentences --since D --until D [--format csv|json|parquet] [--out FILE]": run_export_synopsis,
    "escalation report --since D --until D [--actors IRN,USA] --out report.html": run_report,
    "escalation db upgrade | escalation db current": run_db,
    "escalation db upgrade": run_db,
    "escalation db current": run_db,
    "escalation score --jsonl": run_score_jsonl,
    "escalation report --since 2026-10-01 --until 2026-10-16 --actors IRN,USA --out report.html": run_report,
    "escalation alerts --db sqlite:///data/demo.db": run_alerts_db,
    "escalation incidents --since 2026-10-01 --until 2026-10-31 [--mode live|backtest] [--json]": run_incidents_range,
    "escalation detect --since D --until D --no-notify": run_detect_backtest,
    "escalation incidents --mode backtest": run_incidents_mode,
    "escalation backtest --events FILE.yaml [--since D --until D] [--json] [--list]": run_backtest_full,
    "escalation query --list": run_query_list,
    "escalation query data_range": run_data_range,
    "escalation query top_escalating_actors -p since=-7 -p until=0": run_relative_window,
    "escalation query spike_drivers -p actor=IRN -p day=2026-10-13 --format csv --out irn.csv": run_to_file,
    "escalation export signals --since 2026-09-01 --until 2026-10-31 --format parquet --out signals.parquet": run_to_file,
    "escalation export sentences --since 2026-10-13 --until 2026-10-13 > sentences.csv": run_to_file,
}


def run_sql(co: Checkout, block: str) -> None:
    con = sqlite3.connect(co.root / "data" / "demo.db")
    try:
        statements = [s for s in re.sub(r"--[^\n]*", "", block).split(";") if s.strip()]
        assert len(statements) == 2
        for statement in statements:
            assert con.execute(statement).fetchall(), statement  # each example answers on the demo
    finally:
        con.close()


def run_python(co: Checkout, block: str) -> None:
    """Run the notebook example on the demo warehouse; the DataFrame README prints must be the one
    the code gives (README's `# day  value value` lines)."""
    code = "\n".join(line for line in block.splitlines() if not line.startswith("#"))
    statements = [s for s in re.split(r"\n(?=\S)", code) if s.strip()]
    script = "\n".join(s if "=" in s.split("(")[0] or s.startswith(("from ", "import ")) else f"print(repr({s}))" for s in statements)
    result = co.sh(f"cd fresh-demo && python - <<'EOF'\nimport pandas as pd\npd.set_option('display.width', 200)\n{script}\nEOF")
    _ok(result)
    printed = [line.split() for line in result.stdout.splitlines()]
    for expected in re.findall(r"^# (\d{4}-\d\d-\d\d)\s+([-\d.]+)\s+([-\d.]+)", block, re.M):
        assert list(expected) in [row[:3] for row in printed], (expected, result.stdout[:2000])


BLOCKS = {"sql": run_sql, "python": run_python}


def _fresh_checkout(dest: Path) -> Checkout:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the work tree is not there
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    bin_dir = dest / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, tail in (("python", ""), ("escalation", " -m pipeline.cli"), ("ruff", " -m ruff")):
        (bin_dir / name).write_text(f'#!/bin/sh\nexec {sys.executable}{tail} "$@"\n')
        (bin_dir / name).chmod(0o755)
    (dest / ".venv" / ".installed").touch()  # newer than the requirements: make installs nothing
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESCALATION_", "MAKE", "PYTEST"))}
    env.update(PYTHONPATH=str(dest), PATH=f"{bin_dir}:{env.get('PATH', '')}", COLUMNS="160")
    return Checkout(dest, env)


def test_every_readme_command_is_run_or_listed():
    items = readme_items(README.read_text())
    commands = [text for kind, text in items if kind == "command"]
    unknown = [c for c in commands if c not in RUN and c not in NOT_RUN]
    assert not unknown, f"README commands neither run nor listed in NOT_RUN: {unknown}"
    stale = [c for c in (*RUN, *NOT_RUN) if c not in commands]
    assert not stale, f"no longer in README: {stale}"
    assert sorted(kind for kind, _ in items if kind != "command") == ["python", "sql"]


def test_readme_commands_in_order_on_a_fresh_checkout(tmp_path: Path):
    readme = README.read_text()
    co = _fresh_checkout(tmp_path / "checkout")
    where = co.sh("python -c 'import pipeline; print(pipeline.__file__)'")
    assert where.stdout.startswith(str(co.root)), where.stdout + where.stderr  # the copy's code
    failures = []
    for kind, text in readme_items(readme):
        if kind == "command" and text in NOT_RUN:
            continue
        try:
            if kind == "command":
                RUN[text](co, text if text not in ("make run", "make demo") else readme)
            else:
                BLOCKS[kind](co, text)
        except (AssertionError, subprocess.TimeoutExpired) as exc:
            failures.append(f"{text}: {exc}")
            if text == "make demo":  # everything after it reads the demo warehouse
                break
    assert not failures, "\n\n".join(failures)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
