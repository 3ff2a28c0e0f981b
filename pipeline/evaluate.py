"""Evaluation harness: this scorer vs VADER vs a trained baseline on CAMEO-labelled sentences.

Input: `sentence<TAB>label` lines, labels are CAMEO quad classes 0 neutral, 1 verbal cooperation,
2 material cooperation, 3 verbal conflict, 4 material conflict. Metrics, for every system on the same
sentences: ROC AUC of conflict (3, 4) vs the rest, AUC of conflict vs cooperation (1, 2), Spearman
correlation with the ordinal {1, 2 -> -1; 0 -> 0; 3 -> 1; 4 -> 2}, and a confusion table of the
scorer's three bands (thresholds of pipeline.score) against the label groups.

VADER (vaderSentiment, negated compound) and the trained baseline (TF-IDF 1-2-grams + logistic
regression, scored out-of-fold by stratified 5-fold cross-validation, fixed seed) are development
dependencies; a missing one is reported, not fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.score import DEESCALATORY_THRESHOLD, ESCALATORY_THRESHOLD, Scorer, load_scorer

ORDINAL = {0: 0, 1: -1, 2: -1, 3: 1, 4: 2}
LABEL_NAMES = {
    0: "neutral",
    1: "verbal coop",
    2: "material coop",
    3: "verbal conflict",
    4: "material conflict",
}


class EvalError(ValueError):
    """The evaluation file is malformed; the message names the line."""


@dataclass(frozen=True)
class Example:
    line: int
    sentence: str
    label: int


@dataclass(frozen=True)
class SystemMetrics:
    name: str
    auc_conflict: float | None
    auc_conflict_vs_coop: float | None
    spearman: float | None
    note: str = ""


@dataclass
class EvalReport:
    path: str
    examples: int
    label_counts: dict[int, int]
    systems: list[SystemMetrics]
    confusion: dict[str, dict[int, int]]
    worst: list[dict[str, Any]] = field(default_factory=list)
    scorer_version: str = ""


def read_examples(path: Path) -> list[Example]:
    examples = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise EvalError(f"{path} is not UTF-8 text: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        sentence, tab, label = line.rpartition("\t")
        if not tab or not sentence.strip():
            raise EvalError(f"{path}:{number}: expected 'sentence<TAB>label'")
        try:
            value = int(label.strip())
        except ValueError:
            raise EvalError(f"{path}:{number}: label {label.strip()!r} is not a number 0-4") from None
        if value not in ORDINAL:
            raise EvalError(f"{path}:{number}: label {value} is not a CAMEO quad class 0-4")
        examples.append(Example(number, sentence.strip(), value))
    if not examples:
        raise EvalError(f"{path}: no examples")
    return examples


def _metrics(name: str, labels: list[int], scores: list[float], note: str = "") -> SystemMetrics:
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    conflict = [1 if y in (3, 4) else 0 for y in labels]
    auc = roc_auc_score(conflict, scores) if 0 < sum(conflict) < len(conflict) else None
    pairs = [(1 if y in (3, 4) else 0, s) for y, s in zip(labels, scores, strict=True) if y != 0]
    auc_cc = None
    if pairs and 0 < sum(p[0] for p in pairs) < len(pairs):
        auc_cc = roc_auc_score([p[0] for p in pairs], [p[1] for p in pairs])
    rho = spearmanr([ORDINAL[y] for y in labels], scores).statistic
    return SystemMetrics(name, auc, auc_cc, None if rho != rho else float(rho), note)


def _vader_scores(sentences: list[str]) -> list[float] | None:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyzer = SentimentIntensityAnalyzer()
    return [-analyzer.polarity_scores(s)["compound"] for s in sentences]


def _baseline_scores(sentences: list[str], labels: list[int], seed: int) -> list[float] | None:
    """Out-of-fold expected ordinal of a TF-IDF + logistic regression model (fair: never sees its test fold)."""
    try:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold
        from sklearn.pipeline import make_pipeline
    except ImportError:
        return None
    folds = min(5, min(labels.count(y) for y in set(labels)))
    if folds < 2 or len(set(labels)) < 2:
        return None
    x, y = np.array(sentences, dtype=object), np.array(labels)
    out = np.zeros(len(labels))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, y):
        model = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
            LogisticRegression(max_iter=2000, C=4.0),
        )
        model.fit(x[train], y[train])
        ordinal = np.array([ORDINAL[c] for c in model.classes_])
        out[test] = model.predict_proba(x[test]) @ ordinal
    return out.tolist()


def _band(score: float) -> str:
    if score >= ESCALATORY_THRESHOLD:
        return "escalatory"
    if score <= DEESCALATORY_THRESHOLD:
        return "de-escalatory"
    return "neutral"


def run_eval(path: Path, scorer: Scorer | None = None, *, worst: int = 20, seed: int = 0) -> EvalReport:
    scorer = scorer or load_scorer()
    examples = read_examples(path)
    sentences = [e.sentence for e in examples]
    labels = [e.label for e in examples]
    scored = scorer.score_many(sentences)
    ours = [s.score for s in scored]
    systems = [_metrics(f"escalation scorer ({scorer.version})", labels, ours)]
    vader = _vader_scores(sentences)
    systems.append(
        _metrics("VADER (negated compound)", labels, vader)
        if vader is not None
        else SystemMetrics("VADER", None, None, None, "vaderSentiment not installed")
    )
    baseline = _baseline_scores(sentences, labels, seed)
    systems.append(
        _metrics("TF-IDF + logistic regression (5-fold out-of-fold)", labels, baseline)
        if baseline is not None
        else SystemMetrics("TF-IDF + LR", None, None, None, "scikit-learn not installed or too few examples")
    )
    confusion: dict[str, dict[int, int]] = {
        b: dict.fromkeys(LABEL_NAMES, 0) for b in ("escalatory", "neutral", "de-escalatory")
    }
    for s, y in zip(ours, labels, strict=True):
        confusion[_band(s)][y] += 1
    # Worst misses: the largest distance between the score and where the label says it should lie.
    target = {0: 0.0, 1: -0.5, 2: -0.5, 3: 0.5, 4: 0.9}
    ranked = sorted(zip(examples, scored, strict=True), key=lambda p: -abs(p[1].score - target[p[0].label]))
    misses = [
        {
            "line": e.line,
            "label": e.label,
            "score": round(s.score, 3),
            "sentence": e.sentence,
            "terms": [f"{m.term}:{m.effective_weight:+.2f}" for m in s.matches],
        }
        for e, s in ranked[:worst]
    ]
    counts = {y: labels.count(y) for y in sorted(set(labels))}
    return EvalReport(str(path), len(examples), counts, systems, confusion, misses, scorer.version)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_eval(report: EvalReport, console: Any) -> None:
    from rich.table import Table

    console.print(f"{report.path}: {report.examples} sentences, labels {report.label_counts}")
    table = Table(title="Side by side")
    for column in ("system", "AUC conflict vs rest", "AUC conflict vs coop", "Spearman (ordinal)", "note"):
        table.add_column(column)
    for s in report.systems:
        table.add_row(s.name, _fmt(s.auc_conflict), _fmt(s.auc_conflict_vs_coop), _fmt(s.spearman), s.note)
    console.print(table)
    confusion = Table(
        title=f"Scorer bands (>= {ESCALATORY_THRESHOLD}, <= {DEESCALATORY_THRESHOLD}) vs labels"
    )
    confusion.add_column("band \\ label")
    for y, name in LABEL_NAMES.items():
        confusion.add_column(f"{y} {name}", justify="right")
    for band, row in report.confusion.items():
        confusion.add_row(band, *(str(row[y]) for y in LABEL_NAMES))
    console.print(confusion)
    misses = Table(title=f"{len(report.worst)} worst misses")
    for column in ("line", "label", "score", "sentence", "matched terms"):
        misses.add_column(column, overflow="fold")
    for m in report.worst:
        misses.add_row(
            str(m["line"]), str(m["label"]), f"{m['score']:+.2f}", m["sentence"], ", ".join(m["terms"])
        )
    console.print(misses)
