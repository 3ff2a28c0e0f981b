"""The analyst SQL: the views of sql/views/ and the named queries of sql/queries/, on either dialect.

A view file holds one CTE-style select; its name is the file name. Where SQLite and PostgreSQL must
differ, the two versions sit side by side as ``<name>.sqlite.sql`` and ``<name>.postgresql.sql`` and
the dialect picks its own (a plain ``<name>.sql`` serves both); those are kept to small building
blocks named ``_<name>``. Views are created in name order, so a view may use any view whose name
sorts before its own (``_`` sorts before letters).

A query file starts with comment lines saying what it answers, then one line per parameter:
``-- param <name>: <date|int|float|text> [= <default>]  <help>``. A date default is a whole number of
days relative to today (UTC): ``-6`` is six days ago; or days from an earlier date parameter:
``since-28`` is 28 days before the bound ``since``. Parameters are bound (``:name``), never pasted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pipeline.clock import parse_day, today_utc
from pipeline.store.schema import articles, daily_signals, feeds, sentence_actors, sentences

# pipeline/sql, package data; the top-level sql/ is a symlink to it.
SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
DIALECTS = ("sqlite", "postgresql")
PARAM_TYPES = ("date", "int", "float", "text")
_PARAM_LINE = re.compile(
    r"^--\s*param\s+(?P<name>[a-z_][a-z0-9_]*)\s*:\s*(?P<type>\w+)\s*(?:=\s*(?P<default>\S+))?\s*(?P<help>.*)$"
)


# A date default relative to an earlier date parameter: "since-28" (28 days before :since).
_RELATIVE_DEFAULT = re.compile(r"(?P<param>[a-z_][a-z0-9_]*)(?P<days>[+-]\d{1,5})")


class QueryError(ValueError):
    """A named query or its parameters cannot be used; the message says why."""


# -- views ------------------------------------------------------------------------------------------
def view_sql(dialect: str, sql_dir: Path = SQL_DIR) -> dict[str, str]:
    """name -> select statement of every view, in the dialect's own version where there is one."""
    if dialect not in DIALECTS:
        raise QueryError(f"no views for dialect {dialect!r} (only {', '.join(DIALECTS)})")
    views: dict[str, str] = {}
    for path in sorted((sql_dir / "views").glob("*.sql")):
        parts = path.name.split(".")
        if len(parts) == 2:
            views.setdefault(parts[0], path.read_text())
        elif len(parts) == 3 and parts[1] == dialect:
            views[parts[0]] = path.read_text()  # the dialect's version wins over a shared one
        elif len(parts) != 3 or parts[1] not in DIALECTS:
            raise QueryError(f"{path}: a view file is <name>.sql or <name>.<{'|'.join(DIALECTS)}>.sql")
    return views


def create_views(conn: Connection, sql_dir: Path = SQL_DIR) -> list[str]:
    """(Re)create every view; the caller's transaction makes it all-or-nothing."""
    views = view_sql(conn.dialect.name, sql_dir)
    drop_views(conn, views)
    for name, select in views.items():  # sorted by name: a view may only use views before it
        conn.exec_driver_sql(_create_statement(name, select))
        if conn.dialect.name == "postgresql":
            # PostgreSQL keeps only a normalised definition: the file's fingerprint goes in a comment.
            conn.exec_driver_sql(f"comment on view {name} is '{_fingerprint(select)}'")
    return list(views)


def _create_statement(name: str, select: str) -> str:
    return f"create view {name} as\n{select}"  # views_are_current relies on this first line


def _fingerprint(select: str) -> str:
    return "sql-sha1:" + hashlib.sha1(select.encode("utf-8")).hexdigest()


def views_are_current(conn: Connection, sql_dir: Path = SQL_DIR) -> bool:
    """True when every view exists with exactly the SQL of its file (so a release that changes a
    view's SQL without a migration still gets it on the next `init_schema`)."""
    views = view_sql(conn.dialect.name, sql_dir)
    if conn.dialect.name == "sqlite":
        # SQLite keeps the statement as written, except that it upper-cases "CREATE VIEW" and drops
        # trailing whitespace: compare what follows the first line ("create view <name> as").
        stored = dict(conn.exec_driver_sql("select name, sql from sqlite_master where type = 'view'").all())
        return all(
            name in stored and stored[name].partition("\n")[2].rstrip() == select.rstrip()
            for name, select in views.items()
        )
    stored = dict(
        conn.exec_driver_sql(
            "select c.relname, obj_description(c.oid, 'pg_class') from pg_class as c "
            "where c.relkind = 'v' and c.relnamespace = current_schema()::regnamespace"
        ).all()
    )
    return all(stored.get(name) == _fingerprint(select) for name, select in views.items())


def drop_views(conn: Connection, names: Sequence[str] | Mapping[str, str]) -> None:
    existing = set(sa.inspect(conn).get_view_names())
    for name in sorted(names, reverse=True):
        if name in existing:
            conn.exec_driver_sql(f"drop view {name}")


