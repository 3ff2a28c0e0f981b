"""The `escalation` command line: thin wrappers over the pipeline functions (the DAGs call the same ones)."""

from __future__ import annotations

import errno
import importlib
import json
import re
import sys
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pipeline.clock import parse_day, today_utc
from pipeline.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    import typer
else:

    class _LazyModule:
        """A module imported on first attribute access: the commands' signatures name typer.Option and
        typer.Argument, which typer itself evaluates when it builds the app (see _LazyTyper)."""

        def __init__(self, name: str):
            self._name = name

        def __getattr__(self, attribute: str) -> Any:
            return getattr(importlib.import_module(self._name), attribute)

    typer = _LazyModule("typer")


class _LazyTyper:
    """A typer.Typer built on first use: the decorators only record the commands, callbacks and
    sub-apps, in order, and the real app is built from them when it is called or looked into.
    `escalation score --jsonl` (main()'s fast path) never builds it, and importing typer was a
    fifth of that command's start-up."""

    def __init__(self, **options: Any):
        self._options = options
        self._registered: list[tuple[str, tuple[Any, ...], dict[str, Any], Callable[..., Any] | None]] = []
        self._app: typer.Typer | None = None

    def _record(self, kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Callable[..., Any]:
        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            if self._app is not None:  # already built: register on the real app
                return getattr(self._app, kind)(*args, **kwargs)(function)
            self._registered.append((kind, args, kwargs, function))
            return function

        return register

    def command(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._record("command", args, kwargs)

    def callback(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._record("callback", args, kwargs)

    def add_typer(self, sub: _LazyTyper, **kwargs: Any) -> None:
        if self._app is not None:
            self._app.add_typer(sub.real(), **kwargs)
        else:
            self._registered.append(("add_typer", (sub,), kwargs, None))

    def real(self) -> typer.Typer:
        if self._app is None:
            import typer as real_typer

            app = real_typer.Typer(**self._options)
            for kind, args, kwargs, function in self._registered:
                if kind == "add_typer":
                    app.add_typer(args[0].real(), **kwargs)
                else:
                    getattr(app, kind)(*args, **kwargs)(function)
            self._app = app
        return self._app

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.real()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in ("_options", "_registered", "_app"):  # a copy or pickle asking before __init__ ran
            raise AttributeError(name)
        return getattr(self.real(), name)  # typer's own code reads private ones (_add_completion)


app = _LazyTyper(
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold secrets (webhook URLs, DB passwords)
    no_args_is_help=True,
    # Plain help: flags without the rich panels' type column (which showed `--json <bool>`, a value
    # the flag does not take) and lines that fit any terminal.
    rich_markup_mode=None,
    help="Escalation signals from news feeds: ingest, score, daily actor signals, spike alerts.",
)
if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table
else:

    class _Rich:
        """A rich class, imported when first called: `escalation score --jsonl` draws nothing, and
        importing rich (and building its consoles) was a tenth of that command's start-up."""

        def __init__(self, module: str, name: str):
            self._module, self._name = module, name

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            # A progress bar or a live display gets the console itself, not its stand-in.
            args = tuple(a.real() if isinstance(a, _LazyConsole) else a for a in args)
            kwargs = {k: v.real() if isinstance(v, _LazyConsole) else v for k, v in kwargs.items()}
            return getattr(importlib.import_module(self._module), self._name)(*args, **kwargs)

    Console = _Rich("rich.console", "Console")
    BarColumn = _Rich("rich.progress", "BarColumn")
    MofNCompleteColumn = _Rich("rich.progress", "MofNCompleteColumn")
    Progress = _Rich("rich.progress", "Progress")
    TextColumn = _Rich("rich.progress", "TextColumn")
    TimeElapsedColumn = _Rich("rich.progress", "TimeElapsedColumn")
    Table = _Rich("rich.table", "Table")


class _LazyConsole:
    """A rich Console built on first use (see _Rich)."""

    def __init__(self, **options: Any):
        self._options = options
        self._console: Any = None

    def real(self) -> Any:
        if self._console is None:
            options = dict(self._options)
            if options.pop("wide_when_piped", False):
                # Piped output (CI logs, files) gets a wide page instead of rich's 80-column default.
                options["width"] = None if Console().is_terminal else 160
            self._console = Console(**options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)

    def __enter__(self) -> Any:
        return self.real().__enter__()

    def __exit__(self, *exc: object) -> None:
        self.real().__exit__(*exc)


console: Console = _LazyConsole(wide_when_piped=True)  # type: ignore[assignment]
err_console: Console = _LazyConsole(stderr=True)  # type: ignore[assignment]


def escape(text: str) -> str:
    """rich.markup.escape, imported when an error is printed (see _Rich)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


class UserError(Exception):
    """A problem the user can fix (bad flag, bad file); printed as one line, exit code 2."""


_db_url: str | None = None  # this invocation's --db, which overrides ESCALATION_DB_URL


def _settings() -> Settings:
    return load_settings().with_overrides(db_url=_db_url)


@app.callback()
def _options(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="Warehouse URL for this command, e.g. sqlite:///data/demo.db (overrides ESCALATION_DB_URL);"
            " also accepted after the command name",
        ),
    ] = None,
) -> None:
    global _db_url
    _db_url = db


def _db_first(args: list[str]) -> list[str]:
    """`escalation alerts --db URL` as `escalation --db URL alerts`: --db is the app's option, and a
    user writes it after the command as often as before (nothing after `--` is touched)."""
    end = args.index("--") if "--" in args else len(args)
    head, rest, moved = args[:end], args[end:], []
    i = 0
    while i < len(head):
        if head[i] == "--db" and i + 1 < len(head):
            moved += head[i : i + 2]
            del head[i : i + 2]
        elif head[i].startswith("--db="):
            moved.append(head.pop(i))
        else:
            i += 1
    return [*moved, *head, *rest]


def _parse_day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_day(value, name)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _day_range(since: str | None, until: str | None, default_days: int) -> tuple[date, date]:
    until_day = _parse_day(until, "--until") or today_utc()
    since_day = _parse_day(since, "--since") or until_day - timedelta(days=default_days - 1)
    if since_day > until_day:
        raise UserError(f"--since {since_day} is after --until {until_day}")
    return since_day, until_day


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


@dataclass
class _Stop:
    """What an `interrupted:` line says stays; a command updates it as its work progresses."""

    what: str


class _Stopped(Exception):
    """A command stopped by SIGINT/SIGTERM; main() prints its one line and exits 130."""


@contextmanager
def _interruptible(what: str) -> Generator[_Stop, None, None]:
    """Around a command's work: a SIGINT/SIGTERM (main() turns them into KeyboardInterrupt with
    pipeline.interrupts) ends it with one line saying what stays, exit code 130."""
    stop = _Stop(what)
    try:
        yield stop
    except BaseException as exc:
        from pipeline import interrupts

        if interrupts.is_stop(exc):  # the stop, maybe in disguise
            raise _Stopped(stop.what) from None
        raise


def _feed_table(outcomes: list, names: dict[str, str] | None = None) -> Table:
    table = Table(title="Feeds", show_lines=False)
    table.add_column("feed", overflow="fold")
    table.add_column("status")
    table.add_column("entries", justify="right")
    table.add_column("new articles", justify="right")
    table.add_column("sentences", justify="right")
    table.add_column("reason", overflow="fold")
    for o in outcomes:
        label = (names or {}).get(o.source, o.source)
        if o.ok:
            status = "[green]not modified[/]" if o.not_modified else "[green]ok[/]"
        else:
            status = "[red]failed[/]"
        reason = o.error or (f"bozo: {o.bozo_reason}" if o.bozo_reason else "")
        table.add_row(label, status, str(o.entries_seen), str(o.new_articles), str(o.new_sentences), reason)
    return table


NARROW = 110  # below this many columns the alerts table would fold a date or a headline word by word


def _alerts_table(alerts: list[dict], width: int | None = None):
    """The alerts as a table, or on a narrow terminal as two lines each: the spike, then its top
    evidence in full."""
    from pipeline.channels import copies_note

    if (width or console.width) < NARROW:
        from rich.console import Group
        from rich.text import Text

        lines = [Text(f"Alerts ({len(alerts)})", style="bold")]
        for a in alerts:
            evidence = a.get("evidence") or []
            measure = "count" if str(a.get("measure", "")).endswith("_sentences") else "index"
            lines.append(
                Text(
                    f"{a['day']} {a['actor']} {a['kind']} {a['severity']}: {measure} {a['value']:.2f}"
                    f" vs baseline {a['baseline']:.2f}, surprise {a['surprise']:.1f}"
                )
            )
            if evidence:
                lines.append(Text(f"    {evidence[0]['text'][:300]}{copies_note(evidence[0])}", style="dim"))
        return Group(*lines)
    table = Table(title=f"Alerts ({len(alerts)})")
    for column in (
        "day",
        "actor",
        "kind",
        "severity",
        "measure",
        "value",
        "baseline",
        "surprise",
        "top evidence",
    ):
        table.add_column(column, overflow="fold")
    for a in alerts:
        evidence = a.get("evidence") or []
        top = evidence[0]["text"][:160] + copies_note(evidence[0]) if evidence else ""
        table.add_row(
            str(a["day"]),
            str(a["actor"]),
            str(a["kind"]),
            str(a["severity"]),
            # the index, or the count of (de-)escalatory sentences, whichever spiked more
            "count" if str(a.get("measure", "")).endswith("_sentences") else "index",
            f"{a['value']:.2f}",
            f"{a['baseline']:.2f}",
            f"{a['surprise']:.1f}",
            top,
        )
    return table


def _top_sentences_table(rows: list[dict], title: str) -> Table:
    from pipeline.channels import copies_note

    table = Table(title=title)
    table.add_column("score", justify="right")
    table.add_column("sentence", overflow="fold")
    table.add_column("terms", overflow="fold")
    table.add_column("source", overflow="fold")
    for row in rows:
        terms = ", ".join(sorted({m["term"] for m in row["matches"] if m["effective_weight"] > 0}))
        table.add_row(f"{row['score']:+.2f}", row["text"] + copies_note(row), terms, row.get("url") or "")
    return table


def _feed_progress_line(p) -> str:
    """'ingesting feed.xml (25.1 MB): 12,000 items, part 3 of 16' for the progress bar."""
    from rich.markup import escape

    name = p.source.rstrip("/").rsplit("/", 1)[-1] or p.source
    parts = f", part {p.parts_done} of {p.parts}" if p.parts else ""
    return f"ingesting {escape(name[:40])} ({p.bytes / 1e6:.1f} MB): {p.items:,} items{parts}"


def _pages_line(pages) -> str:
    """The page step in one line: 'pages: 3 read, 1 failed (http 404: 1), 1 to retry, 0 not scored'."""
    reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(pages.reasons.items()))
    return (
        f"pages: {pages.done} read, {pages.failed} failed, {pages.retry} to retry, {pages.not_scored} not scored"
        + (f" ({reasons})" if reasons else "")
    )


@app.command()
def run(
    feeds: Annotated[
        Path | None, typer.Option(help="Feed list (YAML); default: ESCALATION_FEEDS_FILE or feeds.yaml")
    ] = None,
    trigger: Annotated[str, typer.Option(help="Recorded as the run's trigger")] = "cli",
    notify: Annotated[bool, typer.Option("--notify/--no-notify", help="Deliver new alerts")] = True,
) -> None:
    """One full cycle: ingest every feed of the list, compute signals for the days touched, detect spikes."""
    from pipeline.feeds import load_feed_list
    from pipeline.ingest import build_context, run_cycle

    settings = _settings()
    specs = load_feed_list(feeds or settings.feeds_file)
    names = {spec.url: spec.name for spec in specs}
    with _interruptible(
        "the run is marked interrupted; what it stored stays, the next `escalation run` completes it"
    ) as stop:
        ctx = build_context(settings)
        with _progress() as progress:
            task = progress.add_task("ingesting feeds", total=len(specs))
            report = run_cycle(
                [spec.url for spec in specs],
                ctx,
                trigger=trigger,
                notify=notify,
                on_feed_done=lambda outcome: progress.advance(task),
            )
        stop.what = f"run {report.run_id} had finished ({report.status}); only its summary was cut short"
        console.print(_feed_table(report.feeds, names))
        summary = Table(title=f"Run {report.run_id}: {report.status}", show_header=False)
        summary.add_row("feeds ok / failed", f"{report.feeds_ok} / {report.feeds_failed}")
        summary.add_row("new articles", str(report.new_articles))
        summary.add_row("new sentences", str(report.new_sentences))
        summary.add_row("article pages", _pages_line(report.pages))
        days = f"{report.days[0]} .. {report.days[-1]}" if report.days else "none"
        summary.add_row("days recomputed", days)
        summary.add_row("signal rows", str(report.signal_rows))
        summary.add_row("alerts", str(len(report.alerts)))
        console.print(summary)
        top = ctx.warehouse.top_sentences(run_id=report.run_id, limit=5)
        if top:
            console.print(_top_sentences_table(top, "Top escalatory sentences of this run"))
        if report.alerts:
            console.print(_alerts_table(report.alerts))
        if report.feeds and not report.feeds_ok:
            err_console.print(
                "no feed could be read (offline?): `make demo` runs the same cycle on the bundled sample"
                " feeds, offline (or: escalation run --feeds samples/demo_feeds.yaml)",
                highlight=False,
                soft_wrap=True,
            )


@app.command()
def ingest(
    sources: Annotated[list[str], typer.Argument(metavar="SOURCE", help="http(s) URLs or local paths of RSS/Atom/RDF feeds")],
) -> None:
    """Fetch, parse, clean, split, score, tag and store the given feeds (idempotent); no signals.

    Exit code 0 when the ingest completed, as for `run`: a feed that failed is in the table with
    its reason (and the run's status is partial or failed), not in the exit code."""
    from dataclasses import replace

    from pipeline.ingest import build_context, run_ingest, touched_days

    settings = _settings()
    with _interruptible(
        "the ingest run is marked interrupted; what it stored stays, the same ingest again stores the rest"
    ) as stop:
        ctx = build_context(settings)
        with _progress() as progress:
            task = progress.add_task("ingesting feeds", total=len(sources))
            ctx = replace(
                ctx, on_feed_progress=lambda p: progress.update(task, description=_feed_progress_line(p))
            )
            _, outcomes, pages = run_ingest(sources, ctx, on_feed_done=lambda o: progress.advance(task))
        stop.what = "the ingest had finished; only its summary was cut short"
        console.print(_feed_table(outcomes))
        console.print(_pages_line(pages))
        days = sorted({*touched_days(outcomes), *pages.days})
        if days:  # ingest stores; `run` (or `signals` and `detect`) turns that into signals and alerts
            err_console.print(
                f"signals not computed: `escalation signals --since {days[0]} --until {days[-1]}` does,"
                " or `escalation run`, which ingests, computes and detects in one go",
                highlight=False,
                soft_wrap=True,
            )


@app.command()
def score(
    text: Annotated[str | None, typer.Argument(help="Text to score; omit to read stdin")] = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Read one text per line from stdin, write JSON lines")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(help="--jsonl: worker processes (default: one per core; 1, streaming, from a terminal)"),
    ] = None,
) -> None:
    """Explain the escalation score of a text: each sentence, matched terms, weights and modifiers."""
    if jsonl:
        _score_jsonl(workers)
        return
    from pipeline.score import load_scorer

    scorer = load_scorer(_settings().scoring.lexicon_file)
    if text is None:
        text = sys.stdin.read()
    from pipeline.cli_render import explain_table

    result = scorer.score_text(text)
    console.print(explain_table(result))
    console.print(f"text score: [bold]{result.score:+.3f}[/]  (scorer {scorer.version})")


def _score_jsonl(workers: int | None) -> None:
    """`score --jsonl`: the command's body, also run by main()'s fast path."""
    lexicon_file = _settings().scoring.lexicon_file
    from pipeline.score_lines import default_workers, score_jsonl

    if workers is not None and workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    if workers is None:  # typed lines get their answer at once; piped input uses every core
        workers = 1 if sys.stdin.isatty() else default_workers()
    score_jsonl(sys.stdin, sys.stdout, lexicon_file, workers)


_FAST_WORKERS = re.compile(r"[1-9][0-9]{0,5}")


def _fast_score_jsonl(args: list[str]) -> tuple[bool, int | None]:
    """(True, --workers or None) when `args` are plainly `score --jsonl [--workers N]` (options in any
    order, N a positive number without sign or leading zero), so main() may run the scoring loop
    without typer: building the command's parameters imports pydantic and was about half of that
    command's start-up. Anything else, --help and every malformed form included, is typer's."""
    if not args or args[0] != "score" or len(args) > 4:
        return False, None
    jsonl, workers, rest = False, None, args[1:]
    while rest:
        token = rest.pop(0)
        if token == "--jsonl" and not jsonl:
            jsonl = True
        elif token == "--workers" and workers is None and rest and _FAST_WORKERS.fullmatch(rest[0]):
            workers = int(rest.pop(0))
        elif token.startswith("--workers=") and workers is None and _FAST_WORKERS.fullmatch(token[10:]):
            workers = int(token[10:])
        else:
            return False, None
    return jsonl, workers


def _as_typer_command(run: Callable[[], None]) -> None:
    """Run a command body as typer's standalone mode runs a command (typer.core._main and
    Typer.__call__): exit 0 after it, 130 on KeyboardInterrupt, 1 without a word on a broken pipe,
    "Aborted!" on EOFError; any other exception goes on, marked for typer's traceback hook. typer is
    imported only on those paths: its hook passes every exception it did not mark to the hook it
    found, so installing it when the first marked exception leaves is the same as at the start."""
    try:
        try:
            run()
        except EOFError:
            from typer import _click

            _click.echo(file=sys.stderr)
            _click.echo("Aborted!", file=sys.stderr)
            sys.exit(1)
        except KeyboardInterrupt:
            sys.exit(130)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            from typer import _click

            sys.stdout = _click.utils.PacifyFlushWrapper(sys.stdout)
            sys.stderr = _click.utils.PacifyFlushWrapper(sys.stderr)
            sys.exit(1)
    except Exception as exc:
        from typer.main import _typer_developer_exception_attr_name, except_hook
        from typer.models import DeveloperExceptionConfig

        if sys.excepthook != except_hook:
            sys.excepthook = except_hook
        setattr(
            exc,
            _typer_developer_exception_attr_name,
            DeveloperExceptionConfig(
                pretty_exceptions_enable=app.pretty_exceptions_enable,
                pretty_exceptions_show_locals=app.pretty_exceptions_show_locals,
                pretty_exceptions_short=app.pretty_exceptions_short,
            ),
        )
        raise
    sys.exit(0)


@app.command()
def signals(
    since: Annotated[
        str | None, typer.Option(help="First day, YYYY-MM-DD (default: 7 days before --until)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default: today, UTC)")] = None,
) -> None:
    """(Re)compute daily signals per actor for a range of days."""
    from pipeline.signals import compute_signals

    since_day, until_day = _day_range(since, until, 7)
    warehouse = _warehouse()
    with _interruptible("no signal row changed (the range is one transaction); run the command again"):
        report = compute_signals(warehouse, since_day, until_day)
    console.print(f"signals: {report.rows_written} rows for {since_day} .. {until_day}")
    if not report.rows_written:
        _where_the_data_lies(warehouse, "articles", since_day, until_day)


@app.command()
def detect(
    since: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (default: --until)")] = None,
    until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default: today, UTC)")] = None,
    notify: Annotated[bool, typer.Option("--notify/--no-notify", help="Deliver the alerts")] = True,
    detector: Annotated[str | None, typer.Option(help="mad | ewma (ESCALATION_DETECTOR)")] = None,
    ranking: Annotated[str | None, typer.Option(help="mass | index: how escalation is ranked (ESCALATION_RANKING)")] = None,
    mass_spread_floor: Annotated[float | None, typer.Option(help="Spread floor of the mass ranking")] = None,
    watch: Annotated[float | None, typer.Option(help="Surprise for 'watch' (ESCALATION_ALERT_WATCH)")] = None,
    warning: Annotated[float | None, typer.Option(help="Surprise for 'warning'")] = None,
    critical: Annotated[float | None, typer.Option(help="Surprise for 'critical'")] = None,
    spread_floor: Annotated[float | None, typer.Option(help="Spread floor, index points")] = None,
    min_articles: Annotated[int | None, typer.Option(help="Articles needed on the day")] = None,
    min_sources: Annotated[int | None, typer.Option(help="Distinct outlets needed on the day")] = None,
    cooldown_days: Annotated[int | None, typer.Option(help="Quiet days after an alert")] = None,
) -> None:
    """Run spike detection over each day of a range; a range in the past is a backtest."""
    from pipeline import alerts as alerting
    from pipeline.channels import build_notifiers
    from pipeline.store import alert_to_dict

    # Each option is a field of the detection section (None: keep the ESCALATION_* value).
    chosen = {
        "detector": detector,
        "ranking": ranking,
        "mass_spread_floor": mass_spread_floor,
        "watch": watch,
        "warning": warning,
        "critical": critical,
        "spread_floor": spread_floor,
        "min_articles": min_articles,
        "min_sources": min_sources,
        "cooldown_days": cooldown_days,
    }
    try:
        settings = _settings().with_overrides(detection=chosen)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    params = settings.detection
    since_day, until_day = _day_range(since, until, 1)
    warehouse = _warehouse(settings)
    mode = "backtest" if until_day < today_utc() else "live"
    notifiers = build_notifiers(settings, warehouse) if notify else ()
    left = (
        "the next `escalation run` detects these days again and delivers what was not delivered"
        if mode == "live" and notifiers
        else "the alerts stored so far stay; run the command again"
    )
    with _interruptible(left):
        report = alerting.detect_leaving_pending(
            warehouse, since_day, until_day, params, mode=mode, notifiers=notifiers
        )
    alerts = [alert_to_dict(a) for a in report.alerts]
    console.print(_alerts_table(alerts))
    if not alerts:
        _where_the_data_lies(warehouse, "alerts", since_day, until_day)
    console.print(
        f"{len(report.incidents)} incident(s) active in the range, {len(report.pages)} page(s) on its days "
        f"({'delivered to the channels' if notify and mode == 'live' else 'recorded, not sent'}); "
        "see `escalation incidents`",
        highlight=False,
    )
    console.print(f"{len(alerts)} alert(s), mode {mode}, {since_day} .. {until_day}")  # the last line: the count


@app.command()
def alerts(
    since: Annotated[
        str | None, typer.Option(help="First day, YYYY-MM-DD (default: 30 days before --until)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default: today, UTC)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Write JSON lines")] = False,
) -> None:
    """List stored alerts with their evidence."""
    from pipeline.store import alert_to_dict

    since_day, until_day = _day_range(since, until, 30)
    warehouse = _warehouse()
    stored = [alert_to_dict(a) for a in warehouse.load_alerts(since_day, until_day)]
    if not stored:
        _where_the_data_lies(warehouse, "alerts", since_day, until_day)
    if as_json:
        for item in stored:
            sys.stdout.write(json.dumps(item, ensure_ascii=False, default=str) + "\n")
        return
    console.print(_alerts_table(stored))


@app.command()
def rescore(
    since: Annotated[str | None, typer.Option(help="First published day, YYYY-MM-DD (default: all)")] = None,
    until: Annotated[str | None, typer.Option(help="Last published day, YYYY-MM-DD (default: all)")] = None,
) -> None:
    """Re-score stored sentences with the current lexicon and recompute their signals."""
    from pipeline.rescore import rescore as run_rescore
    from pipeline.score import load_scorer

    since_day, until_day = _parse_day(since, "--since"), _parse_day(until, "--until")
    settings = _settings()
    warehouse = _warehouse(settings)
    scorer = load_scorer(settings.scoring.lexicon_file)
    with _progress() as progress:
        task = progress.add_task("re-scoring sentences", total=None)
        report = run_rescore(
            warehouse, scorer, since_day, until_day, on_batch=lambda n: progress.advance(task, n)
        )
    console.print(
        f"re-scored {report.sentences} sentences with {report.scorer_version}: "
        f"{report.changed_scores} scores changed, {report.signal_rows} signal rows recomputed"
    )


@app.command(name="eval")
def evaluate(
    file: Annotated[
        Path,
        typer.Argument(
            help="TSV file: sentence<TAB>CAMEO quad label (0-4), or sentence<TAB>quad (1-4)<TAB>PLOVER root"
        ),
    ],
    worst: Annotated[int, typer.Option(help="How many worst misses to list")] = 20,
    train: Annotated[
        Path | None,
        typer.Option(
            help="Another labelled file (either format): the TF-IDF + LR baseline is also trained on it"
        ),
    ] = None,
) -> None:
    """Evaluate the scorer against labelled sentences, side by side with VADER and a trained baseline."""
    from pipeline.evaluate import EvalError, print_eval, run_eval
    from pipeline.score import load_scorer

    for path in (file, train):
        if path is not None and not path.is_file():
            raise UserError(f"eval file not found: {path}")
    try:
        report = run_eval(file, load_scorer(_settings().scoring.lexicon_file), worst=worst, train_path=train)
    except EvalError as exc:
        raise UserError(str(exc)) from None
    print_eval(report, console)


@app.command()
def extract(
    sources: Annotated[list[str], typer.Argument(metavar="SOURCE", help="http(s) URLs of article pages or local HTML files")],
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="One JSON object per SOURCE, in the given order")
    ] = False,
) -> None:
    """Extract an article page's main text, title, published time, author and language.

    Exit code 0 when every SOURCE gave text, 1 when any could not be fetched or extracted (its
    record says why; the others are still printed)."""
    from urllib.parse import urlsplit

    from rich.text import Text

    from pipeline.extract import extract_page
    from pipeline.fetch import fetch_one

    fetch_settings = _settings().fetch
    failed = 0
    for source in sources:
        is_url = urlsplit(source).scheme in ("http", "https")
        # fetch_one reads a local path itself (size-capped); URLs get its SSRF guards, caps and timeouts.
        fetched = fetch_one(source, None, fetch_settings)
        record: dict = {
            "source": source,
            "url": fetched.final_url if is_url else None,
            "status": fetched.status,
        }
        if fetched.ok and fetched.body is not None:
            page = extract_page(fetched.body, record["url"], content_type=fetched.content_type)
            record.update(page.to_dict(), url=record["url"])
            del record["dropped"]
        else:
            record.update(
                title=None, text="", published=None, author=None, language=None, error=fetched.error
            )
        failed += record["error"] is not None
        if jsonl:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        elif record["error"]:
            console.print(Text(f"{source}: {record['error']}", style="red"), soft_wrap=True)
        else:
            about = " | ".join(
                str(v) for v in (record["published"], record["author"], record["language"]) if v
            )
            console.print(Text(record["title"] or "(no title)", style="bold"), soft_wrap=True)
            console.print(Text(f"{source}{'  ' + about if about else ''}", style="dim"), soft_wrap=True)
            console.print(Text(record["text"] + "\n"), soft_wrap=True)
    if failed:
        raise typer.Exit(1)


