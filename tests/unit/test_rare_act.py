"""The detector's rare-act path (pipeline.detector) on synthetic day series: a grave act of a kind the
actor has not had for a long time is news even from one outlet of a thin corpus."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from pipeline.config import DetectionParams
from pipeline.detector import MASS_MEASURE, RARE_ACT_MEASURE, DayRow, day_row, detect_actor
from pipeline.incidents import Candidate as IncidentCandidate
from pipeline.incidents import IncidentParams, fold

START = date(2026, 1, 1)
PARAMS = DetectionParams(
    ranking="mass", mass_baseline_days=90, mass_spread_floor=0.75, rhetoric_weight=0.4, min_mass=1.0,
    outlet_share=0.25, guard_days=2, min_history_days=7, mass_index_rise=0.0,
    rare_act_categories=("power_seizure",), rare_act_days=365, rare_act_min_score=0.5,
)


def day(i: int) -> date:
    return START + timedelta(days=i)


def row(i: int, material: float = 0.0, outlets: int = 1, active: int = 2, acts=(), **more) -> DayRow:
    return DayRow(
        day(i), articles=max(1, outlets), sources=max(1, outlets), material_mass=material,
        escalatory_outlets=outlets, escalatory_texts=max(1, round(material)), active_outlets=active,
        acts=tuple(sorted(acts)), **more,
    )


def alerts(series, days, params=PARAMS):
    return detect_actor("XYZ", series, START, days, "escalation", params).candidates


def test_a_rare_coup_of_a_quiet_actor_pages_once_from_one_outlet():
    # Silent for 200 days; then one outlet of two reports a coup (mass 1.2: z 1.6, under 'watch'),
    # and keeps reporting it for a week.
    series = {day(i): row(i, material=1.2, acts=[("power_seizure", 0.7)]) for i in range(200, 207)}
    found = alerts(series, [day(i) for i in range(195, 210)])
    assert len(found) == 1
    (coup,) = found
    assert coup.day == day(200) and coup.measure == RARE_ACT_MEASURE
    assert coup.severity == "warning" and coup.surprise == PARAMS.warning and coup.sources == 1
    # without the path the day is below every threshold
    off = replace(PARAMS, rare_act_categories=())
    assert alerts(series, [day(200)], off) == ()
    # folded into incidents, the week of coverage pages once
    candidates = {
        c.day: [IncidentCandidate(day=c.day, actor=c.actor, kind=c.kind, severity=c.severity, surprise=c.surprise)]
        for c in found
    }
    timeline = fold(candidates, IncidentParams(), since=day(195), until=day(210))
    assert [(p.day, p.reason) for p in timeline.pages] == [(day(200), "open")]


def test_the_same_act_repeated_in_an_ongoing_war_does_not_re_page():
    # Armed attacks reported every few days for months: the kind is not new, the day is ordinary.
    params = replace(PARAMS, rare_act_categories=("armed_attack",))
    series = {
        day(i): row(i, material=1.5 + (i % 3) * 0.3, acts=[("armed_attack", 0.8)]) for i in range(0, 200, 3)
    }
    series[day(201)] = row(201, material=1.5, acts=[("armed_attack", 0.9)])
    assert alerts(series, [day(i) for i in range(120, 202)], params) == ()


def test_a_kind_the_actor_had_long_ago_is_new_again_after_rare_act_days():
    series = {
        day(10): row(10, material=1.2, acts=[("power_seizure", 0.8)]),
        day(300): row(300, material=1.2, acts=[("power_seizure", 0.8)]),
    }
    assert alerts(series, [day(300)]) == ()  # a coup 290 days before: within the year
    (found,) = alerts(series, [day(300)], replace(PARAMS, rare_act_days=180))
    assert found.measure == RARE_ACT_MEASURE


def test_a_disaster_only_day_has_no_act_and_does_not_alert():
    # The store leaves texts read in a disaster or accident context out of the masses and the acts:
    # such a day is context_texts alone.
    series = {day(200): row(200, material=0.0, context_texts=6, outlets=2)}
    assert alerts(series, [day(200)]) == ()


def test_a_weak_mention_or_another_kind_does_not_alert():
    weak = {day(200): row(200, material=1.2, acts=[("power_seizure", 0.3)])}  # a stray word
    other = {day(200): row(200, material=1.2, acts=[("sanctions_coercion", 0.9)])}  # not a grave kind
    for series in (weak, other):
        assert alerts(series, [day(200)]) == ()


def test_one_coup_headline_under_min_mass_still_alerts_but_a_small_day_does_not():
    # The only text of a thin corpus that day: mass 0.7 < min_mass. Its act score is its floor.
    coup = {day(200): row(200, material=0.7, acts=[("power_seizure", 0.7)])}
    (found,) = alerts(coup, [day(200)])
    assert found.measure == RARE_ACT_MEASURE and found.value == pytest.approx(0.7)
    # the same small day without a grave act stays under every gate
    small = {day(200): row(200, material=0.7, acts=[("armed_attack", 0.7)])}
    assert alerts(small, [day(200)]) == ()


def test_thin_coverage_still_alerts_and_wide_coverage_asks_for_more_outlets():
    thin = {day(200): row(200, material=1.2, outlets=1, active=2, acts=[("power_seizure", 0.7)])}
    (found,) = alerts(thin, [day(200)])
    assert found.measure == RARE_ACT_MEASURE
    wide = {day(200): row(200, material=1.2, outlets=1, active=16, acts=[("power_seizure", 0.7)])}
    assert alerts(wide, [day(200)]) == ()  # 16 outlets active: one of them is not enough (needs 4)
    wide[day(200)] = row(200, material=1.2, outlets=4, active=16, acts=[("power_seizure", 0.7)])
    assert [c.measure for c in alerts(wide, [day(200)])] == [RARE_ACT_MEASURE]


def test_a_rare_act_that_is_also_a_big_day_keeps_the_mass_verdict():
    series = {day(200): row(200, material=8.0, outlets=2, acts=[("power_seizure", 0.9)])}
    (found,) = alerts(series, [day(200)])
    assert found.measure == MASS_MEASURE and found.severity == "critical"


def test_the_first_week_of_the_warehouse_alerts_on_a_rare_act_but_not_on_volume():
    # Three days of history: too few for a baseline, but a coup needs none (the capital stormed in the
    # warehouse's first week still pages); a heavy day of ordinary fighting then does not.
    series = {day(3): row(3, material=1.2, acts=[("power_seizure", 0.7)])}
    (found,) = alerts(series, [day(3)])
    assert found.measure == RARE_ACT_MEASURE and found.day == day(3)
    assert alerts({day(3): row(3, material=30.0, outlets=2, acts=[("armed_attack", 0.9)])}, [day(3)]) == ()
    # and not once the act has been seen: day 5 repeats the coup of day 3
    series[day(5)] = row(5, material=1.2, acts=[("power_seizure", 0.8)])
    assert [c.day for c in alerts(series, [day(3), day(5)])] == [day(3)]


def test_stored_act_scores_are_read_as_json_or_a_mapping():
    stored = {"articles": 1, "sources": 1, "act_scores": '{"power_seizure": 0.7, "armed_attack": 0.4}'}
    parsed = day_row(day(0), stored)
    assert parsed.acts == (("armed_attack", 0.4), ("power_seizure", 0.7))
    assert parsed.act_score("power_seizure") == 0.7 and parsed.act_score("casualties") == 0.0
    assert day_row(day(0), {**stored, "act_scores": {"casualties": 0.5}}).acts == (("casualties", 0.5),)
    assert day_row(day(0), {"articles": 1, "sources": 1}).acts == ()
    with pytest.raises(ValueError, match="act_scores"):
        day_row(day(0), {**stored, "act_scores": "[1, 2]"})


@pytest.mark.parametrize("changes", [{"rare_act_days": 0}, {"rare_act_min_score": 0.0}, {"rare_act_min_score": 1.5}])
def test_rare_act_settings_are_validated(changes):
    with pytest.raises(ValueError, match="rare_act"):
        replace(PARAMS, **changes)


def test_the_categories_come_from_the_environment(monkeypatch):
    from pipeline.config import load_settings

    settings = load_settings({"ESCALATION_RARE_ACT_CATEGORIES": "power_seizure, armed_attack"})
    assert settings.detection.rare_act_categories == ("power_seizure", "armed_attack")
    assert load_settings({}).detection.rare_act_categories == ("power_seizure",)


def test_the_history_read_covers_every_window_of_the_paths_that_are_on():
    from pipeline.detector import history_days

    assert history_days(PARAMS) == 365  # the rare-act history outreaches the 2 + 90 days of the mass
    off = replace(PARAMS, rare_act_categories=(), new_pair=False)
    assert history_days(off) == 2 + max(off.baseline_days, 90)
    # the new pair's prior comes before its window (today and the days before it in the window)
    assert history_days(replace(off, new_pair=True, new_pair_days=120, new_pair_window_days=1)) == 120
    assert history_days(replace(off, new_pair=True, new_pair_days=120, new_pair_window_days=3)) == 122
