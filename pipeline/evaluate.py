"""Evaluation harness: this scorer vs VADER vs a trained baseline on labelled sentences.

Two file formats, told apart per file by the number of tab-separated columns:

- CAMEO: `sentence<TAB>label`, labels are CAMEO quad classes 0 neutral, 1 verbal cooperation,
  2 material cooperation, 3 verbal conflict, 4 material conflict;
- PLOVER: `sentence<TAB>quad<TAB>root`, quad 1-4 as above (no neutral class) plus the PLOVER root
  code (ACCUSE, REJECT, COERCE, ASSAULT, AGREE, CONSULT, AID, ...).

Metrics, for every system on the same sentences: ROC AUC of conflict (3, 4) vs the rest, AUC of
conflict vs cooperation (1, 2), Spearman correlation with the ordinal {1, 2 -> -1; 0 -> 0; 3 -> 1;
4 -> 2}, a confusion table of the scorer's three bands (thresholds of pipeline.score) against the
labels and, for PLOVER files, a table per root code.

VADER (vaderSentiment, negated compound) and the trained baseline (TF-IDF 1-2-grams + logistic
regression) are development dependencies; a missing one is reported, not fatal. The baseline is
scored out-of-fold by stratified k-fold cross-validation on the file itself (fixed seed) and, when
a second labelled file is given, also trained on that file and scored on this one (the cross-file
figure that held-out data resembles).
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
CONFLICT = frozenset({3, 4})
COOPERATION = frozenset({1, 2})


class EvalError(ValueError):
    """The evaluation file is malformed; the message names the line."""


@dataclass(frozen=True)
class Example:
    line: int
    sentence: str
    label: int
    root: str | None = None  # PLOVER root code, when the file has one


@dataclass(frozen=True)
class SystemMetrics:
    name: str
    auc_conflict: float | None
    auc_conflict_vs_coop: float | None
    spearman: float | None
    note: str = ""


@dataclass(frozen=True)
class RootRow:
    """One PLOVER root code: how many sentences, the scorer's mean score and how many land in the
    band the quad class expects (conflict: escalatory; cooperation: de-escalatory)."""

    root: str
    quad: int
    count: int
    mean_score: float
    in_band: int
    mean_vader: float | None = None


@dataclass
class EvalReport:
    path: str
    file_format: str
    examples: int
    label_counts: dict[int, int]
    systems: list[SystemMetrics]
    confusion: dict[str, dict[int, int]]
    worst: list[dict[str, Any]] = field(default_factory=list)
    scorer_version: str = ""
    roots: list[RootRow] = field(default_factory=list)


def read_examples(path: Path) -> list[Example]:
    """Examples of a CAMEO (2 columns) or PLOVER (3 columns) file; a bad line is a one-line error."""
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
        columns = line.rstrip("\n").split("\t")
        if len(columns) == 2:
            sentence, label, root = columns[0], columns[1], None
        elif len(columns) == 3:
            sentence, label, root = columns[0], columns[1], columns[2].strip().upper() or None
        else:
            raise EvalError(
                f"{path}:{number}: expected 'sentence<TAB>label' or 'sentence<TAB>quad<TAB>root', "
                f"got {len(columns)} columns"
            )
        if not sentence.strip():
            raise EvalError(f"{path}:{number}: empty sentence")
        try:
            value = int(label.strip())
        except ValueError:
            raise EvalError(f"{path}:{number}: label {label.strip()!r} is not a number 0-4") from None
        if value not in ORDINAL:
            raise EvalError(f"{path}:{number}: label {value} is not a CAMEO quad class 0-4")
        examples.append(Example(number, sentence.strip(), value, root))
    if not examples:
        raise EvalError(f"{path}: no examples")
    return examples


def file_format(examples: list[Example]) -> str:
    return "plover" if any(e.root for e in examples) else "cameo"


def _metrics(name: str, labels: list[int], scores: list[float], note: str = "") -> SystemMetrics:
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    conflict = [1 if y in CONFLICT else 0 for y in labels]
    auc = roc_auc_score(conflict, scores) if 0 < sum(conflict) < len(conflict) else None
    pairs = [(1 if y in CONFLICT else 0, s) for y, s in zip(labels, scores, strict=True) if y != 0]
    auc_cc = None
    if pairs and 0 < sum(p[0] for p in pairs) < len(pairs):
        auc_cc = roc_auc_score([p[0] for p in pairs], [p[1] for p in pairs])
    rho = spearmanr([ORDINAL[y] for y in labels], scores).statistic
    return SystemMetrics(name, auc, auc_cc, None if rho != rho else float(rho), note)


def vader_scores(sentences: list[str]) -> list[float] | None:
    """VADER's negated compound (higher = more negative sentiment), or None without vaderSentiment."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyzer = SentimentIntensityAnalyzer()
    return [-analyzer.polarity_scores(s)["compound"] for s in sentences]