# -- analysts: named queries, exports, report, schema ---------------------------------------------
def _warehouse(settings: Settings | None = None):
    """The existing warehouse, for commands that read or recompute what is stored: they never
    create or migrate one (only run, ingest, import and db upgrade do)."""
    from pipeline.store import Warehouse

    return Warehouse.open_existing((settings or _settings()).db_url)


def _where_the_data_lies(
    warehouse, what: str, since: date | None = None, until: date | None = None, *, flags: str = "--{} {}"
) -> None:
    """An empty answer names the warehouse and the days it looked at, and where the data is
    (`flags`: how the command takes a day, e.g. "-p {}={}" for a named query)."""
    span = warehouse.data_range()
    days = f" for {since} .. {until}" if since and until else ""
    if span is None:
        hint = "it holds no articles yet (`escalation run` fills it; `make demo` loads the sample feeds)"
    else:
        options = f"{flags.format('since', span[0])} {flags.format('until', span[1])}"
        hint = f"its articles are from {span[0]} to {span[1]} ({options})"
    err_console.print(f"no {what}{days} in {warehouse.shown_url}; {hint}", highlight=False, soft_wrap=True)


def _parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--param takes name=value, got {pair!r}")
        params[name.strip()] = value
    return params


def _result_table(result, title: str) -> Table:
    from pipeline.analytics import plain

    table = Table(title=title)
    for column in result.columns:
        table.add_column(column, overflow="fold")
    for row in result.rows:
        table.add_row(
            *(f"{v:.3f}" if isinstance(v, float) else "" if v is None else str(v) for v in map(plain, row))
        )
    return table


