"""Actor stage: a reviewed gazetteer (data/actors.csv) compiled into one Aho-Corasick automaton.

Aliases match case-sensitively as written ("US" never matches "us", "Chad" never "chad"), on whole
words, and the longest match wins, so "Papua New Guinea" beats "Guinea" and "Latin America" (a
"block" phrase) swallows "America". Hyphenated forms work because "-" is a word boundary:
"Iranian-backed" tags IRN. "Iranian Revolutionary Guard Corps" tags IRN and IRGC (two names).

People and bodies that stand for an actor ("Putin" -> RUS, "Nasrallah" -> HEZBOLLAH, "the PLA" -> CHN)
are rows of a second reviewed file (data/actors_people.csv), named by a ``# people: FILE`` comment of
the actor file and compiled into the same automaton; a mention through one carries it as ``via``.
Their terms in office (from/to) are reviewed data too. `codes(text)` and `find(text)` ignore them: a
former leader's name still names the country. Given the text's day, `codes(text, on=day)` keeps a
person's mention only inside one of their terms (the span stays consumed). See docs/gazetteer.md.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.config import PACKAGE_DATA
from pipeline.matching import build_automaton, longest_matches

DEFAULT_GAZETTEER = PACKAGE_DATA / "actors.csv"
KINDS = frozenset({"state", "nonstate", "igo", "block"})
BLOCK_CODE = "-"
# The pseudo-actor of the whole corpus: the signals' row of all articles, never a gazetteer code, never
# a partner in a pair and never paged (the store, the detector and the incident fold read it from here).
ALL_ACTORS = "ALL"
# Codes the gazetteer may not define.
RESERVED_CODES = frozenset({ALL_ACTORS})
PERSON_ROLES = frozenset(
    {
        "head_of_state",
        "head_of_government",
        "deputy_head",  # vice-president, crown prince, first vice-president
        "foreign_minister",
        "defence_minister",
        "minister",  # another cabinet member who speaks for the state on security
        "security_chief",  # national security adviser, security council secretary, intelligence chief
        "military_chief",  # chief of the general staff or of the armed forces
        "aide",  # head of the leader's office, presidential adviser
        "spokesperson",
        "envoy",  # ambassador to the UN, special envoy
        "leader",  # a group's or an organisation's leader
        "commander",  # a group's military commander
    }
)
BODY_ROLES = frozenset({"office", "legislature", "ministry", "armed_forces", "intelligence", "state_media"})
ROLES = PERSON_ROLES | BODY_ROLES
BLOCK_ROLE = "block"
ACTOR_HEADER = ["code", "kind", "name", "aliases"]
PEOPLE_HEADER = ["actor", "role", "name", "aliases", "from", "to", "note"]
_VERSION = re.compile(r"version:\s*(\S+)")
_PEOPLE = re.compile(r"^#\s*people:\s*(\S+)\s*$")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,29}$")
_DAY = re.compile(r"^(?:19|20)\d\d(?:-\d\d-\d\d)?$")  # a year, or a day (ISO 8601)
Term = tuple[date | None, date | None]  # first and last day in office; None: open


class GazetteerError(ValueError):
    """The gazetteer file is malformed; the message names the line."""


@dataclass(frozen=True)
class Representative:
    """A person or body whose name stands for an actor: "Vladimir Putin" for RUS, "the PLA" for CHN."""

    name: str
    actor: str  # the code it stands for
    role: str  # one of ROLES
    aliases: tuple[str, ...]
    terms: tuple[Term, ...] = ()  # when it stood for the actor; () or an open end: no limit known
    note: str = ""

    @property
    def is_body(self) -> bool:
        return self.role in BODY_ROLES

    def in_office(self, day: date) -> bool:
        """Whether it stood for its actor on `day` (always, without terms)."""
        return not self.terms or any(
            (first is None or first <= day) and (last is None or day <= last) for first, last in self.terms
        )


@dataclass(frozen=True)
class Actor:
    code: str
    kind: str
    name: str
    representatives: tuple[Representative, ...] = ()  # people and bodies that stand for it


@dataclass(frozen=True)
class ActorMention:
    actor: str
    surface: str
    start: int
    end: int
    via: Representative | None = None  # set when the surface names a person or body, not the actor itself


class Gazetteer:
    def __init__(
        self,
        version: str,
        actors: Mapping[str, Actor],
        aliases: Mapping[str, str],
        representatives: Mapping[str, Representative] | None = None,
    ):
        self.version = version
        self.representatives = dict(representatives or {})
        by_actor: dict[str, list[Representative]] = {}
        for rep in self.representatives.values():
            by_actor.setdefault(rep.actor, []).append(rep)
        self.actors = {
            code: dataclasses.replace(actor, representatives=tuple(by_actor.get(code, ())))
            for code, actor in actors.items()
        }
        # A match's surface is its alias exactly (matching is case-sensitive), so it finds the representative.
        self._via = {alias: rep for rep in self.representatives.values() for alias in rep.aliases}
        self._automaton = build_automaton(aliases.items())

    @classmethod
    def from_file(cls, path: Path) -> Gazetteer:
        path = Path(path)
        comments, rows = _read_csv(path, ACTOR_HEADER)
        version = next((m.group(1) for c in comments if (m := _VERSION.search(c))), None)
        if not version:
            raise GazetteerError(f"{path}: no '# ... version: X' comment line")
        actors: dict[str, Actor] = {}
        aliases: dict[str, str] = {}
        for where, row in rows:
            code, kind, name, alias_field = (cell.strip() for cell in row[:4])
            if kind not in KINDS:
                raise GazetteerError(f"{where}: unknown kind {kind!r} (one of {', '.join(sorted(KINDS))})")
            if kind == "block":
                code = BLOCK_CODE
            elif not _CODE.match(code):
                raise GazetteerError(f"{where}: bad code {code!r} (upper-case letters, digits, _)")
            elif code in RESERVED_CODES:
                raise GazetteerError(f"{where}: code {code} is reserved (the pseudo-actor of all articles)")
            elif code in actors:
                raise GazetteerError(f"{where}: duplicate code {code}")
            else:
                actors[code] = Actor(code, kind, name)
            _add_aliases(aliases, alias_field, code, where)
        representatives: dict[str, Representative] = {}
        people_files = [m.group(1) for c in comments if (m := _PEOPLE.match(c))]
        for people_file in people_files:
            representatives.update(_read_people(path.parent / people_file, actors, aliases, representatives))
        return cls(version, actors, aliases, representatives)

    def find(self, text: str, on: date | None = None) -> list[ActorMention]:
        """All mentions, left to right, non-overlapping, longest first, on whole words.

        `on`: the text's day; a person's mention outside their terms in office is left out.
        """
        mentions = [
            ActorMention(code, text[start:end], start, end, self._via.get(text[start:end]))
            for start, end, code in longest_matches(self._automaton, text)
            if code != BLOCK_CODE
        ]
        if on is None:
            return mentions
        return [m for m in mentions if m.via is None or m.via.in_office(on)]

    def codes(self, text: str, on: date | None = None) -> list[str]:
        """Distinct actor codes in order of first mention (`on` as for `find`)."""
        matches = longest_matches(self._automaton, text)
        if on is None:
            # Straight from the matches: no ActorMention per mention (this runs for every sentence).
            return list(dict.fromkeys(code for _, _, code in matches if code != BLOCK_CODE))
        return list(
            dict.fromkeys(
                code
                for start, end, code in matches
                if code != BLOCK_CODE
                and ((rep := self._via.get(text[start:end])) is None or rep.in_office(on))
            )
        )


def _read_csv(path: Path, header: list[str]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(comment lines, [(path:line, cells)]) of a gazetteer CSV whose header starts with `header`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GazetteerError(f"cannot read gazetteer {path}: {exc.strerror or exc}") from None
    comments: list[str] = []
    data_lines: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            comments.append(line)
        elif line.strip():
            data_lines.append((number, line))
    if not data_lines:
        raise GazetteerError(f"{path}: no header row")
    reader = csv.reader([line for _, line in data_lines])
    if [cell.strip() for cell in next(reader)][: len(header)] != header:
        raise GazetteerError(f"{path}:{data_lines[0][0]}: header must be {','.join(header)}")
    rows = []
    for (number, _), row in zip(data_lines[1:], reader, strict=True):
        where = f"{path}:{number}"
        if len(row) < 4:
            raise GazetteerError(f"{where}: expected at least 4 columns, got {len(row)}")
        rows.append((where, row))
    return comments, rows


def _add_aliases(
    aliases: dict[str, str], alias_field: str, code: str, where: str, *, unique: bool = False
) -> tuple[str, ...]:
    """Add a row's aliases; `unique`: not even the same code may have it yet (a mention names one row)."""
    added = []
    for alias in alias_field.split(";"):
        alias = alias.strip()
        if not alias:
            raise GazetteerError(f"{where}: empty alias for {code}")
        if unique and alias in aliases:
            raise GazetteerError(f"{where}: alias {alias!r} already maps to {aliases[alias]}")
        if aliases.get(alias, code) != code:
            raise GazetteerError(f"{where}: alias {alias!r} already maps to {aliases[alias]}")
        aliases[alias] = code
        added.append(alias)
    return tuple(added)