# -- named queries ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str
    default: str | None
    help: str

    def convert(
        self, raw: str | int | float | date | None, today: date, bound: Mapping[str, Any] | None = None
    ) -> Any:
        """The bound value; a date default may count from an earlier date parameter (`since-28`:
        28 days before the bound `since`), so that a window given in absolute days keeps its
        baseline next to it instead of next to today."""
        if raw is None:
            if self.default is None:
                raise QueryError(f"parameter {self.name!r} ({self.type}) is required: --param {self.name}=…")
            relative = _RELATIVE_DEFAULT.fullmatch(self.default) if self.type == "date" else None
            if relative and isinstance((bound or {}).get(relative["param"]), date):
                # "since-28": 28 days before the value the date parameter `since` got
                return bound[relative["param"]] + timedelta(days=int(relative["days"]))
            raw = self.default
        try:
            if self.type == "date":
                if isinstance(raw, date):
                    return raw
                text = str(raw).strip()
                if re.fullmatch(r"[+-]?\d{1,5}", text):
                    return today + timedelta(days=int(text))
                return parse_day(text, self.name)
            if self.type == "int":
                return int(raw)
            if self.type == "float":
                return float(raw)
            return str(raw)
        except ValueError:
            hint = "YYYY-MM-DD or days from today, e.g. -7" if self.type == "date" else self.type
            raise QueryError(f"parameter {self.name!r}: {raw!r} is not a {self.type} ({hint})") from None


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    params: tuple[QueryParam, ...]
    sql: str
    path: Path = field(compare=False)

    def bind(self, given: Mapping[str, Any], today: date | None = None) -> dict[str, Any]:
        today = today or today_utc()
        known = {p.name for p in self.params}
        unknown = set(given) - known
        if unknown:
            raise QueryError(
                f"query {self.name!r} has no parameter {', '.join(sorted(unknown))} "
                f"(it takes: {', '.join(sorted(known)) or 'none'})"
            )
        bound: dict[str, Any] = {}
        for p in self.params:  # in declaration order: a default may count from an earlier date
            bound[p.name] = p.convert(given.get(p.name), today, bound)
        return bound


def parse_query_file(path: Path) -> NamedQuery:
    text = path.read_text()
    description: list[str] = []
    params: list[QueryParam] = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        match = _PARAM_LINE.match(line)
        if match:
            if match["type"] not in PARAM_TYPES:
                raise QueryError(f"{path}: parameter {match['name']!r} has unknown type {match['type']!r}")
            relative = _RELATIVE_DEFAULT.fullmatch(match["default"] or "")
            if relative and match["type"] == "date":
                earlier = {p.name: p.type for p in params}
                if earlier.get(relative["param"]) != "date":
                    raise QueryError(
                        f"{path}: parameter {match['name']!r} counts from {relative['param']!r}, "
                        "which is not an earlier date parameter"
                    )
            params.append(QueryParam(match["name"], match["type"], match["default"], match["help"].strip()))
        elif not params:
            description.append(line.lstrip("-").strip())
    used = set(re.findall(r"(?<!:):([a-z_][a-z0-9_]*)", _strip_comments(text)))
    declared = {p.name for p in params}
    if used != declared:
        raise QueryError(f"{path}: parameters used {sorted(used)} and declared {sorted(declared)} differ")
    # Comments go before binding: a ":name" in a comment would otherwise count as a parameter.
    return NamedQuery(path.stem, " ".join(description).strip(), tuple(params), _strip_comments(text), path)


def _strip_comments(sql: str) -> str:
    # Line comments only; query files keep "--" out of string literals.
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def named_queries(sql_dir: Path = SQL_DIR) -> dict[str, NamedQuery]:
    return {path.stem: parse_query_file(path) for path in sorted((sql_dir / "queries").glob("*.sql"))}


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_query(
    engine: Engine,
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    sql_dir: Path = SQL_DIR,
    today: date | None = None,
) -> QueryResult:
    queries = named_queries(sql_dir)
    if name not in queries:
        raise QueryError(f"no query named {name!r}; there are: {', '.join(sorted(queries))}")
    query = queries[name]
    bound = query.bind(params or {}, today)
    return run_select(engine, query.sql, bound)


def run_select(engine: Engine, sql: str, bound: Mapping[str, Any] | None = None) -> QueryResult:
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # SQLite keeps dates as ISO text; bind them the same way so comparisons are textual.
            bound = {k: v.isoformat() if isinstance(v, date) else v for k, v in (bound or {}).items()}
        result = conn.execute(sa.text(sql), dict(bound or {}))
        return QueryResult(list(result.keys()), [tuple(row) for row in result])


# -- exports ----------------------------------------------------------------------------------------
EXPORTS = ("signals", "sentences")


def export_rows(engine: Engine, what: str, since: date, until: date) -> QueryResult:
    """Typed rows (SQLAlchemy Core, so dates are dates on both dialects) for one export."""
    if what == "signals":
        ds = daily_signals.c
        statement = (
            sa.select(*[c for c in daily_signals.c if c.name != "computed_at"])
            .where(ds.day.between(since, until))
            .order_by(ds.day, ds.actor)
        )
    elif what == "sentences":
        s, a = sentences.c, articles.c
        statement = (
            sa.select(
                a.published_day.label("day"),
                sentence_actors.c.actor,
                s.sentence_id,
                s.score,
                s.escalation,
                s.deescalation,
                s.text,
                s.matches,
                s.scorer_version,
                a.title,
                a.url,
                a.published_at,
                feeds.c.title.label("feed_title"),
                feeds.c.url.label("feed_url"),
            )
            .select_from(
                sentences.join(articles, a.article_id == s.article_id)
                .join(feeds, feeds.c.feed_id == a.feed_id)
                .outerjoin(sentence_actors, sentence_actors.c.sentence_id == s.sentence_id)
            )
            .where(a.published_day.between(since, until))
            .order_by(a.published_day, s.sentence_id, sentence_actors.c.actor)
        )
    else:
        raise QueryError(f"nothing to export called {what!r}: choose {' or '.join(EXPORTS)}")
    with engine.connect() as conn:
        result = conn.execute(statement)
        return QueryResult(list(result.keys()), [tuple(row) for row in result])