def _write_result(result, fmt: str, out: Path | None, title: str) -> None:
    from pipeline import analytics

    if fmt not in analytics.FORMATS:
        raise UserError(f"--format must be one of {', '.join(analytics.FORMATS)}, not {fmt!r}")
    if fmt == "parquet":
        if out is None:
            raise UserError("--format parquet needs --out FILE")
        analytics.write_parquet(result, out)
    elif fmt == "table":
        if out is not None:
            with out.open("w", encoding="utf-8") as handle:
                Console(file=handle, width=200).print(_result_table(result, title))
        else:
            console.print(_result_table(result, title))
    else:
        writer = analytics.write_csv if fmt == "csv" else analytics.write_jsonl
        if out is None:
            writer(result, sys.stdout)
        else:
            with out.open("w", encoding="utf-8", newline="") as handle:
                writer(result, handle)
    if out is not None:
        err_console.print(f"{len(result.rows)} rows -> {out}")


@app.command()
def query(
    name: Annotated[str | None, typer.Argument(help="A query of sql/queries/ (see --list)")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="name=value (repeatable)")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | csv | json | parquet")] = "table",
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of the terminal")] = None,
    list_queries: Annotated[
        bool, typer.Option("--list", help="List the named queries and their parameters")
    ] = False,
) -> None:
    """Run a named analyst query; dates take YYYY-MM-DD or days from today (-7)."""
    from pipeline.store import views

    queries = views.named_queries()
    if list_queries or name is None:
        for query_ in queries.values():
            console.print(f"[bold]{query_.name}[/]: {query_.description}", highlight=False)
            for p in query_.params:
                default = "required" if p.default is None else f"default {p.default}"
                console.print(f"    --param {p.name}=<{p.type}>  ({default}) {p.help}", highlight=False)
        return
    warehouse = _warehouse()
    try:
        result = warehouse.run_query(name, _parse_params(param or []))
    except views.QueryError as exc:
        raise UserError(str(exc)) from None
    _write_result(result, fmt, out, name)
    if not result.rows:
        _where_the_data_lies(warehouse, f"rows of {name}", flags="-p {}={}")


