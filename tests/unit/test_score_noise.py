"""Word senses behind the archive backtest's noise pages (lexicon 2026.12.9): a seizure of power needs a
seat of power or a force in view, statues, events and incumbents' seats are not seized, idioms and
descriptions report no act, and a violent act told as background (a relative clause, a trial, a role in
it, an earlier month) is `recalled`: half weight and no asserted act. The sentences are written for these
tests."""

from __future__ import annotations

import pytest

from pipeline.score import ESCALATORY_THRESHOLD, Scorer, asserted_acts, load_scorer

GRAVE = 0.5  # config rare_act_min_score: a sentence at or above it that asserts a seizure of power pages


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


def acts(result) -> set[str]:
    return asserted_acts(m._asdict() for m in result.matches)


def weight(result, term: str) -> float:
    return sum(m.effective_weight for m in result.matches if m.term == term)


# -- oust, topple: competition, statues, seats ----------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Lisbon ousts Madrid as the favourite destination of remote workers.",
        "How Denmark toppled the holders in a breathless second half.",
        "The upstart airline has toppled its older rival as the busiest carrier.",
        "Party leaders hope to oust freshman Republican Rep. Jane Doe next year.",
        "Bronze statues of two colonial governors were toppled in the night.",
    ],
)
def test_oust_and_topple_without_a_seat_of_power_are_no_seizure(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert weight(result, "oust") + weight(result, "topple") == 0
    assert "power_seizure" not in acts(result)


@pytest.mark.parametrize(
    "sentence",
    [
        "Soldiers ousted the president in a dawn raid on the palace.",
        "Rebels vow to topple the government within weeks.",
        "Mutinous troops toppled the regime overnight.",
        "Protesters ousted him after weeks of street battles.",
    ],
)
def test_oust_and_topple_with_a_seat_of_power_keep_their_weight(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert weight(result, "oust") + weight(result, "topple") > 0.3


def test_an_ousted_president_is_a_description_not_an_act(scorer):
    described = scorer.score_sentence("The ousted former president flew to Singapore on Thursday.")
    done = scorer.score_sentence("The army ousted the president on Thursday.")
    assert described.score == 0 and "power_seizure" not in acts(described)
    assert done.score >= GRAVE and "power_seizure" in acts(done)


# -- take over, take power, cling to power ----------------------------------------------------------------
def test_an_event_that_takes_over_the_capital_is_no_takeover(scorer):
    festival = scorer.score_sentence("The film festival is set to take over the capital next week.")
    rebels = scorer.score_sentence("Rebels take over the capital after a night of fighting.")
    assert weight(festival, "take over") == 0
    assert weight(rebels, "take over") > 0.3


def test_a_new_president_taking_power_is_an_inauguration(scorer):
    sworn = scorer.score_sentence("The country's new president is taking power at a difficult moment.")
    junta = scorer.score_sentence("The new junta is taking power after soldiers detained the president.")
    assert sworn.score < ESCALATORY_THRESHOLD
    assert weight(junta, "take power") > 0


def test_clinging_to_power_through_a_coalition_is_politics(scorer):
    coalition = scorer.score_sentence("The prime minister woos fringe parties in a bid to cling to power.")
    plain = scorer.score_sentence("The general clings to power as the army splits.")
    assert coalition.score < ESCALATORY_THRESHOLD
    assert weight(plain, "cling to power") > 2 * weight(coalition, "cling to power")


# -- idioms, companies, adjectives, accidents ----------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Japanese anime studios are killing it at the box office.",
        "Shell says its refinery margins doubled and it will raise its dividend.",
        "The exhibition shows striking images of the melting glaciers.",
        "A fishing trawler sank off the northern coast, the coast guard says.",
        "An old unexploded shell was found by builders in the garden.",
        "A sitcom about culture clashes between in-laws tops the ratings.",
    ],
)
def test_idioms_companies_and_accidents_are_not_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score < ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "Russian artillery shelled the town overnight, killing three civilians.",
        "Troops shelled an oil depot on the edge of the city.",
        "A torpedo sank the frigate in the strait.",
        "Air strikes hit the port overnight.",
    ],
)
def test_the_main_reading_holds_with_a_weapon_or_a_force_in_view(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= GRAVE


def test_a_fight_against_a_ban_is_a_political_struggle(scorer):
    lobby = scorer.score_sentence("The tobacco lobby spent millions on a fight to delay the ban.")
    combat = scorer.score_sentence("Rebels fight to hold the town as the army advances.")
    assert weight(lobby, "fight") < 0.35
    assert weight(combat, "fight") >= 0.5


def test_an_oil_spill_is_a_disaster_context(scorer):
    result = scorer.score_sentence("The oil spill is the worst disaster to hit the coast, threatening wildlife.")
    assert result.score < ESCALATORY_THRESHOLD
    assert any(mod.startswith("disaster:") for m in result.matches for mod in m.modifiers)


# -- recalled: an act told as background ----------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "The general, who led the coup that shook the country, arrived in Bangkok for talks.",
        "A man who allegedly assaulted guards during the palace siege will be held before trial, a judge ruled.",
        "The lawmaker may be barred from office because of her role in the insurrection.",
        "Refugees are still crossing the border, fleeing violence since March's military coup.",
    ],
)
def test_a_recalled_act_is_scored_but_not_asserted(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert any(mod.startswith("recalled:") for m in result.matches for mod in m.modifiers)
    assert not {"power_seizure", "armed_attack"} & acts(result)


def test_a_guilty_plea_is_a_verdict(scorer):
    result = scorer.score_sentence("Two men pleaded guilty over the bombing of the bus station.")
    assert result.score < ESCALATORY_THRESHOLD
    assert any(mod.startswith("verdict:") for m in result.matches for mod in m.modifiers)


def test_recalled_leaves_the_day_s_own_legal_or_coercive_act_whole(scorer):
    # the ban is today's act; the coup it follows is last month's
    result = scorer.score_sentence("The bloc bans the junta's leaders over last month's coup.")
    ban = next(m for m in result.matches if m.category == "sanctions_coercion")
    assert not any(mod.startswith("recalled:") for mod in ban.modifiers)
    assert "sanctions_coercion" in acts(result) and "power_seizure" not in acts(result)


def test_a_coup_of_the_day_still_asserts(scorer):
    result = scorer.score_sentence("Soldiers seize power and detain the president in a coup.")
    assert result.score >= GRAVE and "power_seizure" in acts(result)


def test_an_obituary_recalls_the_coup_of_the_deceased(scorer):
    obituary = scorer.score_sentence(
        "The former dictator, whose harsh rule began with a military coup, died on Monday at the age of 91."
    )
    coup = next(m for m in obituary.matches if m.term == "coup")
    assert "recalled:at the age of" in coup.modifiers
    assert "power_seizure" not in acts(obituary)


def test_a_year_ago_is_retrospective(scorer):
    result = scorer.score_sentence("A year ago, a car bomb tore through the market, killing 40 people.")
    assert any(mod.startswith("retrospective:") for m in result.matches for mod in m.modifiers)
    assert not {"armed_attack", "casualties"} & acts(result)
