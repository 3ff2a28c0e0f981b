"""The pure detector (pipeline.detector) on synthetic day series: no database, no clock."""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import date, timedelta

import pytest

from pipeline.config import DetectionParams
from pipeline.detector import (
    KINDS,
    DayRow,
    baseline_window,
    detect,
    detect_actor,
    ewma_surprise,
    repeats_within_cooldown,
    robust_surprise,
    severity_of,
)

START = date(2026, 3, 1)
FLAT = 10.0
# Floors of 2 (the production defaults are wider): a flat baseline of 10 then gives surprise
# (value - 10) / 2, so the thresholds 3 / 5 / 8 sit at 16 / 20 / 26.
PARAMS = DetectionParams(spread_floor=2.0, count_spread_floor=2.0, ranking="index")  # the index ranking


def series_of(
    index: list[float],
    counts: list[float] | None = None,
    *,
    articles: int = 5,
    sources: int = 3,
    kind: str = "escalation",
    skip: frozenset[int] = frozenset(),
) -> dict[date, DayRow]:
    """Day i of START + i carries index[i] (and counts[i], else a flat 5) on the kind's measures."""
    (index_column, _), (count_column, _) = KINDS[kind]
    rows = {}
    for i, value in enumerate(index):
        if i in skip:
            continue
        day = START + timedelta(days=i)
        measures = {index_column: value, count_column: counts[i] if counts else 5.0}
        rows[day] = DayRow(day, articles, sources, **measures)
    return rows


def flat_then(*tail: float, days: int = 20) -> list[float]:
    return [FLAT] * days + list(tail)


def day(i: int) -> date:
    return START + timedelta(days=i)


def candidates(series, days, params=PARAMS, kind="escalation", earlier=()):
    return detect_actor("IRN", series, START, days, kind, params, earlier).candidates


def test_a_spike_over_a_flat_baseline_is_a_candidate_with_its_figures():
    (found,) = candidates(series_of(flat_then(30)), [day(20)])
    assert (found.day, found.actor, found.kind, found.measure) == (
        day(20),
        "IRN",
        "escalation",
        "escalation_index",
    )
    assert (found.value, found.baseline, found.spread, found.surprise) == (30.0, 10.0, 2.0, 10.0)
    assert (found.severity, found.articles, found.sources) == ("critical", 5, 3)


@pytest.mark.parametrize(
    ("articles", "sources", "alerts"),
    [(3, 2, True), (2, 2, False), (3, 1, False), (10, 5, True)],
)
def test_volume_gates_articles_and_sources_on_the_day(articles, sources, alerts):
    series = series_of(flat_then(30), articles=articles, sources=sources)
    assert bool(candidates(series, [day(20)])) is alerts


def test_a_day_without_a_row_is_never_a_candidate():
    assert candidates(series_of(flat_then(30), skip=frozenset({20})), [day(20)]) == ()


def test_the_baseline_window_ends_guard_days_before_the_day():
    # Values equal to their day number identify the window: [D - guard - baseline_days, D - guard).
    values = [float(i) for i in range(40)]
    series = series_of(values)
    params = replace(PARAMS, baseline_days=5, guard_days=2, min_history_days=3)
    assert baseline_window(series, "escalation_index", day(30), START, params) == [
        23.0,
        24.0,
        25.0,
        26.0,
        27.0,
    ]
    no_guard = replace(params, guard_days=0)
    assert baseline_window(series, "escalation_index", day(30), START, no_guard) == [
        25.0,
        26.0,
        27.0,
        28.0,
        29.0,
    ]


def test_a_surge_in_the_guard_days_does_not_raise_the_baseline():
    # Day 20 is a spike; days 18-19 already rose. Inside the guard they stay out of the window.
    series = series_of([*[FLAT] * 18, 40, 40, 40])
    (found,) = candidates(series, [day(20)])
    assert found.baseline == FLAT
    ewma = replace(PARAMS, detector="ewma")
    (guarded,) = candidates(series, [day(20)], ewma)
    assert guarded.baseline == FLAT
    # without the guard the run-up leaks into the EWMA baseline and hides the spike
    assert candidates(series, [day(20)], replace(ewma, guard_days=0)) == ()


def test_missing_days_count_as_zero_and_days_before_first_seen_do_not_count():
    # Only every other day has a row: the gaps are zeros, so the median of the window is 0 or 10.
    series = series_of(flat_then(30), skip=frozenset(range(1, 20, 2)))
    history = baseline_window(series, "escalation_index", day(20), START, PARAMS)
    assert len(history) == 18 and history.count(0.0) == 9
    late_start = START + timedelta(days=10)
    assert len(baseline_window(series, "escalation_index", day(20), late_start, PARAMS)) == 8


