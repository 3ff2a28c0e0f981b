"""The political anchor test (lexicon `anchor`, 2026.12.12; docs/scoring.md "The political anchor test").

The words of war and of peace that everyday news borrows count a quarter in a sentence that names no
anchor: no state, capital, group or leader of the gazetteer, no armed or political actor, weapon, place of
conflict or diplomatic object. The sentences here are written for these tests.
"""

from __future__ import annotations

import csv

import pytest

from pipeline.config import PACKAGE_DATA
from pipeline.score import LexiconError, Scorer, load_lexicon, load_scorer

LABEL = "unanchored:no-anchor"


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


def labels(scorer: Scorer, text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(m.term, m.modifiers) for m in scorer.score_sentence(text).matches]


@pytest.mark.parametrize(
    "text",
    [
        "War breaks out between two allotment societies",
        "The duchess hosts a tea for village volunteers",
        "A goose attack on joggers closes the riverside path",
        "The chess club signs a deal for a bigger hall",
    ],
)
def test_words_of_war_and_peace_without_an_anchor_count_a_quarter(scorer, text):
    result = scorer.score_sentence(text)
    assert any(LABEL in m.modifiers for m in result.matches), labels(scorer, text)
    assert -0.2 < result.score < 0.2, (result.score, labels(scorer, text))


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("Gunmen attack a bus depot at dawn", 1),  # an armed actor
        ("A drone attack sets a fuel depot ablaze", 1),  # a weapon
        ("Kenyan police attack a protest camp", 1),  # a state by its adjective, and police
        ("The truce holds as envoys meet again", -1),  # a diplomatic object and diplomats
        ("Rebel-held villages receive aid for the first time", -1),  # a compound's part
        ("The two Koreas agree to reopen a liaison office", -1),
        ("Putin hosts a visiting delegation", -1),  # a leader of the gazetteer
        ("A raid on the West Bank's olive farmers at dawn", 1),  # a phrase, its last word possessive
        ("The Prime Minister hosts a reception for the visiting delegation", -1),  # a phrase
        ("Abdel Fattah al-Sisi hosts a delegation", -1),  # a name of three words, one of them hyphenated
    ],
)
def test_an_anchor_keeps_the_full_weight(scorer, text, sign):
    result = scorer.score_sentence(text)
    assert not any(LABEL in m.modifiers for m in result.matches), labels(scorer, text)
    assert result.score * sign >= 0.2, (result.score, labels(scorer, text))


def test_unreached_terms_keep_their_weight_without_an_anchor(scorer):
    # a labour strike is a protest and a stabbing is crime with or without a state in view
    for text in ("Bakers strike over pay for a third day", "Two stabbed in a brawl outside a pub"):
        assert not any(LABEL in m.modifiers for m in scorer.score_sentence(text).matches), text
        assert scorer.score_sentence(text).score >= 0.2, text


def test_the_anchor_names_hold_the_gazetteer_aliases():
    """The lexicon's anchor names are the gazetteer's aliases in lower case, but for the everyday words its
    comment lists: a new alias must be added (or listed) there too."""
    anchor = load_lexicon(PACKAGE_DATA / "lexicon.yaml")["anchor"]
    listed = {str(w).lower() for w in [*anchor["names"], *anchor["words"]]}
    left_out = {"us", "who", "let", "chad", "turkey", "jordan", "sofia", "santiago", "kingston", "wellington",
                "holland", "bla", "sana", "poles", "lima", "guinea", "truss", "pence"}
    aliases = set()
    for name in ("actors.csv", "actors_people.csv"):
        lines = [line for line in (PACKAGE_DATA / name).read_text(encoding="utf-8").splitlines()
                 if not line.startswith("#")]
        rows = list(csv.reader(lines))
        for row in rows[1:]:
            if name == "actors.csv" and row[1] == "block":
                continue
            aliases.update(a.strip().lower() for a in row[3].split(";") if a.strip())
    assert aliases - left_out <= listed, sorted(aliases - left_out - listed)[:20]


@pytest.mark.parametrize(
    "name", ["Turkey", "Guinea", "Poles", "LeT", "BLA", "SANA", "Lima"]
)
def test_a_cased_name_anchors_as_written_and_not_in_lower_case(scorer, name):
    # "brokered by Turkey" names the state; "a Thanksgiving turkey" names none (2026.12.20, batch 81)
    written = f"Captured pilots freed in a deal brokered by {name}"
    lowered = f"Captured pilots freed in a deal brokered by {name.lower()}"
    assert not any(LABEL in m.modifiers for m in scorer.score_sentence(written).matches), labels(scorer, written)
    assert any(LABEL in m.modifiers for m in scorer.score_sentence(lowered).matches), labels(scorer, lowered)
    # a whole word only: inside a longer word it is none
    inside = f"Captured pilots freed in a deal brokered by {name}x"
    assert any(LABEL in m.modifiers for m in scorer.score_sentence(inside).matches), labels(scorer, inside)


