"""Harm without a political perpetrator (lexicon 2026.12.4 / scorer-7): the disaster, accident and
crime contexts, the perpetrator test that voids them, and the two mechanisms crime needs (a cue phrase
that is its own harm term; motive words that void a context). The sentences are written for these tests."""

from __future__ import annotations

import pytest

from pipeline.score import (
    CONTEXT_MODIFIER_PREFIXES,
    ESCALATORY_THRESHOLD,
    LexiconError,
    Scorer,
    load_scorer,
    read_in_context,
)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


def labels(result, prefix: str) -> set[str]:
    return {mod for m in result.matches for mod in m.modifiers if mod.startswith(prefix)}


def terms(result) -> dict[str, object]:
    return {m.term: m for m in result.matches}


# -- natural hazards: weather, geology, heat and cold, disease -------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Hail as big as golf balls injured 30 people at an open-air concert.",
        "The quake toppled a minaret in the old city, killing two worshippers.",
        "A typhoon slammed into the northern coast, killing eight.",
        "A sandstorm killed two motorists on the desert highway.",
        "Extreme cold has killed 14 people sleeping rough this week.",
        "Bird flu has killed a farmer in the south, health officials said.",
        "A lightning strike killed a shepherd and his flock.",
        "A magnitude 6.1 tremor injured dozens in the hill towns.",
        "Famine has killed thousands of children in the drought-hit north.",
    ],
)
def test_deaths_in_a_natural_hazard_are_not_escalation(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert abs(result.score) < ESCALATORY_THRESHOLD, result
    assert labels(result, "disaster:"), result


# -- accidents: fire and explosion at work or home, transport, collapses, crowds ------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "A blast ripped through a copper mine, killing nine miners.",
        "Fire at a fuel depot killed four workers overnight.",
        "An explosion at a refinery killed three and injured 20.",
        "A gas cylinder blast killed a family of five in their home.",
        "A truck hit a minibus at a junction, killing six.",
        "A helicopter carrying tourists came down in the bay, killing all seven.",
        "A crush at the stadium gates killed 12 fans.",
        "Eleven worshippers died after being trampled at the shrine.",
        "A crane fell onto a row of shops, killing two shoppers.",
        "The roof of a market hall caved in, killing 17 traders.",
    ],
)
def test_deaths_in_an_accident_are_not_escalation(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert abs(result.score) < ESCALATORY_THRESHOLD, result
    assert labels(result, "accident:") or labels(result, "disaster:"), result


def test_an_accident_setting_does_not_explain_away_a_strike(scorer):
    # A bare "strike" on a depot, a factory or a car is an air strike: the accident context (unlike a
    # hazard, which itself "strikes") does not reach it, so it is a perpetrator and the context is void.
    for sentence in (
        "A strike on a fuel depot killed three workers.",
        "A strike on a car near the border killed two men.",
        "Strikes hit a factory in the eastern city, killing five.",
    ):
        result = scorer.score_sentence(sentence)
        assert result.score >= 0.5, result
        assert not labels(result, "accident:"), result
    quake = scorer.score_sentence("A strong quake struck the valley, killing 12.")
    assert abs(quake.score) < ESCALATORY_THRESHOLD and labels(quake, "disaster:")


@pytest.mark.parametrize(
    "sentence",
    [
        "A bomb blast at a checkpoint killed four policemen.",
        "Militants attacked a mining camp, killing seven workers.",
        "An arson attack gutted a warehouse used by aid agencies.",
        "Six people were killed in an air strike on a village cut off by floods.",
        "Rebels ambushed a bus on the mountain road, killing 11 passengers.",
        "A roadside bomb hit a minibus, killing nine.",
        "Gunmen set fire to a factory and shot two guards.",
    ],
)
def test_a_perpetrator_keeps_the_harm_high_in_any_context(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert result.score >= 0.5, result
    assert not any(labels(result, prefix) for prefix in CONTEXT_MODIFIER_PREFIXES), result


def test_tensions_near_a_vehicle_are_no_accident(scorer):
    # Vehicles are weak cues: the accident context reaches harm words, not political warning signals.
    result = scorer.score_sentence("Tensions rose after the plane was refused permission to land.")
    assert not labels(result, "accident:")


# -- crime: escalatory, lower than organised armed violence, and marked ---------------------------------
@pytest.mark.parametrize(
    ("crime", "political"),
    [
        ("A gunman killed four people at a bar.", "Militants killed four soldiers at a checkpoint."),
        (
            "A man with a knife stabbed three shoppers in a robbery.",
            "Insurgents stabbed three guards in a raid.",
        ),
        ("Five killed in a mass shooting at a wedding.", "Five killed in a terror attack at a wedding."),
    ],
)
def test_criminal_violence_is_moderate_and_marked_while_political_violence_stays_high(
    scorer, crime, political
):
    ordinary = scorer.score_sentence(crime)
    armed = scorer.score_sentence(political)
    assert ESCALATORY_THRESHOLD <= ordinary.score < 0.65, ordinary
    assert labels(ordinary, "crime:"), ordinary
    assert armed.score >= 0.7 and not labels(armed, "crime:"), armed
    assert armed.score > ordinary.score


def test_a_cue_phrase_counts_as_the_harm_term_it_contains(scorer):
    # "mass shooting" is a cue phrase that hides the term "shooting"; with cue_terms it is that term,
    # read in its own context, so the phrase alone is still (moderate) violence.
    result = scorer.score_sentence("A mass shooting at a shopping centre.")
    match = terms(result)["shoot"]
    assert match.surface == "mass shooting" and "crime:mass shooting" in match.modifiers
    assert ESCALATORY_THRESHOLD <= result.score < 0.5
    gunman = terms(scorer.score_sentence("A gunman opened fire on diners."))["gunman"]
    assert "crime:gunman" in gunman.modifiers


@pytest.mark.parametrize(
    "sentence",
    [
        "A gunman killed six worshippers in a terror attack on a mosque.",
        "A lone gunman with far-right views killed nine people at a supermarket.",
        "A gunman assassinated the opposition leader at a rally.",
        "A knife attack by an Islamic State supporter left three dead.",
    ],
)
def test_a_political_motive_or_an_assassination_is_not_ordinary_crime(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert result.score >= 0.7, result
    assert not labels(result, "crime:"), result


def test_context_mechanisms_in_a_custom_lexicon():
    lexicon = {
        "version": "t",
        "categories": {
            "harm": {"polarity": 1, "weight": 1.0, "terms": ["~shoot", "~kill"]},
            "actor": {"polarity": 1, "weight": 0.5, "terms": ["militant"]},
        },
        "modifiers": {
            "crime": {
                "position": "around",
                "scope": "sentence",
                "factor": 0.5,
                "window": 60,
                "cue_terms": True,
                "categories": ["harm"],
                "unless_categories": ["actor"],
                "unless_words": ["terror"],
                "cues": ["mass shooting", "robbery"],
            },
            "plain": {  # no cue_terms: a cue phrase hides the term and never applies to itself
                "position": "around",
                "scope": "sentence",
                "factor": 0.5,
                "window": 60,
                "categories": ["harm"],
                "cues": ["hunting trip"],
            },
        },
    }
    custom = Scorer(lexicon)
    shooting = custom.score_sentence("a mass shooting")
    assert [(m.term, m.modifiers, m.effective_weight) for m in shooting.matches] == [
        ("shoot", ("crime:mass shooting",), 0.5)
    ]
    robbery = custom.score_sentence("two killed in a robbery")
    assert terms(robbery)["kill"].modifiers == ("crime:robbery",)
    assert custom.score_sentence("a terror robbery kills two").escalation == pytest.approx(1.0)
    assert "crime:robbery" not in terms(custom.score_sentence("militant robbery kills two"))["kill"].modifiers
    assert custom.score_sentence("a hunting trip").matches == ()


def test_every_context_kind_is_a_lexicon_modifier_the_store_counts(scorer):
    # The store counts evidence carrying one of these prefixes as context (no incident opens on it).
    assert CONTEXT_MODIFIER_PREFIXES == ("disaster:", "accident:", "crime:")
    for sentence, prefix in (
        ("Floods killed nine.", "disaster:"),
        ("A lorry hit a minibus, killing nine.", "accident:"),
        ("A gunman killed nine.", "crime:"),
    ):
        assert labels(scorer.score_sentence(sentence), prefix)


def test_a_stored_sentence_is_context_only_when_all_its_escalation_is():
    quake = [{"term": "kill", "effective_weight": 0.09, "modifiers": ["disaster:earthquake"]}]
    crime = [{"term": "gunman", "effective_weight": 0.35, "modifiers": ["crime:gunman"]}]
    threat = [
        {"term": "threat", "effective_weight": 0.7, "modifiers": []},
        {"term": "murder", "effective_weight": 0.08, "modifiers": ["order:3", "crime:murder"]},
    ]
    calm = [{"term": "talks", "effective_weight": -0.5, "modifiers": []}]
    assert read_in_context(quake) and read_in_context(crime)
    assert read_in_context([*quake, *calm])  # de-escalatory terms do not make harm political
    assert not read_in_context(threat)  # a death threat next to a background murder is a threat
    assert not read_in_context(calm) and not read_in_context([])


def test_a_weapon_named_voids_a_context_but_a_filming_drone_does_not(scorer):
    depot = scorer.score_sentence("A drone hit a fuel depot, killing two guards.")
    assert depot.score >= 0.5 and not labels(depot, "accident:"), depot
    storm = scorer.score_sentence("Kamikaze drones slammed into the harbour during the storm.")
    assert storm.score >= ESCALATORY_THRESHOLD and not labels(storm, "disaster:"), storm
    footage = scorer.score_sentence("Drone footage shows the deadly floods in the valley.")
    assert abs(footage.score) < ESCALATORY_THRESHOLD and labels(footage, "disaster:"), footage


def test_a_hazard_that_slams_into_a_coast_is_reached_but_a_critic_who_slams_is_not(scorer):
    # "slams into" is a cue phrase holding the term "slam": the context reaches it; a bare "slam" (to
    # criticise) is no hazard word, so rhetoric in a disease sentence keeps its weight.
    landfall = scorer.score_sentence("The typhoon slammed into the islands overnight.")
    assert labels(landfall, "disaster:") and abs(landfall.score) < ESCALATORY_THRESHOLD
    critic = terms(scorer.score_sentence("The minister slams the agency over its covid response."))["slam"]
    assert critic.effective_weight == pytest.approx(critic.weight)


def test_a_collapse_of_talks_does_not_hide_rising_tensions(scorer):
    # A bare "collapse" is an accident cue, which reaches casualties, not political warning signals.
    result = scorer.score_sentence("The talks collapsed as tensions rose along the border.")
    assert not any(labels(result, prefix) for prefix in CONTEXT_MODIFIER_PREFIXES), result
    assert terms(result)["tension"].effective_weight > 0.2
    roof = scorer.score_sentence("A roof collapsed at the market, killing three traders.")
    assert labels(roof, "accident:") and abs(roof.score) < ESCALATORY_THRESHOLD


def test_an_attacker_named_by_the_crime_context_voids_the_accident_context(scorer):
    result = scorer.score_sentence("A man wielding a knife injured ten passengers on a train.")
    assert labels(result, "crime:") and not labels(result, "accident:"), result
    assert result.score >= ESCALATORY_THRESHOLD


def test_a_natural_death_is_no_casualty_of_anyone(scorer):
    obituary = scorer.score_sentence("The former president dies aged 91 after a long illness.")
    assert abs(obituary.score) < ESCALATORY_THRESHOLD and labels(obituary, "disaster:"), obituary
    shot = scorer.score_sentence("The opposition leader died at the age of 60 after being shot by soldiers.")
    assert shot.score >= 0.5 and not labels(shot, "disaster:"), shot


def test_a_misspelt_context_kind_is_a_lexicon_error():
    lexicon = {
        "version": "t",
        "categories": {"harm": {"polarity": 1, "terms": ["~kill"]}},
        "modifiers": {
            "disaster": {
                "position": "around",
                "scope": "sentence",
                "factor": 0.1,
                "window": 60,
                "unless_kinds": ["crmie"],
                "cues": ["flood"],
            },
        },
    }
    with pytest.raises(LexiconError, match="crmie"):
        Scorer(lexicon)
