"""Incident logic (pipeline.incidents): pure, on synthetic candidates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from pipeline.incidents import Candidate, Evidence, IncidentParams, advance, fold

START = date(2026, 3, 1)
PARAMS = IncidentParams(quiet_days=5, page_severity="warning")


def day(n: int) -> date:
    return START + timedelta(days=n)


def cand(n: int, actor: str, severity: str = "warning", *, partners: tuple[str, ...] = (), kind: str = "escalation",
         context: float = 0.0, surprise: float | None = None, text: str | None = None) -> Candidate:
    surprise = surprise if surprise is not None else {"watch": 3.5, "warning": 6.0, "critical": 9.0}[severity]
    evidence = (Evidence(text=text or f"{actor} forces shelled a border town on day {n}", score=0.8, day=day(n)),)
    return Candidate(day(n), actor, kind, severity, surprise, partners, context, 3, 2, evidence)


def by_day(*candidates: Candidate) -> dict[date, list[Candidate]]:
    out: dict[date, list[Candidate]] = {}
    for c in candidates:
        out.setdefault(c.day, []).append(c)
    return out


def test_a_new_front_pages_once_and_gathers_its_evidence():
    timeline = fold(by_day(cand(0, "AAA", partners=("BBB",)), cand(1, "BBB", partners=("AAA",)),
                           cand(2, "AAA")), PARAMS, until=day(20))
    assert len(timeline.incidents) == 1
    incident = timeline.incidents[0]
    assert incident.actors == {"AAA", "BBB"}
    assert (incident.opened, incident.alerts, incident.first_paged) == (day(0), 3, day(0))
    assert len(incident.evidence) == 3
    assert [(p.day, p.reason) for p in timeline.pages] == [(day(0), "open")]


def test_an_ongoing_war_covered_every_day_does_not_page_again():
    daily = [cand(n, "AAA", "warning", partners=("BBB",)) for n in range(40)]
    timeline = fold(by_day(*daily), PARAMS)
    assert len(timeline.pages) == 1
    assert len(timeline.incidents) == 1 and timeline.incidents[0].alerts == 40
    assert timeline.incidents[0].is_open  # still covered on the last day


def test_a_new_actor_pair_on_an_ongoing_actor_is_a_new_incident():
    timeline = fold(by_day(cand(0, "AAA", partners=("BBB",)), cand(3, "AAA", partners=("CCC",))), PARAMS)
    assert [sorted(i.actors) for i in timeline.incidents] == [["AAA", "BBB"], ["AAA", "CCC"]]
    assert [p.reason for p in timeline.pages] == ["open", "open"]


def test_rising_severity_pages_again_and_a_repeat_does_not():
    timeline = fold(by_day(cand(0, "AAA", "warning"), cand(1, "AAA", "critical"), cand(2, "AAA", "critical"),
                           cand(3, "AAA", "warning")), PARAMS)
    assert [(p.day, p.reason, p.severity, p.previous_severity) for p in timeline.pages] == [
        (day(0), "open", "warning", None),
        (day(1), "upgrade", "critical", "warning"),
    ]
    assert timeline.incidents[0].severity == "critical"


def test_below_the_paging_severity_nobody_is_paged_until_it_rises():
    timeline = fold(by_day(cand(0, "AAA", "watch"), cand(1, "AAA", "watch"), cand(2, "AAA", "warning")), PARAMS)
    assert [(p.day, p.reason) for p in timeline.pages] == [(day(2), "open")]
    assert timeline.incidents[0].opened == day(0)


def test_an_incident_closes_after_the_quiet_spell_and_a_later_flare_opens_a_new_one():
    timeline = fold(by_day(cand(0, "AAA"), cand(3, "AAA"), cand(3 + PARAMS.quiet_days + 1, "AAA")), PARAMS)
    first, second = timeline.incidents
    assert first.closed == day(3 + PARAMS.quiet_days) and first.alerts == 2
    assert second.opened == day(3 + PARAMS.quiet_days + 1) and second.number != first.number
    assert [p.reason for p in timeline.pages] == ["open", "open"]


def test_an_alert_inside_the_quiet_spell_keeps_the_incident_open():
    timeline = fold(by_day(cand(0, "AAA"), cand(PARAMS.quiet_days, "AAA")), PARAMS)
    assert len(timeline.incidents) == 1 and timeline.incidents[0].alerts == 2


def test_thin_coverage_still_pages():
    thin = Candidate(day(0), "AAA", "escalation", "warning", 5.5, (), 0.0, 1, 1,
                     (Evidence(text="soldiers detained the president", score=0.9),))
    outcome = advance((), day(0), [thin], PARAMS)
    assert [p.reason for p in outcome.pages] == ["open"]


def test_a_disaster_only_day_opens_no_escalation_incident():
    quake = cand(0, "AAA", "critical", context=0.9, text="an earthquake killed hundreds")
    outcome = advance((), day(0), [quake], PARAMS)
    assert outcome.incidents == () and outcome.pages == ()
    assert outcome.held_back == (quake,)


def test_disaster_context_does_not_raise_an_open_incident():
    timeline = fold(by_day(cand(0, "AAA", "warning"), cand(1, "AAA", "critical", context=0.8)), PARAMS)
    assert [p.reason for p in timeline.pages] == ["open"]
    assert timeline.incidents[0].severity == "warning"


def test_mostly_political_evidence_with_some_disaster_context_still_opens():
    outcome = advance((), day(0), [cand(0, "AAA", context=0.2)], PARAMS)
    assert len(outcome.pages) == 1


def test_the_global_pseudo_actor_never_pages_nor_partners():
    outcome = advance((), day(0), [cand(0, "ALL", "critical"), cand(0, "AAA", partners=("ALL",))], PARAMS)
    assert [sorted(i.actors) for i in outcome.incidents] == [["AAA"]]
    assert all("ALL" not in p.incident.actors for p in outcome.pages)


def test_several_actor_codes_of_one_breaking_story_page_once():
    outcome = advance((), day(0), [cand(0, "AAA", partners=("BBB",)), cand(0, "CCC", "watch", partners=("AAA",)),
                                   cand(0, "BBB", partners=("AAA",))], PARAMS)
    assert len(outcome.incidents) == 1 and len(outcome.pages) == 1
    assert outcome.incidents[0].actors == {"AAA", "BBB", "CCC"}


def test_escalation_and_deescalation_are_separate_incidents():
    outcome = advance((), day(0), [cand(0, "AAA"), cand(0, "AAA", kind="deescalation")], PARAMS)
    assert sorted(i.kind for i in outcome.incidents) == ["deescalation", "escalation"]


def test_wire_copies_count_once_in_the_evidence():
    same = "Troops crossed the border at dawn"
    timeline = fold(by_day(cand(0, "AAA", text=same), cand(1, "AAA", text=same.upper())), PARAMS)
    assert len(timeline.incidents[0].evidence) == 1


def test_a_candidate_for_another_day_is_refused():
    with pytest.raises(ValueError, match="given for"):
        advance((), day(1), [cand(0, "AAA")], PARAMS)


@pytest.mark.parametrize(
    "changes", [{"quiet_days": 0}, {"page_severity": "loud"}, {"max_context_share": 0.0}, {"evidence_limit": 0}]
)
def test_bad_params_are_refused(changes):
    with pytest.raises(ValueError):
        IncidentParams(**changes)


def test_bad_candidates_are_refused():
    with pytest.raises(ValueError):
        Candidate(day(0), "AAA", "war", "warning", 6.0)
    with pytest.raises(ValueError):
        Candidate(day(0), "AAA", "escalation", "warning", 6.0, context_share=1.5)


def test_an_incident_at_the_top_severity_re_pages_when_it_gets_much_worse():
    params = IncidentParams(quiet_days=5, upgrade_factor=1.5)
    timeline = fold(by_day(cand(0, "AAA", "critical", surprise=10.0), cand(1, "AAA", "critical", surprise=14.0),
                           cand(2, "AAA", "critical", surprise=15.0), cand(3, "AAA", "critical", surprise=22.0)),
                    params)
    assert [(p.day, p.reason) for p in timeline.pages] == [(day(0), "open"), (day(2), "upgrade")]
    assert timeline.incidents[0].paged_surprise == 15.0  # the next upgrade needs 22.5: day 3 repeats it


def test_without_an_upgrade_factor_only_a_higher_severity_re_pages():
    params = IncidentParams(quiet_days=5, upgrade_factor=None)
    timeline = fold(by_day(cand(0, "AAA", "critical", surprise=10.0), cand(1, "AAA", "critical", surprise=40.0)),
                    params)
    assert [p.reason for p in timeline.pages] == ["open"]


def test_an_incident_keeps_its_lead_actor_and_the_refs_of_its_candidates():
    first = replace(cand(0, "AAA", partners=("BBB",)), ref=11)
    second = replace(cand(1, "BBB", partners=("AAA",)), ref=12)
    (incident,) = fold(by_day(first, second), PARAMS, until=day(3)).incidents
    assert incident.lead == "AAA" and incident.refs == (11, 12)


def test_wire_copies_of_one_text_are_one_evidence_entry_with_their_copies_added():
    wire = "Militia fighters stormed the airport"
    a = replace(cand(0, "AAA"), evidence=(Evidence(text=wire, score=0.7, outlet="one", copies=2, outlets=2),))
    b = replace(cand(1, "AAA"), evidence=(Evidence(text=wire.upper(), score=0.9, outlet="two", copies=3, outlets=1),))
    (incident,) = fold(by_day(a, b), PARAMS, until=day(2)).incidents
    (item,) = incident.evidence
    assert (item.copies, item.outlets, item.score, item.outlet) == (5, 2, 0.9, "two")


def test_an_upgrade_page_at_the_same_severity_says_what_it_last_paged_at():
    timeline = fold(by_day(cand(0, "AAA", "critical", surprise=9.0), cand(2, "AAA", "critical", surprise=20.0)),
                    PARAMS, until=day(3))
    opened, upgraded = timeline.pages
    assert opened.previous_surprise is None
    assert (upgraded.reason, upgraded.previous_severity, upgraded.previous_surprise) == ("upgrade", "critical", 9.0)


def test_a_grave_act_joining_a_paged_incident_pages_once_more():
    # An offensive already paged at critical; three days later the capital falls (a rare grave act,
    # at 'warning': no higher severity, no bigger surprise) and, the day after, falls again in the news.
    params = IncidentParams(quiet_days=5, upgrade_factor=1.5)
    offensive = cand(0, "AAA", "critical", surprise=9.0)
    capital = replace(cand(3, "AAA", "warning", surprise=5.0), grave=True)
    again = replace(cand(4, "AAA", "warning", surprise=5.0), grave=True)
    timeline = fold(by_day(offensive, cand(2, "AAA", "critical", surprise=9.5), capital, again), params)
    assert [(p.day, p.reason) for p in timeline.pages] == [(day(0), "open"), (day(3), "grave act")]
    grave = timeline.pages[1]
    assert grave.cause is capital and grave.severity == "critical" and grave.previous_severity == "critical"
    (incident,) = timeline.incidents
    assert incident.grave_paged and incident.paged_surprise == 9.0  # a later upgrade still measures from 9
    # without the grave act, day 3 is a repeat
    plain = fold(by_day(offensive, replace(capital, grave=False)), params)
    assert [p.reason for p in plain.pages] == ["open"]


def test_an_incident_opened_by_a_grave_act_does_not_page_for_it_again():
    coup = replace(cand(0, "AAA", "warning", surprise=5.0), grave=True)
    repeat = replace(cand(2, "AAA", "warning", surprise=5.0), grave=True)
    timeline = fold(by_day(coup, repeat), PARAMS)
    assert [(p.day, p.reason) for p in timeline.pages] == [(day(0), "open")]
    # and a grave act below the paging severity pages nothing until the incident itself pages
    quiet = replace(cand(0, "BBB", "watch"), grave=True)
    assert fold(by_day(quiet), PARAMS).pages == []


def test_equal_scores_keep_one_evidence_order_whichever_order_the_alerts_came_in():
    texts = ("Militias shelled the port", "Drones struck the depot", "Rockets hit the base")
    orders = []
    for order in (texts, texts[::-1]):
        candidates = [
            replace(cand(0, "AAA"), evidence=tuple(Evidence(text=t, score=0.8, day=day(0)) for t in order))
        ]
        (incident,) = fold(by_day(*candidates), PARAMS, until=day(1)).incidents
        orders.append([e.text for e in incident.evidence])
    assert orders[0] == orders[1] == sorted(texts)
