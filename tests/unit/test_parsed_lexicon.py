"""The lexicon parsed at build time (setup.py stores it in pipeline/_lexicon.pickle with the digest of the text
it parsed): load_lexicon takes it only for that very text, and it is what parsing the file gives."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import yaml

import pipeline
from pipeline.score import DEFAULT_LEXICON, PARSED_AT_BUILD, LexiconError, load_lexicon, parsed_at_build

REQUIRE_COMPILED_ENV = (
    "ESCALATION_REQUIRE_COMPILED"  # .ci/run: make install ran setup.py, so the parse is there
)


def _store(path: Path, raw: bytes, lexicon: object) -> Path:
    path.write_bytes(pickle.dumps({"source": pipeline._digest(raw), "lexicon": lexicon}))
    return path


def test_the_stored_parse_is_taken_for_the_text_it_was_made_from(tmp_path: Path):
    raw = b"version: x\ncategories: {}\n"
    stored = _store(tmp_path / "parsed.pickle", raw, {"version": "from the build"})
    assert parsed_at_build(raw, stored) == {"version": "from the build"}


def test_another_text_is_not_given_the_stored_parse(tmp_path: Path):
    raw = b"version: x\ncategories: {}\n"
    stored = _store(tmp_path / "parsed.pickle", raw, {"version": "from the build"})
    assert parsed_at_build(raw.replace(b"x", b"y"), stored) is None  # same length, another text
    assert parsed_at_build(raw + b"# a comment\n", stored) is None


@pytest.mark.parametrize(
    "content", [None, b"", b"not a pickle", pickle.dumps(["a", "list"]), pickle.dumps({"lexicon": {}})]
)
def test_a_missing_or_unreadable_store_means_parsing(tmp_path: Path, content: bytes | None):
    stored = tmp_path / "parsed.pickle"
    if content is not None:
        stored.write_bytes(content)
    assert parsed_at_build(b"version: x\n", stored) is None


def test_an_edited_copy_of_the_lexicon_is_parsed_not_taken_from_the_build(tmp_path: Path):
    edited = tmp_path / "lexicon.yaml"
    text = DEFAULT_LEXICON.read_text(encoding="utf-8")
    edited.write_text(text.replace("\nversion:", "\nversion: edited-copy  #", 1), encoding="utf-8")
    assert load_lexicon(edited)["version"] == "edited-copy"


def test_an_unchanged_copy_reads_the_same_as_the_packaged_lexicon(tmp_path: Path):
    copy = tmp_path / "lexicon.yaml"
    copy.write_bytes(DEFAULT_LEXICON.read_bytes())
    assert load_lexicon(copy) == load_lexicon(DEFAULT_LEXICON)


def test_a_lexicon_that_is_not_utf8_is_one_clear_error(tmp_path: Path):
    bad = tmp_path / "lexicon.yaml"
    bad.write_bytes(b"version: \xff\xfe\n")
    with pytest.raises(LexiconError, match="not UTF-8"):
        load_lexicon(bad)


def test_the_build_stored_what_parsing_the_packaged_lexicon_gives():
    raw = DEFAULT_LEXICON.read_bytes()
    stored = parsed_at_build(raw)
    if stored is None:
        reason = (
            f"no parse of the packaged lexicon stored at {PARSED_AT_BUILD} (a checkout not installed since)"
        )
        if os.environ.get(REQUIRE_COMPILED_ENV) == "1":
            pytest.fail(f"{reason}, and {REQUIRE_COMPILED_ENV}=1", pytrace=False)
        pytest.skip(reason)
    parsed = yaml.load(raw.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    assert stored == parsed
    assert load_lexicon(DEFAULT_LEXICON) == parsed
