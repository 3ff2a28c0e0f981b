"""Scorer throughput vs VADER on the same sentences, same process, single core.

    .venv/bin/python bench/bench_scorer.py ../shared/data/cameo_dev.tsv [--repeat 5]

Prints sentences/s for both and the ratio. Not a test: figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from pipeline.evaluate import read_examples
from pipeline.score import load_scorer


def best_rate(func, sentences: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for sentence in sentences:
            func(sentence)
        best = min(best, time.perf_counter() - start)
    return len(sentences) / best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tsv", type=Path, help="sentence<TAB>label file (only the sentences are used)")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes; the best one counts")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # single core, as the target says
    sentences = [e.sentence for e in read_examples(args.tsv)]

    started = time.perf_counter()
    scorer = load_scorer()
    compile_s = time.perf_counter() - started
    ours = best_rate(scorer.score_sentence, sentences, args.repeat)

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    vader = best_rate(analyzer.polarity_scores, sentences, args.repeat)
    print(f"sentences: {len(sentences)} (best of {args.repeat} passes, one core)")
    print(f"lexicon compile: {compile_s * 1000:.0f} ms ({scorer.term_count} term variants, {scorer.version})")
    print(f"escalation scorer: {ours:,.0f} sentences/s")
    print(f"VADER:             {vader:,.0f} sentences/s")
    print(f"ratio:             {ours / vader:.1f}x VADER")


if __name__ == "__main__":
    main()
