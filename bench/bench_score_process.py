"""Whole-process `escalation score --jsonl` vs a VADER process doing the same job, side by side.

    .venv/bin/python bench/bench_score_process.py ../shared/data/world_news_2021_2022.jsonl.gz [--lines 40000]

Builds the input at bench time (one line per RSS item: title and teaser, whitespace collapsed; written
to a temporary directory, never kept), then runs, alternately and `--repeat` times each:

- `escalation score --jsonl` (the default, one worker process per core),
- the same with `--workers 1` (one core),
- a VADER process: read stdin, write `json.dumps(polarity_scores(line))` per line.

Each run is a fresh process reading the file on stdin and writing to a file, so start-up, imports,
lexicon compile, sentence splitting and JSON writing are all in the figure. Modules run from byte
code as in an install (pip compiles them): PYTHONDONTWRITEBYTECODE is dropped and the caches go to
the temporary directory, filled by one untimed warm-up run of each command. Prints the median wall
time and the CPU time (user + system of the process and its children) of each, the ratios, and the
load average before and after (the machine may be shared). Not a test: figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VADER_JOB = """\
import json, sys
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
analyzer = SentimentIntensityAnalyzer()
write = sys.stdout.write
for line in sys.stdin:
    line = line.rstrip("\\n")
    if line.strip():
        write(json.dumps(analyzer.polarity_scores(line)) + "\\n")
"""


def build_input(news: Path, lines: int, out: Path) -> int:
    written = 0
    with gzip.open(news, "rt", encoding="utf-8") as source, out.open("w", encoding="utf-8") as target:
        for raw in source:
            item = json.loads(raw)
            text = " ".join(" ".join(str(item.get(k) or "") for k in ("title", "description")).split())
            if text:
                target.write(text + "\n")
                written += 1
                if written >= lines:
                    break
    return written


def timed(command: list[str], stdin: Path, stdout: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process tree) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with stdin.open("rb") as source, stdout.open("wb") as target:
        subprocess.run(command, stdin=source, stdout=target, env=env, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def escalation_command() -> list[str]:
    script = Path(sys.executable).with_name("escalation")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline.cli"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("news", type=Path, help="world_news_2021_2022.jsonl.gz (title, description per line)")
    parser.add_argument("--lines", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; medians count")
    args = parser.parse_args()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    ours = escalation_command()
    commands = {
        "escalation score --jsonl (one worker per core)": [*ours, "score", "--jsonl"],
        "escalation score --jsonl --workers 1": [*ours, "score", "--jsonl", "--workers", "1"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        lines = build_input(args.news, args.lines, work / "input.txt")
        (work / "vader_job.py").write_text(VADER_JOB, encoding="utf-8")
        commands["VADER process (same job)"] = [sys.executable, str(work / "vader_job.py")]
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        for command in commands.values():  # warm-up: byte code for every module, page cache
            timed(command, work / "input.txt", work / "out.jsonl", env)
        load_before = os.getloadavg()
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                runs[name].append(timed(command, work / "input.txt", work / "out.jsonl", env))
        outputs = sum(1 for _ in (work / "out.jsonl").open(encoding="utf-8"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"input: {lines} lines (title + teaser), {cores} cores, median of {args.repeat} runs each")
    medians = {
        name: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r))
        for name, r in runs.items()
    }
    vader_wall, vader_cpu = medians["VADER process (same job)"]
    for name, (wall, cpu) in medians.items():
        print(
            f"{name:48} wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
            f"VADER/this: wall {vader_wall / wall:4.1f}x  cpu {vader_cpu / cpu:4.1f}x"
        )
    print(f"(last VADER output: {outputs} lines)")
    load_after = os.getloadavg()
    print(
        "load average (1, 5, 15 min) before: "
        + " ".join(f"{x:.1f}" for x in load_before)
        + ", after: "
        + " ".join(f"{x:.1f}" for x in load_after)
    )


if __name__ == "__main__":
    main()