def _day(cell: str, where: str, column: str, *, end: bool) -> date | None:
    """A from/to value: empty (open), a year (its first or, for `end`, last day) or a YYYY-MM-DD day."""
    cell = cell.strip()
    if not cell:
        return None
    try:
        if not _DAY.match(cell):
            raise ValueError(cell)
        if len(cell) == 4:
            return date(int(cell), 12, 31) if end else date(int(cell), 1, 1)
        return date.fromisoformat(cell)
    except ValueError:
        raise GazetteerError(f"{where}: bad {column!r} {cell!r} (a year, YYYY-MM-DD or empty)") from None


def _terms(since: str, until: str, where: str) -> tuple[Term, ...]:
    """Terms in office from the from/to cells: ";"-separated lists of equal length, one term each."""
    if not since and not until:
        return ()
    starts, ends = since.split(";"), until.split(";")
    if len(starts) != len(ends):
        raise GazetteerError(f"{where}: {len(starts)} 'from' values but {len(ends)} 'to' values")
    terms = []
    for start_cell, end_cell in zip(starts, ends, strict=True):
        first = _day(start_cell, where, "from", end=False)
        last = _day(end_cell, where, "to", end=True)
        if first is not None and last is not None and last < first:
            raise GazetteerError(f"{where}: 'to' {end_cell.strip()} is before 'from' {start_cell.strip()}")
        terms.append((first, last))
    return tuple(terms)