@app.command()
def export(
    what: Annotated[str, typer.Argument(help="signals | sentences")],
    since: Annotated[
        str | None, typer.Option(help="First day, YYYY-MM-DD (default: 30 days before --until)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default: today, UTC)")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv | json | parquet")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Output file (required for parquet)")] = None,
) -> None:
    """Dump daily signals or scored sentences (one row per sentence and actor) for pandas / BI tools."""
    from pipeline.analytics import EXPORT_FORMATS
    from pipeline.store.views import QueryError

    if fmt not in EXPORT_FORMATS:  # before any reading: the formats its help lists, no others
        raise UserError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    since_day, until_day = _day_range(since, until, 30)
    warehouse = _warehouse()
    try:
        result = warehouse.export_rows(what, since_day, until_day)
    except QueryError as exc:
        raise UserError(str(exc)) from None
    _write_result(result, fmt, out, what)
    if not result.rows:
        _where_the_data_lies(warehouse, what, since_day, until_day)


@app.command()
def report(
    out: Annotated[Path, typer.Option(help="The HTML file to write")] = Path("report.html"),
    since: Annotated[
        str | None, typer.Option(help="First day, YYYY-MM-DD (default: 60 days before --until)")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last day, YYYY-MM-DD (default: today, UTC, or the data's last day)")
    ] = None,
    actors: Annotated[
        str | None,
        typer.Option(help="Comma-separated actor codes (default: 6, strongest alerts of either kind first)"),
    ] = None,
) -> None:
    """Write one self-contained HTML report (works offline): summary, charts, alerts, evidence,
    de-escalation. Without --since/--until and no data in the last 60 days: the data's last 60 days."""
    from pipeline.report import default_range, unknown_actors, write_report

    warehouse = _warehouse()
    note = None
    if since is None and until is None:
        since_day, until_day, note = default_range(warehouse, today_utc())
    else:
        since_day, until_day = _day_range(since, until, 60)
    chosen = [a.strip().upper() for a in actors.split(",") if a.strip()] if actors else None
    for code, close in unknown_actors(warehouse, chosen or []).items():
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        err_console.print(f"warning: no data for actor code {code} in the warehouse{hint}", highlight=False)
    if note:
        err_console.print(f"report: {note}", highlight=False)
    path = write_report(warehouse, since_day, until_day, chosen, out, note=note)
    console.print(f"report: {path} ({path.stat().st_size:,} bytes) for {since_day} .. {until_day}")
    span = warehouse.data_range()
    if span is None or span[1] < since_day or span[0] > until_day:
        _where_the_data_lies(warehouse, "articles", since_day, until_day)


db_app = _LazyTyper(
    no_args_is_help=True, rich_markup_mode=None, help="The warehouse schema: Alembic migrations and views."
)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Option(help="Target revision (default: the newest)")] = "head",
) -> None:
    """Migrate the warehouse (ESCALATION_DB_URL) and recreate the analyst views."""
    from pipeline.store import Warehouse

    result = Warehouse.from_url(_settings().db_url).upgrade(revision)
    console.print(
        f"warehouse: {result.before or 'empty'} -> {result.after}; views: {', '.join(result.views) or 'none'}"
    )