@pytest.mark.parametrize(("first_seen_offset", "alerts"), [(11, True), (12, False)])
def test_an_actor_needs_min_history_days_of_history(first_seen_offset, alerts):
    # Day 20 with guard 2 has the window up to day 17: first seen on day 11 gives 7 days (the minimum).
    series = {d: row for d, row in series_of(flat_then(30)).items() if d >= day(first_seen_offset)}
    found = detect_actor("IRN", series, day(first_seen_offset), [day(20)], "escalation", PARAMS).candidates
    assert bool(found) is alerts


@pytest.mark.parametrize(
    ("index_tail", "count_tail", "measure", "surprise"),
    [
        (30.0, 14.0, "escalation_index", 10.0),  # index z 10 vs count z (14 - 5) / 2 = 4.5
        (14.0, 30.0, "escalatory_sentences", 12.5),  # index z 2 vs count z 12.5
        (15.0, 15.0, "escalatory_sentences", 5.0),  # index z 2.5 alone would not alert
    ],
)
def test_the_measure_with_the_larger_surprise_decides(index_tail, count_tail, measure, surprise):
    series = series_of(flat_then(index_tail), [*[5.0] * 20, count_tail])
    (found,) = candidates(series, [day(20)])
    assert (found.measure, found.surprise) == (measure, surprise)
    assert found.value == (index_tail if measure == "escalation_index" else count_tail)


def test_a_tie_goes_to_the_headline_measure():
    series = series_of(flat_then(20.0), [*[5.0] * 20, 15.0])  # both z = 5
    (found,) = candidates(series, [day(20)])
    assert found.measure == "escalation_index"


@pytest.mark.parametrize(
    ("value", "severity"),
    [
        (15.9, None),
        (16.0, "watch"),
        (19.9, "watch"),
        (20.0, "warning"),
        (25.9, "warning"),
        (26.0, "critical"),
    ],
)
def test_three_severities_at_their_thresholds(value, severity):
    found = candidates(series_of(flat_then(value)), [day(20)])
    assert (found[0].severity if found else None) == severity
    assert severity_of((value - FLAT) / 2.0, PARAMS) == severity


def test_cooldown_suppresses_a_repeat_and_a_rising_severity_re_alerts():
    # watch, watch, warning, warning, critical on days 20..24; then quiet until a watch on day 30.
    tail = [17, 17, 21, 21, 27, FLAT, FLAT, FLAT, FLAT, FLAT, 17]
    series = series_of(flat_then(*tail, days=20))
    params = replace(PARAMS, baseline_days=14, guard_days=12)  # the window stays on the flat days
    result = detect_actor("IRN", series, START, [day(i) for i in range(20, 31)], "escalation", params)
    assert [(c.day, c.severity) for c in result.candidates] == [
        (day(20), "watch"),
        (day(22), "warning"),
        (day(24), "critical"),
        (day(30), "watch"),  # more than cooldown_days (3) after the last alert
    ]
    assert result.suppressed == 2  # the repeated watch (day 21) and the repeated warning (day 23)


def test_no_cooldown_lets_every_day_alert():
    series = series_of(flat_then(17, 17, 17))
    params = replace(PARAMS, cooldown_days=0)
    result = detect_actor("IRN", series, START, [day(20), day(21), day(22)], "escalation", params)
    assert len(result.candidates) == 3 and result.suppressed == 0


@pytest.mark.parametrize(
    ("earlier", "alerts"),
    [
        ([(day(18), "critical")], False),  # stored two days before, as severe: suppressed
        ([(day(17), "warning")], False),  # the edge of the window (cooldown 3) still counts
        ([(day(16), "critical")], True),  # outside the window
        ([(day(19), "watch")], True),  # less severe than the new warning
        ([(day(20), "critical")], True),  # the same day is not "before"
    ],
)
def test_stored_alerts_count_as_earlier_alerts(earlier, alerts):
    result = detect_actor("IRN", series_of(flat_then(21)), START, [day(20)], "escalation", PARAMS, earlier)
    assert bool(result.candidates) is alerts
    assert result.suppressed == (0 if alerts else 1)


def test_a_candidate_replaces_a_stored_alert_of_its_own_day_in_the_cooldown():
    # A critical was stored for day 20 by an earlier run; re-detecting day 20 finds a watch, so
    # day 21's watch repeats it (suppressed) instead of repeating the old critical.
    series = series_of(flat_then(17, 17, 21))
    earlier = [(day(20), "critical")]
    result = detect_actor("IRN", series, START, [day(20), day(21), day(22)], "escalation", PARAMS, earlier)
    assert [(c.day, c.severity) for c in result.candidates] == [(day(20), "watch"), (day(22), "warning")]
    assert result.suppressed == 1


