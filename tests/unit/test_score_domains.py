"""The entries of lexicon 2026.12.11: everyday domains that borrow the words of war and of peace (the
`markets` and `leisure` contexts, the `sport` context over words of peace), a peace step that "is over",
disarmament with words between, and an act `dated` by its year (half weight, no asserted act). The
sentences are written for these tests."""

from __future__ import annotations

import pytest

from pipeline.score import DEESCALATORY_THRESHOLD, ESCALATORY_THRESHOLD, Scorer, asserted_acts, load_scorer


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


def acts(result) -> set[str]:
    return asserted_acts(m._asdict() for m in result.matches)


def labels(result) -> set[str]:
    return {mod.split(":", 1)[0] for m in result.matches for mod in m.modifiers}


def neither(score: float) -> bool:
    return DEESCALATORY_THRESHOLD < score < ESCALATORY_THRESHOLD


# -- markets: shares, prices, rates -----------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "A bruising mortgage war breaks out as lenders undercut each other",
        "The bank's shares take a hit as profits slump",
        "The cap on household bills is lifted as wholesale costs fall",
        "Investors fight over the last allocation of the chipmaker's bonds",
        "The regulator approves a rescue loan for the struggling retailer",
    ],
)
def test_a_market_story_damps_the_words_of_war_and_rescue(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert neither(result.score), (sentence, result)
    assert "markets" in labels(result)


@pytest.mark.parametrize(
    "sentence",
    [
        "Oil prices jump as Iran seizes a tanker in the Gulf",  # a state names the actor
        "Stocks slide as fighting spreads around Kharkiv",  # a place of conflict
        "Shares tumble after missiles target the refinery",  # a weapon
        "Bond yields climb as troops storm the central bank",  # an armed actor
    ],
)
def test_a_state_place_or_weapon_keeps_the_market_story_s_conflict(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert result.score >= ESCALATORY_THRESHOLD, (sentence, result)
    assert "markets" not in labels(result)


def test_market_cues_do_not_reach_sanctions_or_attacks(scorer):
    result = scorer.score_sentence("Shares in the exporter sink after the attack and new sanctions")
    attack = next(m for m in result.matches if m.term == "attack")
    assert not any(mod.startswith("markets:") for mod in attack.modifiers)
    assert result.score >= ESCALATORY_THRESHOLD


# -- leisure: entertainment, royals, animals, space, museums -------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "The duchess hosts a garden party for hospice nurses",
        "The governor pardons two Thanksgiving turkeys named Peanut and Butter",
        "The zoo welcomes a pair of red pandas from Chengdu",
        "A robot uprising film captures the box office for a second week",
        "The museum agrees to loan its dinosaur skeleton to Edinburgh",
        "Astronauts capture a comet's tail from the space station",
    ],
)
def test_a_leisure_story_damps_the_words_of_war_and_peace(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert neither(result.score), (sentence, result)
    assert "leisure" in labels(result)


@pytest.mark.parametrize(
    "sentence",
    [
        "A missile hits a museum in Kharkiv, wounding three guards",
        "Gunmen storm a concert hall and kill twelve people",
        "A man with a knife attacks shoppers at a film premiere",  # crime, not leisure
    ],
)
def test_real_violence_at_a_leisure_place_stays_escalatory(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert result.score >= ESCALATORY_THRESHOLD, (sentence, result)
    assert "leisure" not in labels(result)


def test_a_state_visit_hosted_by_a_king_keeps_its_diplomacy(scorer):
    # no leisure cue, and a state named: the royal visit sense alone decides (2026.12.10)
    result = scorer.score_sentence("Britain's king hosts the Japanese emperor at Windsor")
    assert "leisure" not in labels(result)


# -- sport over the words of peace -------------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Brighton land a Belgian midfielder on loan until the summer",
        "The goalkeeper agrees a two-year deal with the Bundesliga side",
        "Both managers call a truce after the derby touchline row",
    ],
)
def test_a_club_s_words_of_peace_are_sport(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert neither(result.score), (sentence, result)
    assert "sport" in labels(result)


# -- breakdowns and disarmament ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence", ["The rebels say the ceasefire is over", "The truce was over within hours of being signed"]
)
def test_a_peace_step_that_is_over_has_broken_down(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert result.score >= ESCALATORY_THRESHOLD, (sentence, result)
    assert "breakdown" in labels(result)


def test_a_war_that_is_over_is_still_de_escalation(scorer):
    assert scorer.score_sentence("The president says the war is over").score <= DEESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "The militia hands over its heavy weapons to the peace commission",
        "Former fighters give up all their arms at a ceremony in the capital",
    ],
)
def test_disarmament_with_words_between_is_de_escalation(scorer, sentence):
    assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD


# -- dated: an act named by its year ----------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "The 2015 Paris attacks left 130 dead, the court was told.",
        "Survivors of the 1994 genocide gather in Kigali.",
        "A 1973 coup ended the country's democracy.",
        "2008's crackdown on the monks is remembered in a new film.",
    ],
)
def test_an_act_dated_by_its_year_is_scored_but_not_asserted(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert "dated" in labels(result), (sentence, result)
    assert not {"armed_attack", "casualties", "power_seizure"} & acts(result)


def test_a_dated_act_counts_half(scorer):
    dated = scorer.score_sentence("The 2015 attacks killed 130 people")
    plain = scorer.score_sentence("The attacks killed 130 people")
    assert 0 < dated.net == pytest.approx(plain.net / 2)


def test_the_day_s_act_beside_a_dated_one_stays_whole(scorer):
    result = scorer.score_sentence("Police detain 40 officers over the 2016 coup")
    detain = next(m for m in result.matches if m.term == "detain")
    assert not any(mod.startswith("dated:") for mod in detain.modifiers)
    assert "armed_attack" in acts(result) and "power_seizure" not in acts(result)


def test_a_bare_in_year_is_no_date_cue(scorer):
    # both labelled files date the events they code this way (docs/scoring.md, "Acts dated by their year")
    result = scorer.score_sentence("In 2019 troops stormed the town")
    assert "dated" not in labels(result)