@db_app.command("current")
def db_current() -> None:
    """Show the warehouse's migration revision and the newest one."""
    from pipeline.store import Warehouse
    from pipeline.store.migrate import head_revision

    warehouse = Warehouse.from_url(_settings().db_url, create=False)  # reads: a typo creates nothing
    current, head = warehouse.current_revision(), head_revision()
    state = "up to date" if current == head else "run `escalation db upgrade`"
    console.print(f"current: {current or 'none'}  head: {head}  ({state})")


# -- archive replay -------------------------------------------------------------------------------
@app.command(name="import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="JSON lines (.jsonl or .gz): outlet, title, description, link, date_published")
    ],
    batch_size: Annotated[int, typer.Option(min=1, help="Items per outlet stored in one transaction")] = 500,
) -> None:
    """Replay a news archive: one feed per outlet (archive:<outlet>), links never fetched; idempotent.
    Bad lines are skipped and counted (exit code 1 when there were any); what was stored stays."""
    from pipeline.archive import ArchiveError, import_archive
    from pipeline.ingest import build_context

    if not file.is_file():  # before the warehouse is opened: a typo creates nothing
        raise UserError(f"archive not found: {file}")
    settings = _settings()
    # No pipeline run row: a second import of the same file must change nothing at all.
    stays = "the batches stored so far stay; the same import again continues (it skips what is stored)"
    try:
        with _interruptible(stays), _progress() as progress:
            ctx = build_context(settings)
            task = progress.add_task("importing lines", total=None)
            report = import_archive(
                file,
                ctx.warehouse,
                ctx.scorer,
                ctx.gazetteer,
                batch_size=batch_size,
                on_progress=lambda p: progress.update(
                    task, completed=p.lines, description=f"importing: {p.new_articles} new articles"
                ),
            )
    except ArchiveError as exc:
        raise UserError(str(exc)) from None
    for number, reason in report.bad_examples:
        err_console.print(f"[yellow]skipped[/] line {number}: {reason}", highlight=False)
    outlets = ", ".join(f"{name} {count}" for name, count in sorted(report.outlets.items()))
    console.print(
        f"import: {report.lines} lines, {report.items} items ({outlets or 'none'}), "
        f"{report.first_day or '-'} .. {report.last_day or '-'}; {report.new_articles} new articles, "
        f"{report.new_sentences} new sentences, {report.known_articles} already stored, "
        f"{report.bad_lines} bad lines skipped",
        soft_wrap=True,
    )
    if report.bad_lines:
        raise typer.Exit(1)


