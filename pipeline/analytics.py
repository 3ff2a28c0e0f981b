"""Analyst output formats: one plain representation per value on both dialects, and the CSV,
JSON-lines and Parquet writers of `escalation query` / `escalation export` (the SQL itself is
`pipeline.store.views`)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.store.views import QueryResult


# -- values and formats -----------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """One representation per value on both dialects: ISO strings for times (UTC, no offset) and
    dates, floats for numerics, ints for booleans."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and _SQLITE_TIMESTAMP.fullmatch(value):
        return datetime.fromisoformat(value).isoformat(sep=" ")  # SQLite keeps times as text
    return value


_SQLITE_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?")
FORMATS = ("table", "csv", "json", "parquet")  # escalation query
EXPORT_FORMATS = ("csv", "json", "parquet")  # escalation export: rows for other tools, no terminal table


def write_csv(result: QueryResult, out: io.TextIOBase) -> None:
    writer = csv.writer(out)
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow([plain(v) for v in row])


def write_jsonl(result: QueryResult, out: io.TextIOBase) -> None:
    for row in result.rows:
        out.write(json.dumps(dict(zip(result.columns, map(plain, row), strict=True)), ensure_ascii=False))
        out.write("\n")


def write_parquet(result: QueryResult, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def arrow_value(value: Any) -> Any:
        # Keep dates and times typed for pandas/BI tools; only Decimal (PostgreSQL numeric) changes.
        return float(value) if isinstance(value, Decimal) else value

    columns = {name: [arrow_value(row[i]) for row in result.rows] for i, name in enumerate(result.columns)}
    pq.write_table(pa.table(columns), path)