def test_cooldown_rule_compares_severity_ranks():
    assert repeats_within_cooldown("warning", ["critical"])
    assert repeats_within_cooldown("warning", ["warning"])
    assert not repeats_within_cooldown("warning", ["watch", "watch"])
    assert not repeats_within_cooldown("watch", [])


def test_deescalation_reads_its_own_measures():
    series = series_of(flat_then(30), kind="deescalation")
    (found,) = candidates(series, [day(20)], kind="deescalation")
    assert (found.kind, found.measure) == ("deescalation", "deescalation_index")
    assert candidates(series, [day(20)], kind="escalation") == ()
    with pytest.raises(ValueError, match="kind must be one of"):
        detect_actor("IRN", series, START, [day(20)], "surge", PARAMS)


def test_median_ignores_an_earlier_burst_that_the_ewma_absorbs():
    # A 3-day burst ten days before the spike sits inside the 28-day window.
    values = [*[FLAT] * 30, 40, 40, 40, *[FLAT] * 7, 22]
    series = series_of(values)
    target = day(len(values) - 1)
    (mad,) = candidates(series, [target])
    assert mad.baseline == FLAT and mad.severity == "warning"
    ewma_params = replace(PARAMS, detector="ewma")
    history = baseline_window(series, "escalation_index", target, START, ewma_params)
    baseline, spread, surprise = ewma_surprise(history, 22.0, 2.0, 0.2)
    assert baseline > FLAT and spread > 2.0 and surprise < 3.0
    assert candidates(series, [target], ewma_params) == ()


def test_ewma_and_robust_surprise_by_hand():
    # EWMA, lambda 0.5 over [0, 4, 4]: mean 0 -> 2 -> 3; var 0 -> 0.5*(0 + 4*2) = 4 -> 0.5*(4 + 2*1) = 3.
    assert ewma_surprise([0.0, 4.0, 4.0], 6.0, 1.0, 0.5) == (3.0, 3.0**0.5, 3.0 / 3.0**0.5)
    assert ewma_surprise([0.0, 4.0, 4.0], 6.0, 5.0, 0.5) == (3.0, 5.0, 0.6)  # floored spread
    history = [1.0, 2.0, 3.0, 4.0, 100.0]
    baseline, spread, surprise = robust_surprise(history, 10.0, 0.5)
    assert baseline == statistics.median(history) == 3.0
    assert spread == pytest.approx(1.4826 * 1.0) and surprise == pytest.approx(7.0 / 1.4826)


def test_detect_orders_candidates_by_day_actor_and_kind():
    up = series_of(flat_then(30, 30, FLAT, FLAT, FLAT, FLAT, 30))
    down = series_of(flat_then(FLAT, 30, FLAT, FLAT, FLAT, FLAT, FLAT), kind="deescalation")
    both = {d: replace(r, deescalation_index=down[d].deescalation_index) for d, r in up.items()}
    result = detect(
        {"USA": both, "IRN": up, "RUS": down},
        {"USA": START, "IRN": START, "RUS": START},
        [day(i) for i in range(20, 27)],
        PARAMS,
        earlier={("IRN", "escalation"): [(day(19), "critical")]},
    )
    assert [(c.day.day - START.day, c.actor, c.kind) for c in result.candidates] == [
        (20, "USA", "escalation"),
        (21, "RUS", "deescalation"),
        (21, "USA", "deescalation"),
        (26, "IRN", "escalation"),
        (26, "USA", "escalation"),
    ]
    # IRN day 20 (stored critical the day before), IRN and USA day 21 (repeat of day 20)
    assert result.suppressed == 3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"detector": "zscore"}, "detector must be one of mad, ewma"),
        ({"watch": 6.0}, "thresholds must rise"),
        ({"baseline_days": 0}, "baseline_days and min_history_days must be >= 1"),
        ({"guard_days": -1}, "guard_days >= 0"),
        ({"ewma_lambda": 0.0}, r"ewma_lambda must be in \(0, 1\]"),
    ],
)
def test_validation_names_the_bad_parameter(changes, message):
    # The detection section validates itself once (pipeline.config); the detector trusts it.
    with pytest.raises(ValueError, match=message):
        DetectionParams(**changes)
    with pytest.raises(ValueError, match="notify_min_severity must be one of"):
        DetectionParams(notify_min_severity="page")