def test_the_cased_names_are_gazetteer_aliases_as_written():
    """Each cased name is an alias of actors.csv or actors_people.csv exactly as the gazetteer writes it, one
    of those the lower-case names leave out (test_the_anchor_names_hold_the_gazetteer_aliases)."""
    anchor = load_lexicon(PACKAGE_DATA / "lexicon.yaml")["anchor"]
    aliases = set()
    for name in ("actors.csv", "actors_people.csv"):
        lines = [line for line in (PACKAGE_DATA / name).read_text(encoding="utf-8").splitlines()
                 if not line.startswith("#")]
        for row in list(csv.reader(lines))[1:]:
            aliases.update(a.strip() for a in row[3].split(";") if a.strip())
    lower_case_names = {str(w).lower() for w in anchor["names"]}
    for name in anchor["cased_names"]:
        assert name in aliases, name
        assert name.lower() not in lower_case_names, name


def test_a_malformed_anchor_section_is_refused():
    lexicon = load_lexicon(PACKAGE_DATA / "lexicon.yaml")
    with pytest.raises(LexiconError, match="anchor"):
        Scorer({**lexicon, "anchor": {"factor": 2.0, "terms": ["war"], "words": ["army"]}})
    with pytest.raises(LexiconError, match="anchor"):
        Scorer({**lexicon, "anchor": {"factor": 0.25, "words": ["army"]}})
    with pytest.raises(LexiconError, match="cased_names"):
        Scorer({**lexicon, "anchor": {**lexicon["anchor"], "cased_names": "Turkey"}})


@pytest.mark.parametrize(
    "text",
    [
        # Known costs, measured on the unit tests' own sentences (they were de-escalatory, de-escalatory and
        # escalatory before 2026.12.12): a peace step or a breakdown told with no anchor at all is read as an
        # everyday sense too. Anchoring them would need words ("fishermen", "crowds") that are no anchor.
        "The released fishermen returned home.",
        "Cheering crowds greeted news that the war is over.",
        "The calm lasted barely a week.",
    ],
)
def test_known_costs_a_sentence_with_no_anchor_at_all_is_damped(scorer, text):
    result = scorer.score_sentence(text)
    assert any(LABEL in m.modifiers for m in result.matches), labels(scorer, text)
    assert -0.2 < result.score < 0.2, result.score


@pytest.mark.parametrize(
    "text",
    [
        # 2026.12.13: factor 0.2, so one borrowed word of weight 1 with no anchor stays below the band
        "Pigeons invade the station concourse",
        "Parents fight over the last tickets for the nativity play",
        # pledge, ban and feud are reached
        "A bakery pledges free bread for pensioners",
        "Two cousins patch up a long feud over a will",
        # 2026.12.14: warning signs and a siege are reached
        "Nutritionists list the warning signs of iron deficiency",
        "Hornets besiege a campsite",
    ],
)
def test_a_lone_borrowed_word_without_an_anchor_stays_below_the_band(scorer, text):
    result = scorer.score_sentence(text)
    assert any(LABEL in m.modifiers for m in result.matches), labels(scorer, text)
    assert -0.2 < result.score < 0.2, (result.score, labels(scorer, text))


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("Paramilitaries raid a farming village", 1),
        ("Fighting spreads to the hills above the town", 1),
        ("Rioters attack a police station", 1),
        ("Clans' leaders sign a deal to end the conflict", -1),
        # 2026.12.14: the noun "official" (not the adjective) anchors as "officials" does
        ("One official said the warning signs were everywhere", 1),
        ("A senior official warns of retaliation", 1),
    ],
)
def test_the_named_anchors_keep_the_full_weight(scorer, text, sign):
    result = scorer.score_sentence(text)
    assert not any(LABEL in m.modifiers for m in result.matches), labels(scorer, text)
    assert result.score * sign >= 0.2, (result.score, labels(scorer, text))


def test_the_guns_falling_silent_is_a_ceasefire(scorer):
    assert scorer.score_sentence("The guns fell silent along the river line at dawn").score <= -0.2


def test_the_adjective_official_is_no_anchor(scorer):
    result = scorer.score_sentence("The official trailer for the war epic drops on Friday")
    assert any(LABEL in m.modifiers for m in result.matches), labels(scorer, "The official trailer")
    assert -0.2 < result.score < 0.2, result.score


def test_a_thriller_is_leisure(scorer):
    text = "A thriller about a hostage raid is the streaming hit of the week"
    result = scorer.score_sentence(text)
    assert -0.2 < result.score < 0.2, (result.score, labels(scorer, text))
