"""Choose the mass ranking's knobs on one half of an archive's time span and check them on the other.

    .venv/bin/python bench/tune_ranking.py EVENTS.yaml [--db sqlite:///data/archive.db]

The warehouse must hold the archive with its signals (`escalation import FILE`, which computes them).
For every point of GRID (a small grid over general knobs of pipeline/detector.py's "mass" ranking,
nothing per event) it runs the production path over the whole stored range once (`alerts.backtest`:
the detector, evidence, counterparts, disaster share and incident fold of `escalation backtest`) and
judges the paged incidents per calendar year (`pipeline.backtest.judge`). It then picks, on each
year, the point with the best objective (events paged first, then no quiet window paged, then at most
one paged incident a week; fewer pages on a tie) and prints what that point scores on the other
year(s) and on the whole range, and the current defaults on every span (`--all`: every point on every
span). GRID also holds the rare-act knobs; the product of every knob is large, so vary a few with
`--only` (the others stay at the defaults). Research only: it writes nothing.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from pipeline import alerts as alerting
from pipeline.backtest import Judgement, judge, load_events
from pipeline.config import load_settings
from pipeline.store import Warehouse

GRID = {
    "mass_spread_floor": (0.5, 0.75, 1.0),
    "mass_baseline_days": (60, 90, 180),
    "outlet_share": (0.25, 0.5),
    "rhetoric_weight": (0.25, 0.4, 0.6),
    "mass_index_rise": (0.0, 1.0, 2.0),
    # the rare-act path (categories as one value each, '+' between categories on --only)
    "rare_act_categories": (("none",), ("power_seizure",), ("power_seizure", "armed_attack")),
    "rare_act_days": (90, 180, 365),
    "rare_act_min_score": (0.3, 0.5, 0.7),
    # the new-pair path (new_pair 0/1 on --only)
    "new_pair": (False, True),
    "new_pair_days": (45, 60, 90),
    "new_pair_min_mass": (2.0, 2.5, 3.0),
    "new_pair_window_days": (1, 2, 3),
    "new_pair_prior_ratio": (0.0, 0.5, 1.0),
}


def knob_value(knob: str, text: str) -> object:
    """One --only value as the knob's type (a category list is written a+b)."""
    kind = type(GRID[knob][0])
    if kind is bool:
        return text.strip().lower() in ("1", "true", "yes", "on")
    return tuple(part for part in text.split("+") if part) if kind is tuple else kind(text)


def line(j: Judgement) -> str:
    return (
        f"{j.hits}/{len(j.escalations)} paged ({j.first_page_hits} by a first page), "
        f"{j.quiet_paged}/{len(j.quiet)} quiet paged, {len(j.paged_incidents)} incidents = {j.per_week:.2f}/week"
    )


def objective(j: Judgement) -> tuple[float, int, float]:
    # the events file's rule first (an incident's first page in the window), then any page in it
    return (j.first_page_hits - 3 * j.quiet_paged - 3 * max(0.0, j.per_week - 1.0), j.hits, -j.per_week)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=Path)
    parser.add_argument("--db", default="sqlite:///data/archive.db")
    parser.add_argument("--only", action="append", default=[], metavar="KNOB=V1,V2",
                        help="vary only these knobs (over these values); the others stay at the defaults")
    parser.add_argument("--all", action="store_true", help="also print every grid point on every span")
    args = parser.parse_args(argv)
    grid = dict(GRID)
    if args.only:
        base_values = load_settings().detection
        grid = {k: (getattr(base_values, k),) for k in GRID}
        for item in args.only:
            knob, _, values = item.partition("=")
            if knob not in GRID:
                parser.error(f"--only: unknown knob {knob!r} (one of {', '.join(GRID)})")
            grid[knob] = tuple(knob_value(knob, v) for v in values.split(",")) if values else GRID[knob]
    warehouse = Warehouse.from_url(args.db)
    bounds = warehouse.article_day_bounds(None, None)
    if bounds is None:
        print("the warehouse has no articles", file=sys.stderr)
        return 2
    since, until = bounds
    escalations, quiet = load_events(args.events)
    spans = {str(y): (max(date(y, 1, 1), since), min(date(y, 12, 31), until)) for y in range(since.year, until.year + 1)}
    spans["whole"] = (since, until)
    base = load_settings().detection
    started = time.perf_counter()
    results: dict[tuple, dict[str, Judgement]] = {}
    points = list(itertools.product(*grid.values()))
    for values in points:
        params = replace(base, **dict(zip(grid, values, strict=True)))
        run = alerting.backtest(warehouse, since, until, params)
        results[values] = {name: judge(run.timeline, escalations, quiet, *span) for name, span in spans.items()}
    print(f"{len(points)} grid points over {since} .. {until} ({time.perf_counter() - started:.0f} s); grid {grid}")
    default = tuple(getattr(base, k) for k in grid)
    if default not in results:
        run = alerting.backtest(warehouse, since, until, base)
        results[default] = {name: judge(run.timeline, escalations, quiet, *span) for name, span in spans.items()}
    print(f"defaults {dict(zip(grid, default, strict=True))}:")
    for name in spans:
        print(f"  {name:6s} {line(results[default][name])}")
    if args.all:
        varied = [k for k in grid if len(grid[k]) > 1]
        for values in points:
            point = dict(zip(grid, values, strict=True))
            print("point", {k: point[k] for k in varied})
            for name in spans:
                print(f"  {name:6s} {line(results[values][name])}")
    years = [name for name in spans if name != "whole"]
    for fit in years:
        best = max(points, key=lambda v: objective(results[v][fit]))
        print(f"chosen on {fit}: {dict(zip(grid, best, strict=True))}")
        for name in spans:
            tag = "fit" if name == fit else "check" if name != "whole" else "whole"
            print(f"  {name:6s} ({tag:5s}) {line(results[best][name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
