"""Incidents: the day's alerts folded into stories an on-call analyst is paged about once.

Pure logic: no database, no clock, no I/O. A detector (today `alerts.detect`, later the pure
detector module) hands over `Candidate` records, one per (day, actor, kind) that alerted; this
module decides which incident each belongs to and who gets paged.

- An incident is a kind (escalation | deescalation) and an actor, or an actor pair when the
  evidence names both (`Candidate.counterparts`, strongest first).
- A candidate joins an open incident of its kind when its actors are a subset of the incident's
  (the pair's story goes on), or the incident's are a subset of its own (a one-actor incident gains
  its counterpart), or the incident opened this very day and they share an actor (one story
  breaking under several actor codes). Any other pair is a new incident: a new front, a new dyad.
- An incident closes when `quiet_days` whole days pass without a candidate joining it (its
  `closed` day is the last of them); a later flare of the same actors opens a new incident.
- Paging: an incident pages when its severity first reaches `page_severity` (reason "open"), and
  again only when it gets worse ("upgrade"): its severity rises above the highest it paged at, or,
  with `upgrade_factor`, a day's surprise reaches that factor times the surprise it last paged at
  (a war already "critical" that breaks out on a new scale); and once ("grave act") when a candidate
  carrying a grave act of a kind its actor had not had for long (`Candidate.grave`: the detector's
  rare act, a seizure of power) joins an incident that already paged without one: an offensive
  that takes the capital. Never for a repeat.
- The pseudo-actor ALL (the whole corpus) never forms an incident and is never a counterpart.
- Disasters and accidents: the caller gives each candidate `context_share`, the share of its
  escalatory evidence whose sentences describe a natural disaster or an accident rather than an
  act by someone. An escalation candidate at or above `max_context_share` neither opens nor
  raises an incident (it is returned as held back, so a reader sees what was withheld and why).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from pipeline.actors import ALL_ACTORS
from pipeline.config import GRAVE_ACT_PAGE, SEVERITIES

KINDS = ("escalation", "deescalation")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
MAX_INCIDENT_ACTORS = 4  # a story merged under more actor codes than this is several stories


@dataclass(frozen=True)
class Evidence:
    """One sentence behind a candidate (as the detector's evidence query returns it)."""

    text: str
    title: str = ""
    url: str | None = None
    outlet: str = ""
    day: date | None = None
    score: float = 0.0
    sentence_id: int | None = None
    copies: int = 1  # items that carried this very text (wire copies of one report)
    outlets: int = 1  # distinct outlets among them


@dataclass(frozen=True)
class Candidate:
    """One detector alert: an actor's kind of signal that stood out on a day."""

    day: date
    actor: str
    kind: str  # escalation | deescalation
    severity: str  # watch | warning | critical
    surprise: float
    counterparts: tuple[str, ...] = ()  # other actors the evidence names with this one, strongest first
    context_share: float = 0.0  # share of the escalatory evidence that is disaster/accident context
    articles: int = 0
    sources: int = 0
    evidence: tuple[Evidence, ...] = ()
    ref: int | None = None  # the caller's id of the alert behind it (kept on the incident)
    grave: bool = False  # a grave act of a kind its actor had not had for long (the detector's rare act)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {self.severity!r}")
        if not 0.0 <= self.context_share <= 1.0:
            raise ValueError(f"context_share must be in [0, 1], not {self.context_share}")

    @property
    def actors(self) -> frozenset[str]:
        """The actor, with its strongest counterpart when the evidence names one."""
        partners = [c for c in self.counterparts if c not in (self.actor, ALL_ACTORS)]
        return frozenset((self.actor, *partners[:1]))


@dataclass(frozen=True)
class IncidentParams:
    quiet_days: int = 7  # days without a joining candidate after which an incident closes
    page_severity: str = "warning"  # an incident pages when it reaches this
    max_context_share: float = 0.5  # escalation evidence at least this much disaster/accident: held back
    evidence_limit: int = 10  # distinct sentences an incident keeps
    # Re-page an incident whose day's surprise reaches this multiple of the one it last paged at
    # (None: only a higher severity re-pages).
    upgrade_factor: float | None = 1.5

    def __post_init__(self) -> None:
        if self.quiet_days < 1:
            raise ValueError(f"quiet_days must be >= 1, not {self.quiet_days}")
        if self.page_severity not in SEVERITY_RANK:
            raise ValueError(f"page_severity must be one of {', '.join(SEVERITIES)}, not {self.page_severity!r}")
        if not 0.0 < self.max_context_share <= 1.0:
            raise ValueError(f"max_context_share must be in (0, 1], not {self.max_context_share}")
        if self.evidence_limit < 1:
            raise ValueError(f"evidence_limit must be >= 1, not {self.evidence_limit}")
        if self.upgrade_factor is not None and self.upgrade_factor <= 1.0:
            raise ValueError(f"upgrade_factor must be > 1 (or None), not {self.upgrade_factor}")


@dataclass(frozen=True)
class Incident:
    number: int  # sequence number in the fold that opened it (a store gives it its own id)
    kind: str
    actors: frozenset[str]
    opened: date
    last_alert: date
    severity: str  # the highest severity of its candidates so far
    peak_surprise: float
    alerts: int
    evidence: tuple[Evidence, ...]
    paged_severity: str | None = None  # the highest severity it paged at
    paged_surprise: float | None = None  # the surprise of its last page
    first_paged: date | None = None
    closed: date | None = None
    lead: str = ""  # the actor of the candidate that opened it (with kind and opened: its natural key)
    refs: tuple[int, ...] = ()  # the `ref`s of the candidates that joined it, in order
    grave_paged: bool = False  # it paged on a day a grave-act candidate joined it

    @property
    def is_open(self) -> bool:
        return self.closed is None

    @property
    def paged(self) -> bool:
        return self.first_paged is not None


@dataclass(frozen=True)
class Page:
    day: date
    reason: str  # open (its first page) | upgrade (it got worse since) | grave act (a grave act joined it)
    incident: Incident  # as it stands after the day's candidates
    severity: str
    previous_severity: str | None  # the severity it paged at before (upgrade), else None
    cause: Candidate  # the candidate that raised it
    previous_surprise: float | None = None  # the surprise of its page before (upgrade), else None


@dataclass(frozen=True)
class DayOutcome:
    incidents: tuple[Incident, ...]  # open after the day
    pages: tuple[Page, ...]
    closed: tuple[Incident, ...]  # closed by the quiet spell before this day
    held_back: tuple[Candidate, ...]  # disaster/accident-context escalation candidates


@dataclass
class Timeline:
    """Every incident of a fold over days (open ones last), the pages and the held-back candidates."""

    incidents: list[Incident] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    held_back: list[Candidate] = field(default_factory=list)


def _rank(severity: str | None) -> int:
    return -1 if severity is None else SEVERITY_RANK[severity]


def _merged_evidence(old: Sequence[Evidence], new: Iterable[Evidence], limit: int) -> tuple[Evidence, ...]:
    """The strongest distinct sentences (by |score|; the same text from two outlets counts once: its
    copies add up, its outlets are the most any one day saw)."""
    seen: dict[str, Evidence] = {}
    for item in (*old, *new):
        key = " ".join(item.text.casefold().split())
        if key not in seen:
            seen[key] = item
            continue
        known = seen[key]
        best = item if abs(item.score) > abs(known.score) else known
        seen[key] = replace(best, copies=known.copies + item.copies, outlets=max(known.outlets, item.outlets))
    # equal scores in text order: the same evidence whichever order the alerts came in
    ordered = sorted(seen.items(), key=lambda item: (-abs(item[1].score), item[0]))
    return tuple(evidence for _, evidence in ordered[:limit])


def _joins(incident: Incident, candidate: Candidate, day: date) -> bool:
    if incident.kind != candidate.kind:
        return False
    mine = candidate.actors
    if mine <= incident.actors or incident.actors <= mine:
        return True
    return incident.opened == day and bool(mine & incident.actors)


def _home(incidents: Sequence[Incident], candidate: Candidate, day: date) -> int | None:
    """Index of the open incident the candidate joins (most shared actors, then most recent)."""
    best: tuple[int, date, int] | None = None
    for index, incident in enumerate(incidents):
        if _joins(incident, candidate, day):
            rank = (len(candidate.actors & incident.actors), incident.last_alert, index)
            if best is None or rank > best:
                best = rank
    return None if best is None else best[2]


def held_back(candidate: Candidate, params: IncidentParams) -> bool:
    """A disaster or accident, not an escalation by anyone: it opens and raises nothing."""
    return candidate.kind == "escalation" and candidate.context_share >= params.max_context_share


def advance(
    incidents: Sequence[Incident],
    day: date,
    candidates: Iterable[Candidate],
    params: IncidentParams,
    *,
    next_number: int | None = None,
) -> DayOutcome:
    """One day: close what went quiet, fold the day's candidates into incidents, decide the pages.

    `incidents` are the open incidents before `day` (closed ones are ignored); the result's
    `incidents` are those open after it. New incidents are numbered from `next_number`
    (default: one more than the highest number given, so pass it when closed ones are not given)."""
    still_open: list[Incident] = []
    closed: list[Incident] = []
    for incident in incidents:
        if not incident.is_open:
            continue
        if (day - incident.last_alert).days > params.quiet_days:  # a whole quiet spell went by
            closed.append(replace(incident, closed=incident.last_alert + timedelta(days=params.quiet_days)))
        else:
            still_open.append(incident)
    number = next_number if next_number is not None else max((i.number for i in incidents), default=0) + 1
    withheld: list[Candidate] = []
    strongest: dict[int, Candidate] = {}  # incident number -> today's most severe, most surprising candidate
    graves: dict[int, Candidate] = {}  # incident number -> today's first grave-act candidate
    ordered = sorted(
        (c for c in candidates if c.actor != ALL_ACTORS),
        key=lambda c: (-_rank(c.severity), -c.surprise, c.actor, c.kind),
    )
    for candidate in ordered:
        if candidate.day != day:
            raise ValueError(f"a candidate of {candidate.day} given for {day}")
        if held_back(candidate, params):
            withheld.append(candidate)
            continue
        home = _home(still_open, candidate, day)
        if home is None:
            incident = Incident(
                number=number,
                kind=candidate.kind,
                actors=candidate.actors,
                opened=day,
                last_alert=day,
                severity=candidate.severity,
                peak_surprise=candidate.surprise,
                alerts=1,
                evidence=_merged_evidence((), candidate.evidence, params.evidence_limit),
                lead=candidate.actor,
                refs=() if candidate.ref is None else (candidate.ref,),
            )
            number += 1
            still_open.append(incident)
            strongest[incident.number] = candidate
            if candidate.grave:
                graves.setdefault(incident.number, candidate)
            continue
        incident = still_open[home]
        actors = incident.actors | candidate.actors
        rises = _rank(candidate.severity) > _rank(incident.severity)
        still_open[home] = replace(
            incident,
            actors=actors if len(actors) <= MAX_INCIDENT_ACTORS else incident.actors,
            last_alert=day,
            severity=candidate.severity if rises else incident.severity,
            peak_surprise=max(incident.peak_surprise, candidate.surprise),
            alerts=incident.alerts + 1,
            evidence=_merged_evidence(incident.evidence, candidate.evidence, params.evidence_limit),
            refs=incident.refs if candidate.ref is None else (*incident.refs, candidate.ref),
        )
        strongest.setdefault(incident.number, candidate)  # candidates come most severe first
        if candidate.grave:
            graves.setdefault(incident.number, candidate)
    pages: list[Page] = []
    floor = _rank(params.page_severity)
    for index, incident in enumerate(still_open):
        cause = strongest.get(incident.number)
        if cause is None or _rank(incident.severity) < floor:
            continue
        higher = _rank(incident.severity) > _rank(incident.paged_severity)
        worse = (
            params.upgrade_factor is not None
            and incident.paged_surprise is not None
            and cause.surprise >= params.upgrade_factor * incident.paged_surprise
        )
        grave = graves.get(incident.number)
        # a grave act it had not paged with: the story changed in kind, not in volume
        graver = grave is not None and incident.paged and not incident.grave_paged
        if not (higher or worse or graver):
            continue  # a repeat of what it already paged for
        first = incident.first_paged is None  # a first page is always `higher` (nothing paged before)
        reason = "open" if first else "upgrade"
        if not (higher or worse) and grave is not None:  # only `graver` holds
            reason, cause = GRAVE_ACT_PAGE, grave
        updated = replace(
            incident,
            paged_severity=incident.severity,
            paged_surprise=incident.paged_surprise if reason == GRAVE_ACT_PAGE else cause.surprise,
            first_paged=incident.first_paged or day,
            grave_paged=incident.grave_paged or grave is not None,
        )
        still_open[index] = updated
        pages.append(
            Page(
                day,
                reason,
                updated,
                updated.severity,
                incident.paged_severity,
                cause,
                incident.paged_surprise,
            )
        )
    return DayOutcome(tuple(still_open), tuple(pages), tuple(closed), tuple(withheld))


def fold(
    candidates_by_day: Mapping[date, Sequence[Candidate]],
    params: IncidentParams,
    *,
    since: date | None = None,
    until: date | None = None,
) -> Timeline:
    """`advance` over every day of [since, until] (default: the first to the last candidate's day),
    then every incident still open is listed as it stands (closed=None)."""
    timeline = Timeline()
    if not candidates_by_day and (since is None or until is None):
        return timeline
    day = since or min(candidates_by_day)
    last = until or max(candidates_by_day)
    open_incidents: tuple[Incident, ...] = ()
    number = 1
    while day <= last:
        outcome = advance(open_incidents, day, candidates_by_day.get(day, ()), params, next_number=number)
        number = max([number, *(i.number + 1 for i in outcome.incidents)])
        timeline.incidents.extend(outcome.closed)
        timeline.pages.extend(outcome.pages)
        timeline.held_back.extend(outcome.held_back)
        open_incidents = outcome.incidents
        day += timedelta(days=1)
    timeline.incidents.extend(open_incidents)
    return timeline