def _read_people(
    path: Path,
    actors: Mapping[str, Actor],
    aliases: dict[str, str],
    known: Mapping[str, Representative],
) -> dict[str, Representative]:
    """The people-and-bodies file: each row names an actor of the actor file it stands for."""
    _, rows = _read_csv(path, PEOPLE_HEADER)
    found: dict[str, Representative] = {}
    for where, row in rows:
        if len(row) > len(PEOPLE_HEADER):
            raise GazetteerError(f"{where}: expected at most {len(PEOPLE_HEADER)} columns, got {len(row)}")
        actor, role, name, alias_field, since, until, note = (
            cell.strip() for cell in row + [""] * (len(PEOPLE_HEADER) - len(row))
        )
        if role == BLOCK_ROLE:
            if actor != BLOCK_CODE:
                raise GazetteerError(f"{where}: a block row's actor must be {BLOCK_CODE!r}, not {actor!r}")
            _add_aliases(aliases, alias_field, BLOCK_CODE, where)
            continue
        if role not in ROLES:
            raise GazetteerError(f"{where}: unknown role {role!r} (one of {', '.join(sorted(ROLES))}, block)")
        if actor not in actors:
            raise GazetteerError(f"{where}: unknown actor code {actor!r} (not a code of the actor file)")
        if not name:
            raise GazetteerError(f"{where}: empty name")
        if name in found or name in known:
            raise GazetteerError(f"{where}: duplicate name {name!r}")
        terms = _terms(since, until, where)
        row_aliases = _add_aliases(aliases, alias_field, actor, where, unique=True)
        found[name] = Representative(name, actor, role, row_aliases, terms, note)
    return found


@functools.lru_cache(maxsize=8)
def load_gazetteer(path: Path | None = None) -> Gazetteer:
    """The gazetteer, loaded and compiled once per path and process."""
    return Gazetteer.from_file(Path(path) if path else DEFAULT_GAZETTEER)