def _sklearn_missing() -> str | None:
    """The import that fails, or None: the note names it instead of guessing."""
    try:
        import numpy  # noqa: F401
        import scipy  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as exc:
        return f"{exc.name or exc} not installed"
    return None


def _baseline_model():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
        LogisticRegression(max_iter=2000, C=4.0),
    )


def baseline_cv_scores(sentences: list[str], labels: list[int], seed: int) -> tuple[list[float] | None, str]:
    """Out-of-fold expected ordinal of TF-IDF + logistic regression (never sees its test fold);
    (None, why) when it cannot run."""
    missing = _sklearn_missing()
    if missing:
        return None, missing
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    folds = min(5, min(labels.count(y) for y in set(labels)))
    if len(set(labels)) < 2 or folds < 2:
        return None, "needs two classes with at least two sentences each for cross-validation"
    x, y = np.array(sentences, dtype=object), np.array(labels)
    out = np.zeros(len(labels))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, y):
        model = _baseline_model()
        model.fit(x[train], y[train])
        ordinal = np.array([ORDINAL[c] for c in model.classes_])
        out[test] = model.predict_proba(x[test]) @ ordinal
    return out.tolist(), f"{folds}-fold out-of-fold"


def baseline_trained_scores(train: list[Example], sentences: list[str]) -> tuple[list[float] | None, str]:
    """Expected ordinal of TF-IDF + logistic regression trained on another file."""
    missing = _sklearn_missing()
    if missing:
        return None, missing
    import numpy as np

    labels = [e.label for e in train]
    if len(set(labels)) < 2:
        return None, "the training file needs at least two classes"
    model = _baseline_model()
    model.fit(np.array([e.sentence for e in train], dtype=object), np.array(labels))
    ordinal = np.array([ORDINAL[c] for c in model.classes_])
    return (model.predict_proba(np.array(sentences, dtype=object)) @ ordinal).tolist(), ""


def band(score: float) -> str:
    if score >= ESCALATORY_THRESHOLD:
        return "escalatory"
    if score <= DEESCALATORY_THRESHOLD:
        return "de-escalatory"
    return "neutral"


def _expected_band(label: int) -> str:
    return "escalatory" if label in CONFLICT else "de-escalatory" if label in COOPERATION else "neutral"


def _root_rows(examples: list[Example], ours: list[float], vader: list[float] | None) -> list[RootRow]:
    groups: dict[str, list[int]] = {}
    for index, example in enumerate(examples):
        if example.root:
            groups.setdefault(example.root, []).append(index)
    rows = []
    for root, indexes in groups.items():
        quads = [examples[i].label for i in indexes]
        quad = max(set(quads), key=quads.count)
        rows.append(
            RootRow(
                root,
                quad,
                len(indexes),
                sum(ours[i] for i in indexes) / len(indexes),
                sum(1 for i in indexes if band(ours[i]) == _expected_band(examples[i].label)),
                None if vader is None else sum(vader[i] for i in indexes) / len(indexes),
            )
        )
    return sorted(rows, key=lambda r: (-ORDINAL[r.quad], r.root))


