"""Live detection (alerts.detect on a real warehouse) and the pure detector agree alert for alert.

Random daily_signals rows for a few actors (late starters, missing days, thin days that the gates
drop, bursts), alerts already stored before and inside the range (the cooldown reads them), and a
spread of parameters: both paths must give the same alerts with the same figures and the same
number of suppressed repeats."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from pipeline.alerts import detect, history_starts
from pipeline.config import DetectionParams
from pipeline.detector import KINDS, SEVERITIES, DayRow
from pipeline.detector import detect as detect_pure

START = date(2026, 1, 1)
DAYS = 90
SINCE = START + timedelta(days=40)
UNTIL = START + timedelta(days=DAYS - 1)
STAMP = datetime(2026, 6, 1, tzinfo=UTC)

PARAMS = [
    DetectionParams(spread_floor=2.0, count_spread_floor=2.0, ranking="index"),
    DetectionParams(spread_floor=2.0, count_spread_floor=2.0, detector="ewma", ranking="index"),
    DetectionParams(spread_floor=4.0, count_spread_floor=1.0, cooldown_days=0, guard_days=0, ranking="index"),
    DetectionParams(
        ranking="index",
        spread_floor=1.0,
        count_spread_floor=3.0,
        detector="ewma",
        ewma_lambda=0.4,
        cooldown_days=6,
        baseline_days=10,
        min_history_days=4,
        min_articles=2,
        min_sources=1,
    ),
    DetectionParams(mass_spread_floor=0.3, mass_baseline_days=20, outlet_share=0.5, guard_days=0),
    DetectionParams(),  # the production defaults (the mass ranking)
    # the rare-act path reaching further back than the mass history (live detection must load it)
    DetectionParams(
        mass_spread_floor=1.5, mass_baseline_days=20, guard_days=0, mass_index_rise=0.0, rare_act_days=365,
        rare_act_min_score=0.3,
        rare_act_categories=("power_seizure", "armed_attack"),
    ),
]
RANKING = ("escalatory_texts", "escalatory_outlets", "material_mass", "verbal_mass", "context_texts", "active_outlets")


def random_rows(rng: random.Random) -> list[dict]:
    rows = []
    for actor in ("ALL", "IRN", "ISR", "QAT", "UKR"):
        first = rng.choice([0, 0, 10, 30, 38, 60])
        level, count_level = rng.uniform(2, 25), rng.uniform(1, 8)
        for offset in range(first, DAYS):
            if offset > first and rng.random() < 0.15:
                continue  # a silent day: no row at all
            burst = rng.random() < 0.08
            articles = rng.choice([1, 2, 3, 4, 6, 12])
            escalatory = max(0, round(rng.gauss(count_level, 2) * (4 if burst else 1)))
            rows.append(
                {
                    "day": START + timedelta(days=offset),
                    "actor": actor,
                    "articles": articles,
                    "sources": rng.randint(1, min(articles, 5)),
                    "sentences": escalatory + rng.randint(0, 30),
                    "escalatory_sentences": escalatory,
                    "deescalatory_sentences": max(
                        0, round(rng.gauss(2, 2) * (3 if rng.random() < 0.06 else 1))
                    ),
                    "escalation_index": round(max(0.0, rng.gauss(level, 4) * (3 if burst else 1)), 3),
                    "deescalation_index": round(max(0.0, rng.gauss(level / 3, 2)), 3),
                    "max_score": 0.9,
                    "computed_at": STAMP,
                }
            )
    return rows


def random_measures(rng: random.Random, rows: list[dict]) -> list[dict]:
    """daily_measures rows for most signal rows (a missing one reads as zeros), bursts included."""
    measures = []
    for row in rows:
        if rng.random() < 0.2:
            continue
        burst = 4 if rng.random() < 0.08 else 1
        texts = rng.randint(0, 6) * burst
        acts = {
            kind: round(rng.uniform(0.2, 0.9), 3)
            for kind in ("power_seizure", "armed_attack", "casualties")
            if texts and rng.random() < 0.025
        }
        measures.append(
            {
                "day": row["day"],
                "actor": row["actor"],
                "escalatory_texts": texts,
                "escalatory_outlets": min(texts, rng.randint(0, 4)),
                "material_mass": round(rng.uniform(0, 0.7) * texts, 3),
                "verbal_mass": round(rng.uniform(0, 0.5) * texts, 3),
                "context_texts": rng.randint(0, texts),
                "active_outlets": rng.choice([1, 2, 3, 8]),
                "act_scores": json.dumps(acts),
            }
        )
    return measures


def random_stored_alerts(rng: random.Random, rows: list[dict]) -> list[dict]:
    """Alerts an earlier run left: before the range (the cooldown reaches back) and inside it."""
    stored = []
    for row in rng.sample(rows, 12):
        if row["day"] < SINCE - timedelta(days=8):
            continue
        kind = rng.choice(list(KINDS))
        stored.append(
            {
                "day": row["day"],
                "actor": row["actor"],
                "kind": kind,
                "severity": rng.choice(SEVERITIES),
                "measure": KINDS[kind][0][0],
                "value": 1.0,
                "baseline": 0.0,
                "spread": 1.0,
                "surprise": 1.0,
                "articles": 3,
                "sources": 2,
                "evidence": "[]",
                "mode": "backtest",
                "created_at": STAMP,
                "updated_at": STAMP,
            }
        )
    return list({(a["day"], a["actor"], a["kind"]): a for a in stored}.values())


def pure_detection(rows: list[dict], stored: list[dict], params: DetectionParams, measures: list[dict] = ()):
    ranking = {
        (m["day"], m["actor"]): {**{k: m[k] for k in RANKING}, "acts": tuple(sorted(json.loads(m["act_scores"]).items()))}
        for m in measures
    }
    series: dict[str, dict[date, DayRow]] = {}
    for row in rows:
        series.setdefault(row["actor"], {})[row["day"]] = DayRow(
            row["day"],
            row["articles"],
            row["sources"],
            row["escalation_index"],
            row["deescalation_index"],
            row["escalatory_sentences"],
            row["deescalatory_sentences"],
            **ranking.get((row["day"], row["actor"]), {}),
        )
    # Live detection starts every actor's history at the warehouse's first signal day
    # (alerts.history_starts): silence since then is a value.
    first_seen = history_starts({actor: min(days) for actor, days in series.items()})
    earlier: dict[tuple[str, str], list[tuple[date, str]]] = {}
    for alert in stored:
        earlier.setdefault((alert["actor"], alert["kind"]), []).append((alert["day"], alert["severity"]))
    days = [SINCE + timedelta(days=i) for i in range((UNTIL - SINCE).days + 1)]
    return detect_pure(series, first_seen, days, params, earlier)


def stored_alerts(warehouse) -> list[dict]:
    with warehouse.engine.connect() as conn:
        table = warehouse.tables["alerts"]
        return [dict(row) for row in conn.execute(table.select()).mappings()]


@pytest.mark.parametrize("seed", range(4))
def test_live_detection_and_the_pure_detector_give_the_same_alerts(warehouse, seed):
    rng = random.Random(seed)
    rows = random_rows(rng)
    stored = random_stored_alerts(rng, rows)
    measures = random_measures(rng, rows)
    with warehouse.engine.begin() as conn:
        conn.execute(warehouse.tables["daily_signals"].insert(), rows)
        conn.execute(warehouse.tables["daily_measures"].insert(), measures)
    with warehouse.engine.begin() as conn:
        if stored:
            conn.execute(warehouse.tables["alerts"].insert(), stored)
    compared = 0
    # Each run leaves its alerts for the next one (a re-run after a change of settings), so the later
    # runs' cooldowns read stored alerts on the very days they re-detect.
    for params in PARAMS:
        stored = stored_alerts(warehouse)
        live = detect(warehouse, SINCE, UNTIL, params, mode="backtest")
        pure = pure_detection(rows, stored, params, measures)
        fields = ("day", "actor", "kind", "severity", "measure", "value", "baseline", "spread", "surprise")
        live_alerts = [tuple(getattr(a, f) for f in (*fields, "articles", "sources")) for a in live.alerts]
        pure_alerts = [
            tuple(getattr(c, f) for f in (*fields, "articles", "sources")) for c in pure.candidates
        ]
        assert pure_alerts == live_alerts, params
        assert pure.suppressed == live.suppressed, params
        compared += len(live_alerts)
    assert compared > 0  # the random series do alert, so the comparison is not vacuous
    measures_seen = {a["measure"] for a in stored_alerts(warehouse)}
    assert "escalation_mass" in measures_seen  # the mass ranking too
    if seed in (1, 3):  # seeds whose random acts include some new to their actor (checked by hand)
        assert "rare_act" in measures_seen  # and the rare-act path


def test_the_random_series_exercise_cooldown_and_every_severity():
    # Guards the equivalence test above against series too tame to test anything.
    rows = random_rows(random.Random(0))
    params = replace(PARAMS[0], cooldown_days=6)
    pure = pure_detection(rows, [], params)
    assert {c.severity for c in pure.candidates} == set(SEVERITIES)
    assert pure.suppressed > 0
    assert {c.measure for c in pure.candidates} >= {"escalation_index", "escalatory_sentences"}


def test_live_detection_reads_the_rare_act_history_beyond_the_mass_window(warehouse):
    # A coup on day 10 and another on day 80: detecting day 80 alone must see day 10 (within
    # rare_act_days, beyond the 20-day mass history), as the pure detector over all rows does.
    params = DetectionParams(mass_baseline_days=20, guard_days=0, mass_index_rise=0.0)
    rows, measures = [], []
    for offset in (0, 10, 80):
        day = START + timedelta(days=offset)
        rows.append(
            {"day": day, "actor": "BFA", "articles": 1, "sources": 1, "sentences": 2, "escalatory_sentences": 1,
             "deescalatory_sentences": 0, "escalation_index": 20.0, "deescalation_index": 0.0, "max_score": 0.7,
             "computed_at": STAMP}
        )
        measures.append(
            {"day": day, "actor": "BFA", "escalatory_texts": 1, "escalatory_outlets": 1, "material_mass": 1.2,
             "verbal_mass": 0.0, "context_texts": 0, "active_outlets": 2,
             "act_scores": json.dumps({"power_seizure": 0.7} if offset else {})}
        )
    with warehouse.engine.begin() as conn:
        conn.execute(warehouse.tables["daily_signals"].insert(), rows)
        conn.execute(warehouse.tables["daily_measures"].insert(), measures)
    day80 = START + timedelta(days=80)
    assert detect(warehouse, day80, day80, params, mode="backtest").alerts == []
    assert detect_pure_over(rows, measures, day80, params) == ()
    # without the earlier coup the same day is a rare act, live and pure alike
    day10 = START + timedelta(days=10)
    (alert,) = detect(warehouse, day10, day10, params, mode="backtest").alerts
    assert alert.measure == "rare_act" and alert.severity == "warning"


def detect_pure_over(rows: list[dict], measures: list[dict], day: date, params: DetectionParams):
    series = {
        r["day"]: DayRow(
            r["day"], r["articles"], r["sources"], r["escalation_index"], 0.0, r["escalatory_sentences"], 0.0,
            **{k: m[k] for k in RANKING}, acts=tuple(sorted(json.loads(m["act_scores"]).items())),
        )
        for r, m in zip(rows, measures, strict=True)
    }
    return detect_pure({"BFA": series}, {"BFA": START}, [day], params).candidates


def test_live_detection_reads_the_new_pair_history_beyond_the_mass_window(warehouse):
    # ISR and PIJ named in a material text on day 10 and again on day 150: detecting day 150 alone must
    # see day 10 (within new_pair_days, beyond the mass and rare-act windows), as the pure detector does;
    # without day 10 the pair is new and its partner leads the alert's counterparts.
    params = DetectionParams(
        mass_baseline_days=20, guard_days=0, mass_index_rise=0.0, rare_act_days=30, new_pair=True,
        new_pair_days=200, new_pair_min_mass=0.6,
    )
    rows, measures = [], []
    for offset in (0, 10, 150):
        day = START + timedelta(days=offset)
        rows.append(
            {"day": day, "actor": "ISR", "articles": 1, "sources": 1, "sentences": 2, "escalatory_sentences": 1,
             "deescalatory_sentences": 0, "escalation_index": 20.0, "deescalation_index": 0.0, "max_score": 0.7,
             "computed_at": STAMP}
        )
        measures.append(
            {"day": day, "actor": "ISR", "escalatory_texts": 1, "escalatory_outlets": 1, "material_mass": 0.7,
             "verbal_mass": 0.0, "context_texts": 0, "active_outlets": 2, "act_scores": "{}",
             "pair_masses": json.dumps({"PIJ": [0.7, 1]} if offset else {})}
        )
    with warehouse.engine.begin() as conn:
        conn.execute(warehouse.tables["daily_signals"].insert(), rows)
        conn.execute(warehouse.tables["daily_measures"].insert(), measures)
    day150 = START + timedelta(days=150)
    assert detect(warehouse, day150, day150, params, mode="backtest").alerts == []

    def pure(day: date):
        series = {
            r["day"]: DayRow(
                r["day"], r["articles"], r["sources"], r["escalation_index"], 0.0, r["escalatory_sentences"], 0.0,
                **{k: m[k] for k in RANKING},
                pairs=tuple((p, v[0], v[1]) for p, v in sorted(json.loads(m["pair_masses"]).items())),
            )
            for r, m in zip(rows, measures, strict=True)
        }
        return detect_pure({"ISR": series}, {"ISR": START}, [day], params).candidates

    assert pure(day150) == ()
    day10 = START + timedelta(days=10)
    (alert,) = detect(warehouse, day10, day10, params, mode="backtest").alerts
    assert (alert.measure, alert.severity, alert.counterparts[:1]) == ("new_pair", "warning", ("PIJ",))
    assert [(c.measure, c.partner) for c in pure(day10)] == [("new_pair", "PIJ")]