# -- incidents and backtests ----------------------------------------------------------------------
def _incident_dict(incident) -> dict:
    return {
        "id": incident.incident_id,
        "mode": incident.mode,
        "kind": incident.kind,
        "actors": list(incident.actors),
        "opened": incident.opened.isoformat(),
        "last_alert": incident.last_alert.isoformat(),
        "closed": incident.closed.isoformat() if incident.closed else None,
        "peak_severity": incident.severity,
        "peak_surprise": round(incident.peak_surprise, 2),
        # live: a page reached a person (a channel other than the log); backtest: it would have
        "paged": incident.sent_to_people > 0 if incident.mode == "live" else incident.first_paged is not None,
        "first_paged": incident.first_paged.isoformat() if incident.first_paged else None,
        "paged_severity": incident.paged_severity,
        "alerts": incident.alerts,
        "pages": incident.pages,
        "evidence": [
            {k: e.get(k) for k in ("text", "title", "url", "outlet", "day", "score", "copies", "outlets")}
            for e in incident.evidence
        ],
    }


@app.command()
def incidents(
    since: Annotated[
        str | None, typer.Option(help="First day, YYYY-MM-DD (default: 30 days before --until)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default: today, UTC)")] = None,
    mode: Annotated[str | None, typer.Option(help="live | backtest (default: both)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per incident")] = False,
) -> None:
    """List the incidents active in a range: actors, kind, since when, peak severity, whether it paged
    (for a backtest: would have), alerts, top distinct evidence. Reads only."""
    since_day, until_day = _day_range(since, until, 30)
    if mode is not None and mode not in ("live", "backtest"):
        raise UserError(f"--mode must be live or backtest, not {mode!r}")
    found = [_incident_dict(i) for i in _warehouse().load_incidents(since_day, until_day, mode)]
    if as_json:
        for item in found:
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"Incidents {since_day} .. {until_day} ({len(found)})")
    for column in ("id", "mode", "kind", "actors", "opened", "closed", "peak", "paged", "alerts", "top evidence"):
        table.add_column(column, overflow="fold")
    for item in found:
        top = item["evidence"][0] if item["evidence"] else None
        evidence = f"{top['text'][:140]} ({top.get('outlet') or ''}, {top.get('day') or ''})" if top else ""
        table.add_row(
            str(item["id"]),
            item["mode"],
            item["kind"],
            "/".join(item["actors"]),
            item["opened"],
            item["closed"] or "open",
            item["peak_severity"],
            ("yes " if item["paged"] else "no ") + (item["first_paged"] or ""),
            str(item["alerts"]),
            evidence,
        )
    console.print(table)


