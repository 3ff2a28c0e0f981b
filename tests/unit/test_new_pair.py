"""The detector's new-pair path (pipeline.detector) on synthetic day series: an actor pair named in
escalatory material texts that had no such text for months is a new front, even when each actor's
own history is busy."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from pipeline.config import DetectionParams
from pipeline.detector import MASS_MEASURE, NEW_PAIR_MEASURE, DayRow, day_row, detect, detect_actor
from pipeline.incidents import Candidate as IncidentCandidate
from pipeline.incidents import IncidentParams, fold

START = date(2026, 1, 1)
PARAMS = DetectionParams(
    ranking="mass", mass_baseline_days=90, mass_spread_floor=0.75, rhetoric_weight=0.4, min_mass=1.0,
    outlet_share=0.25, guard_days=2, min_history_days=7, mass_index_rise=0.0, rare_act_categories=(),
    new_pair=True, new_pair_days=180, new_pair_min_mass=0.6, new_pair_window_days=1, new_pair_prior_ratio=0.0,
)


def day(i: int) -> date:
    return START + timedelta(days=i)


def row(i: int, material: float = 0.0, outlets: int = 1, active: int = 2, pairs=(), **more) -> DayRow:
    return DayRow(
        day(i), articles=max(1, outlets), sources=max(1, outlets), material_mass=material,
        escalatory_outlets=outlets, escalatory_texts=max(1, round(material)), active_outlets=active,
        pairs=tuple(sorted(pairs)), **more,
    )


def busy(days: range, partner: str = "OLD") -> dict[date, DayRow]:
    """An actor at war with `partner` every day: heavy mass, its own baseline."""
    return {day(i): row(i, material=3.0 + (i % 4) * 0.5, outlets=2, pairs=[(partner, 2.0, 2)]) for i in days}


def alerts(series, days, params=PARAMS, actor="ISR"):
    return detect_actor(actor, series, START, days, "escalation", params).candidates


def test_a_new_pair_of_a_busy_actor_pages_once():
    series = busy(range(0, 220))
    # from day 200 a new front: a second actor named with ISR in one outlet's material texts
    for i in range(200, 210):
        series[day(i)] = row(i, material=3.5, outlets=2, pairs=[("OLD", 2.0, 2), ("NEW", 0.7, 1)])
    found = alerts(series, [day(i) for i in range(150, 215)])
    assert [(c.day, c.measure, c.partner, c.severity) for c in found] == [
        (day(200), NEW_PAIR_MEASURE, "NEW", "warning")
    ]
    assert found[0].surprise == PARAMS.warning
    # the day is ordinary for ISR's own mass: without the path nothing alerts
    assert alerts(series, [day(i) for i in range(150, 215)], replace(PARAMS, new_pair=False)) == ()
    # folded into incidents, the ten days of the new front page once, as the pair's incident
    candidates = {
        c.day: [IncidentCandidate(day=c.day, actor=c.actor, kind=c.kind, severity=c.severity, surprise=c.surprise,
                                  counterparts=(c.partner,))]
        for c in found
    }
    timeline = fold(candidates, IncidentParams(), since=day(150), until=day(215))
    assert [(p.day, p.reason, sorted(p.incident.actors)) for p in timeline.pages] == [(day(200), "open", ["ISR", "NEW"])]


def test_a_pair_at_war_for_weeks_does_not_re_page():
    series = busy(range(0, 220))
    assert alerts(series, [day(i) for i in range(150, 220)]) == ()
    # a second front opens on day 50 and goes on for weeks, pauses a month, and resumes on day 130
    for i in [*range(50, 100), *range(130, 140)]:
        series[day(i)] = row(i, material=3.5, outlets=2, pairs=[("OLD", 2.0, 2), ("NEW", 0.7, 1)])
    assert [(c.day, c.partner) for c in alerts(series, [day(i) for i in range(40, 150)])] == [(day(50), "NEW")]
    # a pause longer than new_pair_days makes the pair new again
    short = replace(PARAMS, new_pair_days=20)
    assert [(c.day, c.partner) for c in alerts(series, [day(i) for i in range(40, 150)], short)] == [
        (day(50), "NEW"), (day(130), "NEW")
    ]


def test_a_pair_with_a_little_prior_front_is_renewed_when_its_last_days_outweigh_it():
    series = busy(range(0, 220))
    series[day(120)] = row(120, material=3.0, outlets=2, pairs=[("OLD", 2.0, 2), ("NEW", 0.5, 1)])
    series[day(200)] = row(200, material=3.5, outlets=2, pairs=[("OLD", 2.0, 2), ("NEW", 0.8, 1)])
    assert alerts(series, [day(200)]) == ()  # ratio 0: any prior front makes it old
    assert alerts(series, [day(200)], replace(PARAMS, new_pair_prior_ratio=0.5)) == ()  # 0.5 > 0.5 * 0.8
    (found,) = alerts(series, [day(200)], replace(PARAMS, new_pair_prior_ratio=1.0))  # 0.5 <= 0.8
    assert found.partner == "NEW"
    # the prior weighs outlets as the window does: the same prior front from two outlets is sqrt(2)
    # heavier (0.71 against 0.85 * 0.8 = 0.68)
    ratio = replace(PARAMS, new_pair_prior_ratio=0.85)
    assert [c.partner for c in alerts(series, [day(200)], ratio)] == ["NEW"]
    series[day(120)] = row(120, material=3.0, outlets=2, pairs=[("OLD", 2.0, 2), ("NEW", 0.5, 2)])
    assert alerts(series, [day(200)], ratio) == ()


def test_a_front_reported_over_two_days_sums_its_window():
    # a thin corpus: one outlet names the pair on two days, each under the floor, the two together over it
    series = busy(range(0, 220))
    for i, mass in ((199, 0.4), (200, 0.4)):
        series[day(i)] = row(i, material=3.5, outlets=2, pairs=[("OLD", 2.0, 2), ("NEW", mass, 1)])
    days = [day(i) for i in range(195, 205)]
    assert alerts(series, days) == ()  # a one-day window: each day under 0.6
    two = replace(PARAMS, new_pair_window_days=2)
    assert [(c.day, c.partner) for c in alerts(series, days, two)] == [(day(200), "NEW")]
    # the window needs the pair today: the day after, with no text naming it, does not alert
    assert alerts(series, [day(201)], two) == ()


def test_a_renewed_front_of_a_pair_that_had_weeks_of_war_does_not_page():
    series = busy(range(0, 220))
    for i in range(150, 190):  # weeks of a front that then goes quiet for ten days
        series[day(i)] = row(i, material=3.5, outlets=2, pairs=[("OLD", 2.0, 2), ("NEW", 0.7, 1)])
    series[day(200)] = row(200, material=3.5, outlets=2, pairs=[("OLD", 2.0, 2), ("NEW", 1.5, 1)])
    renewed = replace(PARAMS, new_pair_window_days=2, new_pair_prior_ratio=0.5, new_pair_days=45)
    assert alerts(series, [day(200)], renewed) == ()  # 40 days x 0.7 against 1.5
    # the same flare after a quiet spell longer than new_pair_days (day 200 included) is renewed
    series[day(260)] = row(260, material=3.5, outlets=2, pairs=[("OLD", 2.0, 2), ("NEW", 1.5, 1)])
    assert [c.partner for c in alerts(series, [day(260)], renewed)] == ["NEW"]


def test_a_weak_pair_or_one_from_too_few_outlets_does_not_page():
    series = busy(range(0, 220))
    series[day(200)] = row(200, material=3.5, outlets=2, pairs=[("OLD", 2.0, 2), ("NEW", 0.5, 1)])
    assert alerts(series, [day(200)]) == ()  # under the pair floor
    series[day(200)] = row(200, material=3.5, outlets=5, active=16, pairs=[("OLD", 2.0, 5), ("NEW", 0.9, 1)])
    assert alerts(series, [day(200)]) == ()  # 16 outlets active: the pair needs 4
    series[day(200)] = row(200, material=3.5, outlets=5, active=16, pairs=[("OLD", 2.0, 5), ("NEW", 0.9, 4)])
    assert [c.measure for c in alerts(series, [day(200)])] == [NEW_PAIR_MEASURE]


def test_a_quiet_actor_with_a_new_pair_below_min_mass_pages_on_the_pair_floor():
    series = {day(200): row(200, material=0.7, pairs=[("POL", 0.7, 1)])}
    (found,) = alerts(series, [day(i) for i in range(195, 205)], actor="BLR")
    assert (found.day, found.partner, found.measure) == (day(200), "POL", NEW_PAIR_MEASURE)
    assert alerts(series, [day(200)], replace(PARAMS, new_pair=False), actor="BLR") == ()


def test_a_disaster_only_day_has_no_pair_and_does_not_page():
    # the store leaves texts in disaster/accident/crime context out of the pair masses: such a day
    # has context texts and no pairs
    series = {day(200): row(200, material=0.0, context_texts=6, outlets=2)}
    assert alerts(series, [day(200)], actor="HTI") == ()


def test_all_never_pages_and_is_never_a_partner():
    series = {day(200): row(200, material=2.0, pairs=[("ALL", 2.0, 2), ("ISR", 0.5, 1)])}
    assert alerts(series, [day(200)], actor="PIJ") == ()  # ALL is no partner, ISR under the floor
    everything = {day(200): row(200, material=2.0, pairs=[("ISR", 2.0, 2)])}
    assert alerts(everything, [day(200)], actor="ALL") == ()
    found = detect({"ALL": everything, "PIJ": everything}, {"ALL": START, "PIJ": START}, [day(200)], PARAMS)
    assert [(c.actor, c.partner) for c in found.candidates] == [("PIJ", "ISR")]


def test_a_big_day_keeps_the_mass_verdict():
    series = {day(200): row(200, material=8.0, outlets=2, pairs=[("NEW", 8.0, 2)])}
    (found,) = alerts(series, [day(200)])
    assert found.measure == MASS_MEASURE and found.severity == "critical" and found.partner is None


def test_the_first_week_of_the_warehouse_does_not_alert_on_a_new_pair():
    series = {day(3): row(3, material=1.2, pairs=[("NEW", 1.2, 1)])}
    assert alerts(series, [day(3)]) == ()


def test_stored_pair_masses_are_read_as_json_or_a_mapping():
    stored = {"articles": 1, "sources": 1, "pair_masses": '{"POL": [0.7, 1], "EU": [1.4, 2]}'}
    assert day_row(day(0), stored).pairs == (("EU", 1.4, 2), ("POL", 0.7, 1))
    assert day_row(day(0), {**stored, "pair_masses": {}}).pairs == ()
    assert day_row(day(0), {"articles": 1, "sources": 1}).pairs == ()
    for bad in ("[1, 2]", '{"POL": 0.7}', '{"POL": [0.7]}'):
        with pytest.raises(ValueError, match="pair_masses"):
            day_row(day(0), {**stored, "pair_masses": bad})


@pytest.mark.parametrize(
    "changes",
    [{"new_pair_days": 0}, {"new_pair_min_mass": 0.0}, {"new_pair_window_days": 0}, {"new_pair_prior_ratio": -1.0}],
)
def test_new_pair_settings_are_validated(changes):
    with pytest.raises(ValueError, match="new_pair"):
        replace(PARAMS, **changes)


def test_the_switch_comes_from_the_environment():
    from pipeline.config import load_settings

    defaults = load_settings({}).detection
    assert defaults.new_pair is True
    assert (defaults.new_pair_days, defaults.new_pair_window_days, defaults.new_pair_prior_ratio) == (45, 2, 0.5)
    assert load_settings({"ESCALATION_NEW_PAIR": "0"}).detection.new_pair is False
    env = {"ESCALATION_NEW_PAIR_DAYS": "90", "ESCALATION_NEW_PAIR_WINDOW_DAYS": "3", "ESCALATION_NEW_PAIR_PRIOR_RATIO": "1"}
    on = load_settings(env).detection
    assert (on.new_pair_days, on.new_pair_window_days, on.new_pair_prior_ratio) == (90, 3, 1.0)
