"""One record codec: typed records (frozen dataclasses) to JSON-ready dicts and back, driven by the
records' own field types, so no record needs a hand-written to_dict/from_dict pair.

Dates and datetimes travel as ISO 8601 strings, tuples as lists; floats may be rounded per field
for display. Reading back converts by the declared type and refuses keys the record does not have.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from typing import Any, TypeVar

R = TypeVar("R")


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    if not is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass record")
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def to_plain(record: Any, *, digits: Mapping[str, int] | None = None, omit: tuple[str, ...] = ()) -> dict[str, Any]:
    """The record as a dict of JSON types; `digits` rounds the named float fields."""
    out: dict[str, Any] = {}
    for name in _field_types(type(record)):
        if name in omit:
            continue
        value = getattr(record, name)
        if digits and name in digits and isinstance(value, float):
            value = round(value, digits[name])
        out[name] = _plain(value)
    return out


def _convert(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return _convert(value, options[0]) if len(options) == 1 else value
    if origin is tuple:
        item = args[0] if args else Any
        return tuple(_convert(v, item) for v in value)
    if hint is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    if hint is date and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def field_names(cls: type) -> tuple[str, ...]:
    return tuple(_field_types(cls))


def from_plain(cls: type[R], data: Mapping[str, Any]) -> R:
    """A `cls` record from a dict (JSON, an XCom value, a database row): values converted by the
    declared field types; a key the record does not have is an error, a missing one takes its default."""
    types = _field_types(cls)
    unknown = set(data) - set(types)
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}")
    return cls(**{name: _convert(value, types[name]) for name, value in data.items()})
