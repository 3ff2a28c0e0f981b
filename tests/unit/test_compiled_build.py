"""The compiled scorer (setup.py compiles pipeline/score.py and pipeline/matching.py with mypyc): it gives the
same output as its source, and a build older than its source is never the one that runs."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

import pipeline
import pipeline.matching
import pipeline.score
from pipeline import run_stale_builds_from_source, stale_builds

REQUIRE_COMPILED_ENV = "ESCALATION_REQUIRE_COMPILED"  # .ci/run: the tested scorer is the compiled one
PACKAGE = Path(pipeline.__file__).parent
SUITE = Path(__file__).parents[1] / "data" / "headlines.tsv"
EXTENSION = importlib.machinery.EXTENSION_SUFFIXES[0]


def _compiled(module) -> bool:
    return module.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def _require_compiled() -> None:
    if _compiled(pipeline.score) and _compiled(pipeline.matching):
        return
    reason = "the scorer is not compiled here (ESCALATION_PURE_PYTHON=1, no C compiler, or an edited source)"
    if os.environ.get(REQUIRE_COMPILED_ENV) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_COMPILED_ENV}=1", pytrace=False)
    pytest.skip(reason)


def _package(tmp_path: Path, name: str, record: str | None) -> Path:
    """A package with module m.py, a file where its compiled build would be, and an optional record."""
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "m.py").write_text("ANSWER = 42\n")
    (package / f"m{EXTENSION}").write_bytes(b"not a shared library")
    if record is not None:
        (package / "_compiled.json").write_text(record)
    return package


def _record(source: Path) -> str:
    return json.dumps({"m": pipeline._digest(source.read_bytes())})


def test_a_build_of_the_source_as_it_is_is_not_stale(tmp_path: Path):
    package = _package(tmp_path, "fresh", None)
    (package / "_compiled.json").write_text(_record(package / "m.py"))
    assert stale_builds(package) == {}


def test_an_edited_source_or_a_missing_record_makes_its_build_stale(tmp_path: Path):
    edited = _package(tmp_path, "edited", None)
    (edited / "_compiled.json").write_text(_record(edited / "m.py"))
    (edited / "m.py").write_text("ANSWER = 43\n")  # same length, other bytes
    assert stale_builds(edited) == {"m": edited / "m.py"}
    missing = _package(tmp_path, "missing", None)
    assert stale_builds(missing) == {"m": missing / "m.py"}
    garbled = _package(tmp_path, "garbled", "{not json")
    assert stale_builds(garbled) == {"m": garbled / "m.py"}


def test_a_module_without_a_build_or_a_build_without_a_source_is_left_alone(tmp_path: Path):
    package = tmp_path / "plain"
    package.mkdir()
    (package / "m.py").write_text("ANSWER = 42\n")
    (package / f"orphan{EXTENSION}").write_bytes(b"")
    assert stale_builds(package) == {}


def test_a_stale_build_is_skipped_and_its_source_runs(tmp_path: Path, monkeypatch, capsys):
    # The "build" is not a shared library: importing it would fail, so the import succeeding proves
    # that the source ran.
    _package(tmp_path, "stalepkg", '{"m": "0:00000000"}')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    importlib.invalidate_caches()
    with pytest.raises(ImportError):
        importlib.import_module("stalepkg.m")
    sys.modules.pop("stalepkg.m", None)
    assert run_stale_builds_from_source(tmp_path / "stalepkg", "stalepkg") == ["m"]
    module = importlib.import_module("stalepkg.m")
    assert module.ANSWER == 42 and module.__file__ == str(tmp_path / "stalepkg" / "m.py")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stalepkg: m changed since compiled" in err
    for name in ("stalepkg.m", "stalepkg"):
        sys.modules.pop(name, None)


def test_one_stale_build_sends_every_built_module_to_its_source(tmp_path: Path, monkeypatch, capsys):
    # The compiled scorer calls the compiled matcher natively: a compiled module next to another one's source
    # would crash, so an edit to one runs both as Python. Here "n" is up to date and would still fail to import
    # as a build (not a shared library): importing it succeeds only from its source.
    package = _package(tmp_path, "pairpkg", None)
    (package / "n.py").write_text("ANSWER = 7\n")
    (package / f"n{EXTENSION}").write_bytes(b"not a shared library")
    (package / "_compiled.json").write_text(
        json.dumps({"m": "0:00000000", "n": pipeline._digest((package / "n.py").read_bytes())})
    )
    assert stale_builds(package) == {"m": package / "m.py"}
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    importlib.invalidate_caches()
    assert run_stale_builds_from_source(package, "pairpkg") == ["m"]
    assert importlib.import_module("pairpkg.n").ANSWER == 7
    assert importlib.import_module("pairpkg.m").ANSWER == 42
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pairpkg: m changed since compiled; running m, n as Python" in err
    for name in ("pairpkg.m", "pairpkg.n", "pairpkg"):
        sys.modules.pop(name, None)


def test_this_checkout_runs_the_compiled_scorer():
    _require_compiled()
    assert stale_builds(PACKAGE) == {}


def _source_module(name: str):
    """pipeline.<name> run from its .py source, under another name, beside the compiled one."""
    spec = importlib.util.spec_from_file_location(f"pipeline._source_{name}", PACKAGE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_compiled_scorer_writes_what_its_source_writes():
    _require_compiled()
    source = _source_module("score")
    compiled_scorer, source_scorer = pipeline.score.load_scorer(), source.load_scorer()
    lines = [line.split("\t")[0] for line in SUITE.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line.strip() and not line.startswith("#")]
    lines += [
        "Rebels said they would increase their attacks. Talks collapsed; the truce is in tatters.",
        "Despite calls for restraint, troops massed on the border and the ministry denied it.",
        "Gaza ceasefire: Israeli strikes kill 20 in Rafah",
        "\u201cWe won\u2019t be subjected to sanctions,\u201d the minister said. İstanbul talks resume.",
    ]
    assert len(lines) > 3000
    for line in lines:
        assert pipeline.score.encode_text_score(compiled_scorer.score_text(line)) == source.encode_text_score(
            source_scorer.score_text(line)
        ), line


def test_compiled_matcher_finds_what_its_source_finds():
    _require_compiled()
    source = _source_module("matching")
    phrases = [("war", 1), ("world war", 2), ("no", 3), ("cease-fire", 4), ("u.s.", 5)]
    compiled_automaton = pipeline.matching.build_automaton(phrases)
    source_automaton = source.build_automaton(phrases)
    for text in ("the second world war", "now, no war", "a cease-fire; the u.s. said no", "", "warfare"):
        assert pipeline.matching.longest_matches(compiled_automaton, text) == source.longest_matches(
            source_automaton, text
        )
