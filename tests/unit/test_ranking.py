"""The detector's "mass" ranking (pipeline.detector) on synthetic day series: what an analyst calls news."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import pytest

from pipeline.config import DetectionParams
from pipeline.detector import MASS_MEASURE, DayRow, detect, detect_actor, outlets_needed

START = date(2026, 1, 1)
# The mass ranking (the production default) with its knobs spelled out, so the figures below hold
# whatever the defaults become.
PARAMS = DetectionParams(
    ranking="mass", mass_baseline_days=90, mass_spread_floor=0.75, rhetoric_weight=0.4, min_mass=1.0,
    outlet_share=0.25, guard_days=2, min_history_days=7, mass_index_rise=0.0,
)


def day(i: int) -> date:
    return START + timedelta(days=i)


def row(i: int, material: float = 0.0, verbal: float = 0.0, outlets: int = 1, active: int = 2, **more) -> DayRow:
    return DayRow(
        day(i), articles=max(1, outlets), sources=max(1, outlets), material_mass=material, verbal_mass=verbal,
        escalatory_outlets=outlets, escalatory_texts=max(1, round(material + verbal)), active_outlets=active,
        **more,
    )


def alerts(series, days, params=PARAMS):
    return detect_actor("XYZ", series, START, days, "escalation", params).candidates


def test_a_break_from_a_long_calm_alerts_with_its_figures():
    # Silent for 100 days (silence is history), then two outlets carry material acts.
    series = {day(100): row(100, material=3.0, outlets=2)}
    (found,) = alerts(series, [day(100)])
    assert found.measure == MASS_MEASURE
    assert found.value == pytest.approx(3.0 * math.sqrt(2))
    assert found.baseline == 0.0 and found.spread == PARAMS.mass_spread_floor
    assert found.surprise == pytest.approx(3.0 * math.sqrt(2) / PARAMS.mass_spread_floor)
    assert found.severity == "warning" and found.sources == 2  # 5.66


def test_an_ongoing_war_covered_every_day_is_not_news_every_day():
    # The same heavy coverage every day for three months: its own long history is the baseline.
    series = {day(i): row(i, material=4.0 + (i % 3) * 0.5, outlets=2) for i in range(120)}
    assert alerts(series, [day(i) for i in range(95, 120)]) == ()


def test_a_new_front_of_an_ongoing_war_still_alerts():
    series = {day(i): row(i, material=4.0 + (i % 3) * 0.5, outlets=2) for i in range(120)}
    series[day(120)] = row(120, material=14.0, outlets=2)
    (found,) = alerts(series, [day(120)])
    assert found.surprise >= PARAMS.warning


def test_material_acts_weigh_over_rhetoric():
    material = {day(100): row(100, material=4.0, outlets=1)}
    verbal = {day(100): row(100, verbal=4.0, outlets=1)}
    (found,) = alerts(material, [day(100)])
    assert found.severity == "warning"  # 4.0 / 0.75
    assert alerts(verbal, [day(100)]) == ()  # 0.4 * 4.0 / 0.75 = 2.1, below watch
    (quieter,) = alerts(verbal, [day(100)], replace(PARAMS, mass_spread_floor=0.25))
    assert quieter.value == pytest.approx(PARAMS.rhetoric_weight * found.value)


def test_a_disaster_only_day_has_no_mass():
    # Context texts are counted, but their scores are in neither mass: nothing to rank.
    series = {day(100): row(100, outlets=2, context_texts=6)}
    assert alerts(series, [day(100)]) == ()


@pytest.mark.parametrize(("active", "needed"), [(0, 1), (1, 1), (2, 1), (3, 1), (6, 2), (15, 4)])
def test_the_outlet_gate_scales_with_the_outlets_active_that_day(active, needed):
    assert outlets_needed(active, PARAMS) == needed


def test_thin_coverage_still_alerts_where_wide_coverage_asks_for_more_outlets():
    thin = {day(100): row(100, material=3.0, outlets=1, active=2)}
    wide = {day(100): row(100, material=3.0, outlets=1, active=15)}
    assert len(alerts(thin, [day(100)])) == 1
    assert alerts(wide, [day(100)]) == ()


def test_a_tiny_mass_never_alerts():
    series = {day(100): row(100, material=0.5, outlets=1)}
    assert alerts(series, [day(100)], replace(PARAMS, mass_spread_floor=0.01)) == ()


def test_an_actor_that_flares_every_few_weeks_is_not_news_on_each_flare():
    # A zero-median actor with regular flares: the spread is at least the window's standard deviation.
    series = {day(i): row(i, material=3.0, outlets=2) for i in range(0, 100, 10)}
    series[day(100)] = row(100, material=3.0, outlets=2)
    (calm,) = alerts({day(100): series[day(100)]}, [day(100)])
    flaring = alerts(series, [day(100)])
    assert calm.severity == "warning"  # the same day after a long calm would page
    assert not flaring or (flaring[0].surprise < calm.surprise and flaring[0].severity == "watch")


def test_the_baseline_is_the_long_history_and_ends_guard_days_before():
    params = replace(PARAMS, mass_baseline_days=30, guard_days=2)
    series = {day(i): row(i, material=5.0, outlets=2) for i in range(50, 60)}  # an old burst
    series[day(98)] = row(98, material=40.0, outlets=2)  # in the guard days: ignored
    series[day(100)] = row(100, material=5.0, outlets=2)
    (found,) = alerts(series, [day(100)], params)  # the old burst is out of the 30 days, the guard ignored
    assert found.baseline == 0.0 and found.spread == params.mass_spread_floor


def test_deescalation_keeps_the_index_ranking():
    series = {day(i): DayRow(day(i), 5, 3, deescalation_index=10.0, deescalatory_sentences=5) for i in range(30)}
    series[day(30)] = DayRow(day(30), 5, 3, deescalation_index=60.0, deescalatory_sentences=5)
    found = detect_actor("XYZ", series, START, [day(30)], "deescalation", PARAMS).candidates
    assert [c.measure for c in found] == ["deescalation_index"]


def test_the_index_ranking_ignores_the_mass():
    series = {day(100): row(100, material=3.0, outlets=2)}
    assert alerts(series, [day(100)], replace(PARAMS, ranking="index")) == ()
    assert detect({"XYZ": series}, {"XYZ": START}, [day(100)], PARAMS).candidates[0].measure == MASS_MEASURE


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"ranking": "votes"}, "ranking"), ({"mass_spread_floor": 0}, "mass_spread_floor"),
     ({"outlet_share": 2}, "outlet_share"), ({"rhetoric_weight": -1}, "rhetoric_weight"),
     ({"mass_index_rise": -1}, "mass_index_rise")],
)
def test_ranking_settings_are_validated(changes, message):
    with pytest.raises(ValueError, match=message):
        DetectionParams(**changes)


def test_the_lexicon_says_which_categories_are_verbal(tmp_path):
    from pipeline.score import DEFAULT_LEXICON, LexiconError
    from pipeline.signals import verbal_categories

    verbal = verbal_categories(DEFAULT_LEXICON)
    assert {"hostile_rhetoric", "threat_ultimatum", "rejection"} <= verbal
    assert not verbal & {"armed_attack", "casualties", "power_seizure", "mobilisation"}
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text("version: x\ncategories:\n  a: {polarity: 1, kind: verbal, terms: [x]}\n  b: {polarity: 1, terms: [y]}\n")
    assert verbal_categories(lexicon) == {"a"}
    lexicon.write_text("version: x\ncategories:\n  a: {polarity: 1, kind: loud, terms: [x]}\n")
    import os

    os.utime(lexicon, ns=(1, 10**18))  # a new stamp even on a coarse clock
    with pytest.raises(LexiconError, match="kind must be material or verbal"):
        verbal_categories(lexicon)


def test_a_heavy_day_of_ordinary_coverage_is_not_news_when_the_index_gate_is_on():
    # Mass triples (three times the texts) at the usual hostile share: the index, a mean, stays.
    params = replace(PARAMS, mass_index_rise=2.0, spread_floor=8.0)
    usual = {day(i): row(i, material=1.0, outlets=1, escalation_index=10.0 + (i % 2)) for i in range(100)}
    busy = {**usual, day(100): row(100, material=9.0, outlets=2, escalation_index=11.0)}
    hostile = {**usual, day(100): row(100, material=9.0, outlets=2, escalation_index=40.0)}
    assert len(alerts(busy, [day(100)], PARAMS)) == 1  # without the gate it alerts
    assert alerts(busy, [day(100)], params) == ()
    (found,) = alerts(hostile, [day(100)], params)  # (40 - 10.5) / 8 = 3.7 spreads: a more hostile day
    assert found.measure == MASS_MEASURE
