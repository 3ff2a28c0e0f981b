"""Fit one weight scale per lexicon category on labelled sentences; validate on another file.

    .venv/bin/python bench/fit_category_scales.py ../shared/data/cameo_dev.tsv ../shared/data/plover_dev.tsv

For each direction (fit on A, measure on B; then fit on B, measure on A), starting from the scales in
the lexicon, coordinate ascent moves one category's scale at a time over a small grid (0.5 .. 2 times
its current value) when that raises AUC(conflict vs rest) + Spearman on the fitting file by more than
`--min-gain`. A category's contribution to a sentence is linear in its scale (effective weights are
weight x factors), and both metrics are rank-based, so a sentence's net (before tanh) is
X[sentence] . scales with X computed once: the search is exact and fast.

Prints, per direction, the fitted scales and the metrics on both files before and after; then the
consensus (a category moves only where both one-sided fits moved it the same way, to the geometric
mean of the two: the scales the lexicon ships); with
`--both`, also the scales fitted on the two files together. Not a test; figures go to
docs/scoring.md and BENCHMARKS.md. Apply the scales as `scale:` of each category in the lexicon
and run again: the search then starts from those (1.0 = no further change).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from pipeline.evaluate import CONFLICT, ORDINAL, read_examples
from pipeline.score import DEFAULT_LEXICON, Scorer, load_lexicon

STEPS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.1, 1.25, 1.4, 1.6, 1.8, 2.0)


def category_matrix(scorer: Scorer, sentences: list[str]) -> tuple[np.ndarray, list[str]]:
    names = sorted(scorer.categories)
    index = {name: i for i, name in enumerate(names)}
    x = np.zeros((len(sentences), len(names)))
    for row, sentence in enumerate(sentences):
        for match in scorer.score_sentence(sentence).matches:
            x[row, index[match.category]] += match.effective_weight
    return x, names


def objective(net: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    conflict = np.isin(labels, list(CONFLICT)).astype(int)
    ordinal = np.array([ORDINAL[y] for y in labels])
    return float(roc_auc_score(conflict, net)), float(spearmanr(ordinal, net).statistic)


def fit(x: np.ndarray, labels: np.ndarray, min_gain: float, limit: float, rounds: int = 4) -> np.ndarray:
    """Coordinate ascent; every scale stays within [1/limit, limit] of the lexicon's."""
    scales = np.ones(x.shape[1])
    best = sum(objective(x @ scales, labels))
    for _ in range(rounds):
        moved = False
        for column in range(x.shape[1]):
            if not x[:, column].any():
                continue
            current = scales[column]
            for step in STEPS:
                if not 1 / limit - 1e-9 <= current * step <= limit + 1e-9:
                    continue
                trial = scales.copy()
                trial[column] = current * step
                value = sum(objective(x @ trial, labels))
                if value > best + min_gain:
                    best, scales, moved = value, trial, True
        if not moved:
            break
    return scales


def describe(name: str, x: np.ndarray, labels: np.ndarray, scales: np.ndarray) -> str:
    auc, rho = objective(x @ scales, labels)
    return f"{name}: AUC {auc:.3f}  Spearman {rho:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--lexicon", type=Path, default=DEFAULT_LEXICON)
    parser.add_argument("--min-gain", type=float, default=0.002)
    parser.add_argument("--limit", type=float, default=2.0, help="scales stay within [1/limit, limit]")
    parser.add_argument("--both", action="store_true", help="also fit on both files together")
    args = parser.parse_args()
    scorer = Scorer(load_lexicon(args.lexicon), str(args.lexicon))
    data = {}
    for path in (args.first, args.second):
        examples = read_examples(path)
        x, names = category_matrix(scorer, [e.sentence for e in examples])
        data[path.name] = (x, np.array([e.label for e in examples]))
    ones = np.ones(len(names))
    print(
        f"scorer {scorer.version}; objective AUC(conflict vs rest) + Spearman; "
        f"min gain {args.min_gain}, scales within [1/{args.limit}, {args.limit}]"
    )
    fitted = []
    for fit_on, measure_on in ((args.first.name, args.second.name), (args.second.name, args.first.name)):
        scales = fit(*data[fit_on], args.min_gain, args.limit)
        fitted.append(scales)
        print(f"\nfit on {fit_on}, measured on {measure_on}")
        for label, used in (("lexicon as is", ones), ("fitted scales", scales)):
            print(
                f"  {label:14} {describe(fit_on, *data[fit_on], used)}   |   {describe(measure_on, *data[measure_on], used)}"
            )
        print("  scales: " + ", ".join(f"{n} {s:.2f}" for n, s in zip(names, scales, strict=True) if s != 1))
    # Consensus: a category moves only where both one-sided fits moved it the same way, to the
    # geometric mean of the two (a scale one file alone asks for is not evidence enough).
    a, b = np.log(fitted[0]), np.log(fitted[1])
    consensus = np.where(a * b > 0, np.exp((a + b) / 2), 1.0).round(2)
    print("\nconsensus of the two one-sided fits")
    for name, (xs, ys) in data.items():
        print(f"  {describe(name, xs, ys, ones)}  ->  {describe(name, xs, ys, consensus)}")
    print("  scales: " + ", ".join(f"{n} {s:.2f}" for n, s in zip(names, consensus, strict=True) if s != 1))
    if args.both:
        x = np.vstack([data[args.first.name][0], data[args.second.name][0]])
        y = np.concatenate([data[args.first.name][1], data[args.second.name][1]])
        scales = fit(x, y, args.min_gain, args.limit)
        print("\nfit on both files")
        for name, (xs, ys) in data.items():
            print(f"  {describe(name, xs, ys, ones)}  ->  {describe(name, xs, ys, scales)}")
        print("  scales: " + ", ".join(f"{n} {s:.2f}" for n, s in zip(names, scales, strict=True) if s != 1))


if __name__ == "__main__":
    main()
