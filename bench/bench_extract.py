"""Article extraction quality and speed: trafilatura default, trafilatura favor_precision, and ours.

    .venv/bin/python bench/bench_extract.py ../shared/data/extraction_dev [--validate]

The directory holds `html/<key>.html` and `ground-truth.json` ({key: {"articleBody", "url"}}).
Metric (the article-extraction benchmark's, as described in ../shared/data/README.md): the text is
cut into `\\w+` tokens; each page's 4-token shingles (a text shorter than 4 tokens is one shorter
shingle) of the extraction and of the true body are matched as multisets, giving tp/fp/fn per page;
precision is averaged over the pages that extracted anything (tp + fp > 0), recall over the pages
whose true body is not empty (tp + fn > 0), each page scoring 1 when it has neither fp nor fn; F1 is
the harmonic mean of the two averages. Pages/s is timed after one warm-up page per extractor (so
one-time loads such as the language model are not counted), one process, on the shared machine.

`--validate` guards the cleaning choices against overfitting the 47 pages: the pages are split in
two halves by a hash of their key; among candidate configurations (trafilatura's switches x our
cleaning parts, and the full cleaning minus each rule group), the best on one half is measured on
the other, in both directions, and each rule group's effect is shown on both halves.

Not a test: figures go to BENCHMARKS.md ("Article extraction").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.extract import ExtractOptions, extract_page, extractor_version, load_boilerplate

_TOKEN = re.compile(r"\w+")
SHINGLE = 4


def shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    if len(tokens) < n:
        return Counter([tuple(tokens)] if tokens else [])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def match_counts(true: str, predicted: str) -> tuple[int, int, int]:
    """(tp, fp, fn) of one page's shingles."""
    truth, pred = shingles(true), shingles(predicted)
    tp = sum((truth & pred).values())
    return tp, sum(pred.values()) - tp, sum(truth.values()) - tp


def page_precision(tp: int, fp: int, fn: int) -> float:
    return 1.0 if fp == fn == 0 else tp / (tp + fp)


def page_recall(tp: int, fp: int, fn: int) -> float:
    return 1.0 if fp == fn == 0 else tp / (tp + fn)


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float


def scores(counts: Sequence[tuple[int, int, int]]) -> Scores:
    precision = statistics.mean([page_precision(*c) for c in counts if c[0] + c[1] > 0] or [0.0])
    recall = statistics.mean([page_recall(*c) for c in counts if c[0] + c[2] > 0] or [0.0])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1)


@dataclass(frozen=True)
class Page:
    key: str
    url: str
    html: bytes
    truth: str

    @property
    def half(self) -> int:
        return hashlib.sha256(self.key.encode()).digest()[0] % 2


def load_pages(directory: Path) -> list[Page]:
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    return [
        Page(key, item.get("url", ""), (directory / "html" / f"{key}.html").read_bytes(), item["articleBody"])
        for key, item in sorted(truth.items())
    ]


Extractor = Callable[[Page], str]


def trafilatura_extractor(**settings: bool) -> Extractor:
    import trafilatura

    return lambda page: trafilatura.extract(page.html, url=page.url, **settings) or ""


def our_extractor(options: ExtractOptions | None = None, rules=None) -> Extractor:
    return lambda page: (
        extract_page(page.html, page.url, content_type="text/html", options=options, rules=rules).text
    )


def run(extractor: Extractor, pages: Sequence[Page]) -> tuple[list[tuple[int, int, int]], float]:
    extractor(pages[0])  # warm-up: one-time loads are not throughput
    started = time.perf_counter()
    texts = [extractor(page) for page in pages]
    elapsed = time.perf_counter() - started
    return [match_counts(p.truth, t) for p, t in zip(pages, texts, strict=True)], len(pages) / elapsed


def _row(name: str, s: Scores, rate: float | None = None) -> str:
    speed = f"{rate:8.1f}" if rate is not None else " " * 8
    return f"{name:<34} {s.precision:9.4f} {s.recall:7.4f} {s.f1:7.4f} {speed}"


def side_by_side(pages: Sequence[Page]) -> None:
    print(f"pages: {len(pages)}; ours = trafilatura {extractor_version()} (pipeline.extract)")
    print(f"{'extractor':<34} {'precision':>9} {'recall':>7} {'F1':>7} {'pages/s':>8}")
    for name, extractor in (
        ("trafilatura default", trafilatura_extractor()),
        ("trafilatura favor_precision", trafilatura_extractor(favor_precision=True)),
        ("ours (pipeline.extract)", our_extractor()),
    ):
        counts, rate = run(extractor, pages)
        print(_row(name, scores(counts), rate))


def candidates() -> dict[str, Extractor]:
    rules = load_boilerplate()
    found: dict[str, Extractor] = {
        "trafilatura default": trafilatura_extractor(),
        "trafilatura favor_precision": trafilatura_extractor(favor_precision=True),
        "trafilatura favor_recall": trafilatura_extractor(favor_recall=True),
    }
    for base, switches in (
        ("default", {}),
        ("precision", {"favor_precision": True}),
        ("recall", {"favor_recall": True}),
    ):
        for cleaning, parts in (
            ("no cleaning", {"drop_headline": False, "clean_boilerplate": False}),
            ("headline only", {"clean_boilerplate": False}),
            ("full cleaning", {}),
        ):
            for posts in (True, False):
                options = ExtractOptions(keep_embedded_posts=posts, **switches, **parts)
                label = f"ours {base}, {cleaning}{'' if posts else ', no tweets'}"
                found[label] = our_extractor(options)
    for group in rules.groups:
        found[f"ours full minus {group}"] = our_extractor(rules=rules.without(group))
    return found


def validate(pages: Sequence[Page]) -> None:
    halves = [[p for p in pages if p.half == h] for h in (0, 1)]
    print(f"split: half A {len(halves[0])} pages, half B {len(halves[1])} pages (sha256 of the key)")
    results: dict[str, list[Scores]] = {}
    for name, extractor in candidates().items():
        results[name] = [scores(run(extractor, half)[0]) for half in halves]
        a, b = results[name]
        print(f"  {name:<44} F1 A {a.f1:.4f}  B {b.f1:.4f}", flush=True)
    for chosen_on, measured_on in ((0, 1), (1, 0)):
        label = "AB"
        best = max(results, key=lambda n: results[n][chosen_on].f1)
        default = results["trafilatura default"][measured_on]
        print(
            f"chosen on half {label[chosen_on]}: {best!r} (F1 {results[best][chosen_on].f1:.4f}); "
            f"on half {label[measured_on]}: F1 {results[best][measured_on].f1:.4f} "
            f"(trafilatura default {default.f1:.4f}, "
            f"favor_precision {results['trafilatura favor_precision'][measured_on].f1:.4f}, "
            f"ours as shipped {results['ours default, full cleaning'][measured_on].f1:.4f})"
        )
    full = results["ours default, full cleaning"]
    print("rule groups (F1 change when the group is removed; negative = the group helps):")
    for name, (a, b) in results.items():
        if name.startswith("ours full minus "):
            print(f"  {name[16:]:<26} A {a.f1 - full[0].f1:+.4f}  B {b.f1 - full[1].f1:+.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", type=Path, help="extraction_dev: html/<key>.html + ground-truth.json")
    parser.add_argument("--validate", action="store_true", help="split-half selection of the cleaning")
    args = parser.parse_args()
    if not (args.directory / "ground-truth.json").is_file():
        sys.exit(f"error: {args.directory} has no ground-truth.json")
    pages = load_pages(args.directory)
    side_by_side(pages)
    if args.validate:
        validate(pages)


if __name__ == "__main__":
    main()
