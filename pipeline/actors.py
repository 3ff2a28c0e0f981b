"""Actor stage: a reviewed gazetteer (data/actors.csv) compiled into one Aho-Corasick automaton.

Aliases match case-sensitively as written ("US" never matches "us", "Chad" never "chad"), on whole
words, and the longest match wins, so "Papua New Guinea" beats "Guinea" and "Latin America" (a
"block" phrase) swallows "America". Hyphenated forms work because "-" is a word boundary:
"Iranian-backed" tags IRN. "Iranian Revolutionary Guard Corps" tags IRN and IRGC (two names).
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import PACKAGE_DATA
from pipeline.matching import build_automaton, longest_matches

DEFAULT_GAZETTEER = PACKAGE_DATA / "actors.csv"
KINDS = frozenset({"state", "nonstate", "igo", "block"})
BLOCK_CODE = "-"
_VERSION = re.compile(r"version:\s*(\S+)")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,29}$")


class GazetteerError(ValueError):
    """The gazetteer file is malformed; the message names the line."""


@dataclass(frozen=True)
class Actor:
    code: str
    kind: str
    name: str


@dataclass(frozen=True)
class ActorMention:
    actor: str
    surface: str
    start: int
    end: int


class Gazetteer:
    def __init__(self, version: str, actors: Mapping[str, Actor], aliases: Mapping[str, str]):
        self.version = version
        self.actors = dict(actors)
        self._automaton = build_automaton(aliases.items())

    @classmethod
    def from_file(cls, path: Path) -> Gazetteer:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise GazetteerError(f"cannot read gazetteer {path}: {exc.strerror or exc}") from None
        version = None
        data_lines: list[tuple[int, str]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.startswith("#"):
                found = _VERSION.search(line)
                version = version or (found.group(1) if found else None)
            elif line.strip():
                data_lines.append((number, line))
        if not version:
            raise GazetteerError(f"{path}: no '# ... version: X' comment line")
        if not data_lines:
            raise GazetteerError(f"{path}: no header row")
        reader = csv.reader([line for _, line in data_lines])
        header = next(reader)
        if header[:4] != ["code", "kind", "name", "aliases"]:
            raise GazetteerError(f"{path}:{data_lines[0][0]}: header must be code,kind,name,aliases")
        actors: dict[str, Actor] = {}
        aliases: dict[str, str] = {}
        for (number, _), row in zip(data_lines[1:], reader, strict=True):
            where = f"{path}:{number}"
            if len(row) < 4:
                raise GazetteerError(f"{where}: expected 4 columns, got {len(row)}")
            code, kind, name, alias_field = (cell.strip() for cell in row[:4])
            if kind not in KINDS:
                raise GazetteerError(f"{where}: unknown kind {kind!r} (one of {', '.join(sorted(KINDS))})")
            if kind == "block":
                code = BLOCK_CODE
            elif not _CODE.match(code):
                raise GazetteerError(f"{where}: bad code {code!r} (upper-case letters, digits, _)")
            elif code in actors:
                raise GazetteerError(f"{where}: duplicate code {code}")
            else:
                actors[code] = Actor(code, kind, name)
            for alias in alias_field.split(";"):
                alias = alias.strip()
                if not alias:
                    raise GazetteerError(f"{where}: empty alias for {code}")
                if aliases.get(alias, code) != code:
                    raise GazetteerError(f"{where}: alias {alias!r} already maps to {aliases[alias]}")
                aliases[alias] = code
        return cls(version, actors, aliases)

    def find(self, text: str) -> list[ActorMention]:
        """All mentions, left to right, non-overlapping, longest first, on whole words."""
        return [
            ActorMention(code, text[start:end], start, end)
            for start, end, code in longest_matches(self._automaton, text)
            if code != BLOCK_CODE
        ]

    def codes(self, text: str) -> list[str]:
        """Distinct actor codes in order of first mention."""
        # Straight from the matches: no ActorMention per mention (this runs for every sentence).
        return list(
            dict.fromkeys(code for _, _, code in longest_matches(self._automaton, text) if code != BLOCK_CODE)
        )


@functools.lru_cache(maxsize=8)
def load_gazetteer(path: Path | None = None) -> Gazetteer:
    """The gazetteer, loaded and compiled once per path and process."""
    return Gazetteer.from_file(Path(path) if path else DEFAULT_GAZETTEER)