def _strongest(alert: dict | None) -> str:
    if alert is None:
        return "none"
    context = f", {alert['context_share']:.0%} disaster context" if alert["context_share"] else ""
    return f"{alert['actor']} {alert['day']} {alert['severity']} z={alert['surprise']:.1f}{context}"


@app.command()
def backtest(
    events: Annotated[Path, typer.Option(help="Known events (YAML: escalations and quiet windows)")],
    since: Annotated[str | None, typer.Option(help="First day (default: the first stored article's)")] = None,
    until: Annotated[str | None, typer.Option(help="Last day (default: the last stored article's)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object with every figure")] = False,
    listing: Annotated[bool, typer.Option("--list", help="List every paged escalation incident")] = False,
) -> None:
    """Replay detection and incidents over stored history with the production code path (in memory:
    nothing is written) and judge it: each known escalation paged or not, quiet windows paged, paged
    escalation incidents per week. The detection settings are the ESCALATION_* ones."""
    from pipeline import alerts as alerting
    from pipeline.backtest import judge, judgement_dict, load_events

    if not events.is_file():
        raise UserError(f"events file not found: {events}")
    escalations, quiet = load_events(events)
    settings = _settings()
    warehouse = _warehouse(settings)
    bounds = warehouse.article_day_bounds(_parse_day(since, "--since"), _parse_day(until, "--until"))
    if bounds is None:
        raise UserError("no stored articles in that range: nothing to replay")
    since_day, until_day = _parse_day(since, "--since") or bounds[0], _parse_day(until, "--until") or bounds[1]
    if since_day > until_day:
        raise UserError(f"--since {since_day} is after --until {until_day}")
    if not warehouse.has_signals(since_day, until_day):
        raise UserError(
            f"no daily signals stored for {since_day} .. {until_day}: run `escalation signals --since {since_day} "
            f"--until {until_day}` first"
        )
    run = alerting.backtest(warehouse, since_day, until_day, settings.detection)
    result = judgement_dict(judge(run.timeline, escalations, quiet, since_day, until_day), run.alerts)
    result["alerts"] = len(run.alerts)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    console.print(
        f"backtest {since_day} .. {until_day}: {len(run.alerts)} alerts; {result['escalations_paged']}/"
        f"{result['escalations']} known escalations paged in their window "
        f"({result['escalations_paged_by_a_first_page']} by a first page); "
        f"{result['quiet_windows_paged']}/{result['quiet_windows']} quiet windows paged; "
        f"{result['paged_escalation_incidents']} paged escalation incidents = "
        f"{result['paged_incidents_per_week']:.2f}/week",
        soft_wrap=True,
        highlight=False,
    )
    table = Table(title="Known events")
    for column in ("event", "actors", "window", "kind", "outcome", "incident", "strongest alert"):
        table.add_column(column, overflow="fold")
    for kind, rows in (("escalation", result["events"]), ("quiet", result["quiet"])):
        for row in rows:
            outcome = f"paged {row['day']} ({row['reason']})" if row["paged"] else "not paged"
            table.add_row(
                row["name"],
                "/".join(row["actors"]),
                f"{row['first']} .. {row['last']}",
                kind,
                outcome,
                "/".join(row["incident_actors"] or []),
                _strongest(row["strongest_alert"]),
            )
    console.print(table)
    if listing:
        paged = Table(title=f"Paged escalation incidents ({len(result['incidents'])})")
        for column in ("first page", "actors", "opened", "peak", "alerts", "top evidence"):
            paged.add_column(column, overflow="fold")
        for item in result["incidents"]:
            top = item["top_evidence"] or {}
            paged.add_row(
                item["first_paged"] or "",
                "/".join(item["actors"]),
                item["opened"],
                item["peak_severity"],
                str(item["alerts"]),
                f"{(top.get('title') or top.get('text') or '')[:120]} ({top.get('outlet') or ''})",
            )
        console.print(paged)