def run_eval(
    path: Path,
    scorer: Scorer | None = None,
    *,
    worst: int = 20,
    seed: int = 0,
    train_path: Path | None = None,
) -> EvalReport:
    """Score every example with the scorer, VADER and the baseline (cross-validated on this file;
    also trained on `train_path` when given) and collect the figures."""
    scorer = scorer or load_scorer()
    examples = read_examples(path)
    train = read_examples(train_path) if train_path is not None else None
    sentences = [e.sentence for e in examples]
    labels = [e.label for e in examples]
    scored = scorer.score_many(sentences)
    ours = [s.score for s in scored]
    systems = [_metrics(f"escalation scorer ({scorer.version})", labels, ours)]
    vader = vader_scores(sentences)
    systems.append(
        _metrics("VADER (negated compound)", labels, vader)
        if vader is not None
        else SystemMetrics("VADER", None, None, None, "vaderSentiment not installed")
    )
    baseline, note = baseline_cv_scores(sentences, labels, seed)
    name = "TF-IDF + LR, cross-validated on this file"
    systems.append(
        _metrics(name, labels, baseline, note)
        if baseline is not None
        else SystemMetrics(name, None, None, None, note)
    )
    if train is not None:
        trained, note = baseline_trained_scores(train, sentences)
        name = f"TF-IDF + LR, trained on {Path(train_path).name}"
        systems.append(
            _metrics(name, labels, trained, note)
            if trained is not None
            else SystemMetrics(name, None, None, None, note)
        )
    confusion: dict[str, dict[int, int]] = {
        b: dict.fromkeys(LABEL_NAMES, 0) for b in ("escalatory", "neutral", "de-escalatory")
    }
    for s, y in zip(ours, labels, strict=True):
        confusion[band(s)][y] += 1
    # Worst misses: the largest distance between the score and where the label says it should lie.
    target = {0: 0.0, 1: -0.5, 2: -0.5, 3: 0.5, 4: 0.9}
    ranked = sorted(zip(examples, scored, strict=True), key=lambda p: -abs(p[1].score - target[p[0].label]))
    misses = [
        {
            "line": e.line,
            "label": e.label,
            "root": e.root or "",
            "score": round(s.score, 3),
            "sentence": e.sentence,
            "terms": [f"{m.term}:{m.effective_weight:+.2f}" for m in s.matches],
        }
        for e, s in ranked[:worst]
    ]
    counts = {y: labels.count(y) for y in sorted(set(labels))}
    return EvalReport(
        str(path),
        file_format(examples),
        len(examples),
        counts,
        systems,
        confusion,
        misses,
        scorer.version,
        _root_rows(examples, ours, vader),
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_eval(report: EvalReport, console: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    console.print(
        f"{escape(report.path)} ({report.file_format}): {report.examples} sentences, labels {report.label_counts}"
    )
    table = Table(title="Side by side")
    for column in ("system", "AUC conflict vs rest", "AUC conflict vs coop", "Spearman (ordinal)", "note"):
        table.add_column(column)
    for s in report.systems:
        table.add_row(
            escape(s.name),
            _fmt(s.auc_conflict),
            _fmt(s.auc_conflict_vs_coop),
            _fmt(s.spearman),
            escape(s.note),
        )
    console.print(table)
    confusion = Table(
        title=f"Scorer bands (>= {ESCALATORY_THRESHOLD}, <= {DEESCALATORY_THRESHOLD}) vs labels"
    )
    confusion.add_column("band \\ label")
    present = [y for y in LABEL_NAMES if y in report.label_counts]
    for y in present:
        confusion.add_column(f"{y} {LABEL_NAMES[y]}", justify="right")
    for band_name, row in report.confusion.items():
        confusion.add_row(band_name, *(str(row[y]) for y in present))
    console.print(confusion)
    if report.roots:
        roots = Table(
            title="PLOVER root codes (expected band: conflict escalatory, cooperation de-escalatory)"
        )
        for column in ("root", "quad", "sentences", "scorer mean", "in expected band", "VADER mean"):
            roots.add_column(column, justify="right" if column != "root" else "left")
        for r in report.roots:
            roots.add_row(
                r.root,
                str(r.quad),
                str(r.count),
                f"{r.mean_score:+.3f}",
                f"{r.in_band} ({100 * r.in_band / r.count:.0f}%)",
                "n/a" if r.mean_vader is None else f"{r.mean_vader:+.3f}",
            )
        console.print(roots)
    if report.worst:
        misses = Table(title=f"{len(report.worst)} worst misses")
        for column in ("line", "label", "score", "sentence", "matched terms"):
            misses.add_column(column, overflow="fold")
        for m in report.worst:
            label = f"{m['label']} {m['root']}".strip()
            misses.add_row(
                str(m["line"]),
                label,
                f"{m['score']:+.2f}",
                escape(m["sentence"]),
                escape(", ".join(m["terms"])),
            )
        console.print(misses)