# Errors a user can fix, by module: only the modules a command has loaded can have raised theirs,
# so `escalation score` does not import the warehouse (SQLAlchemy) just to name its error class.
_USER_ERROR_CLASSES = (
    ("pipeline.actors", "GazetteerError"),
    ("pipeline.backtest", "EventsError"),
    ("pipeline.feeds", "FeedListError"),
    ("pipeline.score", "LexiconError"),
    ("pipeline.store", "WarehouseError"),
)


def _user_error_classes() -> tuple[type[BaseException], ...]:
    loaded = (sys.modules.get(module) for module, _ in _USER_ERROR_CLASSES)
    return (
        UserError,
        ConfigError,
        *(getattr(m, name) for m, (_, name) in zip(loaded, _USER_ERROR_CLASSES, strict=True) if m),
    )


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and a non-zero exit."""
    from pipeline import interrupts

    args = _db_first(sys.argv[1:])
    fast, workers = _fast_score_jsonl(args)
    try:
        with interrupts.stop_on_signals():
            if fast:
                _as_typer_command(lambda: _score_jsonl(workers))
            else:
                app(args=args)
    except _Stopped as stop:
        err_console.print(f"interrupted: {stop}", highlight=False, soft_wrap=True)
        sys.exit(130)
    except SystemExit as exc:
        if exc.code == 130 and interrupts.was_stopped():  # typer's exit for a KeyboardInterrupt
            err_console.print("interrupted: the command stopped before its end (what it had committed stays)")
        raise
    except Exception as exc:
        if not isinstance(exc, _user_error_classes()):
            raise
        err_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)  # one line, unwrapped
        sys.exit(2)


if __name__ == "__main__":
    main()
