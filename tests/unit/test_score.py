"""The escalation scorer: categories, inflections, modifiers, explanations, the lexicon file."""

from __future__ import annotations

import json
import math

import pytest

from pipeline.score import (
    DEESCALATORY_THRESHOLD,
    ESCALATORY_THRESHOLD,
    LexiconError,
    Match,
    Scorer,
    encode_matches,
    inflections,
    load_scorer,
)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


def terms(result) -> dict[str, object]:
    return {m.term: m for m in result.matches}


# -- the seed article's key sentences (acceptance) -------------------------------------------------
def test_red_flags_that_matters_are_escalating_scores_high(scorer):
    result = scorer.score_sentence(
        "A US official pointed out that there are red flags indicating that matters are escalating."
    )
    assert result.score >= 0.7
    assert {"red flags", "escalate"} <= set(terms(result))


def test_reassurance_about_no_sanctions_is_not_scored_as_sanctions(scorer):
    result = scorer.score_sentence(
        "Iran is offering them reassurances that they won't be subjected to sanctions."
    )
    sanction = terms(result)["sanction"]
    assert sanction.effective_weight < 0
    assert any(m.startswith("negation:") for m in sanction.modifiers)
    assert result.score < ESCALATORY_THRESHOLD


def test_qatar_mediator_role_reads_as_deescalatory(scorer):
    result = scorer.score_sentence(
        "The information points to Qatar's role as a key mediator between the United States and Iran."
    )
    assert result.score <= DEESCALATORY_THRESHOLD
    assert terms(result)["mediator"].category == "negotiation"


def test_increase_their_attacks(scorer):
    result = scorer.score_sentence("The factions intend to increase their attacks on US forces.")
    assert result.score >= ESCALATORY_THRESHOLD
    assert terms(result)["increase their attacks"].category == "warning_signals"


def test_conditional_warning_is_rhetoric_below_a_reported_attack(scorer):
    warning = scorer.score_sentence(
        "Any escalation in this context will have serious escalatory consequences."
    )
    attack = scorer.score_sentence("Militias carried out a drone attack on the base and killed two soldiers.")
    assert warning.score >= ESCALATORY_THRESHOLD
    assert any("conditional:any" in m.modifiers for m in warning.matches)
    assert attack.score > warning.score


# -- categories ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sentence", "category"),
    [
        ("Warplanes carried out air strikes on the town overnight.", "armed_attack"),
        ("Shelling and rocket fire hit the eastern suburbs.", "armed_attack"),
        ("At least twelve people were killed and dozens wounded.", "casualties"),
        ("The minister issued an ultimatum and crossed a red line.", "threat_ultimatum"),
        ("Troops massing near the border worried neighbours as reservists got a call-up.", "mobilisation"),
        ("A carrier strike group entered the Gulf.", "mobilisation"),
        ("The militia is a proxy of the regional power.", "proxy_militia"),
        ("Inspectors said the country could produce weapons-grade uranium.", "nuclear_wmd"),
        ("The European Union imposed sanctions on three banks.", "sanctions_coercion"),
        ("The government expelled two diplomats and severed ties.", "expulsion_ties"),
        ("The ministry condemned the raid and accused the army of lying.", "hostile_rhetoric"),
        ("Analysts see red flags as tensions intensify.", "warning_signals"),
    ],
)
def test_escalatory_categories(scorer, sentence, category):
    result = scorer.score_sentence(sentence)
    assert result.score >= ESCALATORY_THRESHOLD, result
    assert category in {m.category for m in result.matches}


@pytest.mark.parametrize(
    ("sentence", "category"),
    [
        ("Both sides accepted a ceasefire that took effect at midnight.", "ceasefire"),
        ("A humanitarian pause in fighting was announced.", "ceasefire"),
        ("Qatar is mediating talks between the two sides.", "negotiation"),
        ("The envoy visited the capital for negotiations.", "negotiation"),
        ("The parties signed a peace agreement in Cairo.", "agreement"),
        ("The army began the withdrawal of troops from the city.", "withdrawal"),
        ("The two sides completed a prisoner exchange.", "exchange"),
        ("The two countries agreed to restore diplomatic relations.", "restored_ties"),
        ("Aid convoys used a humanitarian corridor.", "humanitarian"),
        ("The UN urged restraint from all parties.", "restraint"),
        # CAMEO "yield": surrender, extradition, giving in, returning seized property, joint drills
        ("Around 300 fighters surrendered to government forces on Tuesday.", "yield_concession"),
        ("The country extradited the suspect to its neighbour.", "yield_concession"),
        ("The navy returned the seized fishing boats to their owners.", "yield_concession"),
        ("The government accepted the demands of the striking miners.", "yield_concession"),
        ("The two armies held joint military exercises near the coast.", "yield_concession"),
        ("Officials from both countries shared intelligence on the smuggling network.", "yield_concession"),
    ],
)
def test_deescalatory_categories(scorer, sentence, category):
    result = scorer.score_sentence(sentence)
    assert result.score <= DEESCALATORY_THRESHOLD, result
    assert category in {m.category for m in result.matches}


def test_neutral_sentence_scores_zero(scorer):
    result = scorer.score_sentence("The central bank kept interest rates unchanged on Thursday.")
    assert result.score == 0 and result.matches == ()


def test_neutral_phrases_do_not_trigger_terms(scorer):
    assert scorer.score_sentence("According to the press release, the fire brigade arrived.").matches == ()


# -- inflections -----------------------------------------------------------------------------------
def test_inflections_regular_and_irregular():
    assert inflections("attack", {}) == ["attack", "attacks", "attacked", "attacking", "attackings"]
    assert inflections("seize", {}) == ["seize", "seizes", "seized", "seizing", "seizings"]
    assert inflections("carry", {}) == ["carry", "carries", "carried", "carrying", "carryings"]
    assert inflections("strike", {"strike": ["strikes", "struck", "striking"]}) == [
        "strike",
        "strikes",
        "struck",
        "striking",
        "strikings",
    ]


@pytest.mark.parametrize("noun", ["killings", "bombings", "shootings"])
def test_plural_ing_nouns_match(scorer, noun):
    # "responsible for mass killings": the -ing noun's plural is a form of the verb term too
    result = scorer.score_sentence(f"The group is blamed for the {noun} in the north.")
    assert result.score >= ESCALATORY_THRESHOLD, result


@pytest.mark.parametrize("form", ["attacks", "attacked", "attacking", "struck", "shelled", "fought"])
def test_inflected_forms_match(scorer, form):
    assert scorer.score_sentence(f"Gunmen {form} the village.").score >= ESCALATORY_THRESHOLD


# -- modifiers -------------------------------------------------------------------------------------
def test_negation_flips_and_shrinks(scorer):
    plain = terms(scorer.score_sentence("The army will attack the town."))["attack"]
    negated = terms(scorer.score_sentence("The army has no plans to attack the town."))["attack"]
    assert negated.effective_weight < 0 < plain.effective_weight
    assert abs(negated.effective_weight) < plain.effective_weight
    assert any(m.startswith("negation:") for m in negated.modifiers)


@pytest.mark.parametrize("cue", ["denied", "ruled out", "never"])
def test_denials(scorer, cue):
    result = scorer.score_sentence(f"The government {cue} any attack on the convoy.")
    assert terms(result)["attack"].effective_weight < 0


def test_hedging_weakens(scorer):
    firm = terms(scorer.score_sentence("Rebels attacked the convoy."))["attack"].effective_weight
    hedged = terms(scorer.score_sentence("Rebels reportedly attacked the convoy."))["attack"]
    assert 0 < hedged.effective_weight < firm and "hedge:reportedly" in hedged.modifiers


def test_future_intention_weakens(scorer):
    now = terms(scorer.score_sentence("They attack the base."))["attack"].effective_weight
    later = terms(scorer.score_sentence("They plan to attack the base."))["attack"]
    assert 0 < later.effective_weight < now and "future:plan to" in later.modifiers


def test_intensifier_and_diminisher(scorer):
    base = terms(scorer.score_sentence("There was an attack."))["attack"].effective_weight
    strong = terms(scorer.score_sentence("There was a massive attack."))["attack"].effective_weight
    weak = terms(scorer.score_sentence("There was a limited attack."))["attack"].effective_weight
    assert weak < base < strong


def test_modifiers_stop_at_the_clause_boundary(scorer):
    result = scorer.score_sentence("Officials did not comment, but militias attacked the base.")
    assert terms(result)["attack"].effective_weight > 0


def test_window_limits_modifier_reach(scorer):
    result = scorer.score_sentence(
        "No one expected that after many long months of quiet the militias attacked."
    )
    assert terms(result)["attack"].effective_weight > 0


# -- scores, explanations, text level --------------------------------------------------------------
def test_scores_are_bounded_and_explained(scorer):
    result = scorer.score_sentence(
        "Massive air strikes, shelling, rocket fire and drone attacks killed hundreds."
    )
    assert -1 <= result.score <= 1
    assert result.score == pytest.approx(math.tanh(result.escalation - result.deescalation))
    for match in result.matches:
        data = match.to_dict()
        assert {
            "term",
            "surface",
            "category",
            "polarity",
            "weight",
            "start",
            "end",
            "modifiers",
            "effective_weight",
        } <= data.keys()
        assert result.text[match.start : match.end] == match.surface


def test_text_score_aggregate_and_jsonl_shape(scorer):
    text = "Militias attacked the base. Two soldiers were killed. The weather was mild."
    result = scorer.score_text(text)
    assert len(result.sentences) == 3
    nets = [s.escalation - s.deescalation for s in result.sentences]
    assert result.score == pytest.approx(math.tanh(sum(nets) / math.sqrt(3)))
    data = result.to_dict()
    assert set(data) == {"score", "sentences"} and {"text", "score", "matches"} <= set(data["sentences"][0])
    assert scorer.score_text("").score == 0


def test_version_names_lexicon_and_code(scorer):
    assert scorer.version.startswith("lexicon-") and "+scorer-" in scorer.version


def test_lexicon_errors_are_clear(tmp_path):
    with pytest.raises(LexiconError, match="polarity"):
        Scorer({"version": "x", "categories": {"a": {"weight": 1, "terms": ["x"]}}})
    with pytest.raises(LexiconError, match="already a term of category a"):
        Scorer(
            {
                "version": "x",
                "categories": {
                    "a": {"polarity": 1, "terms": ["hit"]},
                    "b": {"polarity": -1, "terms": ["hit"]},
                },
            }
        )
    with pytest.raises(LexiconError, match="bad weight"):
        Scorer({"version": "x", "categories": {"a": {"polarity": 1, "terms": ["hit = heavy"]}}})
    # Stored explanations are JSON: a weight that JSON cannot write is refused when the file loads.
    with pytest.raises(LexiconError, match="finite"):
        Scorer({"version": "x", "categories": {"a": {"polarity": 1, "terms": ["hit = inf"]}}})
    with pytest.raises(LexiconError, match="finite"):
        Scorer({"version": "x", "categories": {"a": {"polarity": 1, "weight": "nan", "terms": ["hit"]}}})
    with pytest.raises(LexiconError, match="finite"):
        Scorer(
            {
                "version": "x",
                "categories": {},
                "modifiers": {"m": {"factor": "-inf", "window": 2, "cues": ["not"]}},
            }
        )
    bad = tmp_path / "lexicon.yaml"
    bad.write_text("version: [unclosed")
    with pytest.raises(LexiconError, match="not valid YAML"):
        load_scorer(bad)


def test_breach_turns_a_violated_truce_escalatory(scorer):
    result = scorer.score_sentence("Government forces violated the ceasefire agreement overnight.")
    assert result.score >= ESCALATORY_THRESHOLD
    assert "breach:violated" in terms(result)["ceasefire"].modifiers
    rejected = scorer.score_sentence("The rebels rejected the truce.")
    assert terms(rejected)["truce"].effective_weight > 0


def test_breach_leaves_escalatory_terms_alone(scorer):
    result = scorer.score_sentence("The militia broke through and attacked the town.")
    assert not any(m.startswith("breach") for m in terms(result)["attack"].modifiers)


def test_reversal_undoes_a_hostile_act(scorer):
    lifted = terms(scorer.score_sentence("Washington lifted the sanctions on the bank."))["sanction"]
    assert lifted.effective_weight < 0 and "reversal:lifted" in lifted.modifiers
    called_off = scorer.score_sentence("The unions called off the protest.")
    assert called_off.score < 0


def test_modifier_can_be_limited_to_one_polarity():
    custom = Scorer(
        {
            "version": "t",
            "categories": {
                "hostile": {"polarity": 1, "terms": ["raid"]},
                "peace": {"polarity": -1, "terms": ["truce"]},
            },
            "modifiers": {
                "breach": {"applies_to": "deescalatory", "factor": -0.5, "window": 3, "cues": ["broke"]}
            },
        }
    )
    assert terms(custom.score_sentence("They broke the truce."))["truce"].effective_weight == 0.5
    assert terms(custom.score_sentence("They broke a raid."))["raid"].effective_weight == 1.0
    with pytest.raises(LexiconError, match="applies_to"):
        Scorer(
            {
                "version": "t",
                "categories": {},
                "modifiers": {"x": {"applies_to": "some", "factor": 1, "window": 1, "cues": []}},
            }
        )


def test_later_terms_count_less_and_say_so(scorer):
    result = scorer.score_sentence("Rebels attacked the base and shelled the town.")
    first, second = result.matches[0], result.matches[1]
    assert "order:2" in second.modifiers and not any(m.startswith("order") for m in first.modifiers)
    assert second.effective_weight == pytest.approx(second.weight * scorer.order_decay)


def test_background_clause_counts_less_than_the_main_event(scorer):
    main = terms(scorer.score_sentence("Police arrested the man."))["arrest"]
    background = terms(scorer.score_sentence("The court freed a man who had been arrested."))["arrest"]
    assert "subordinate:who" in background.modifiers
    assert background.effective_weight < main.effective_weight


# -- reducing relations and demands (CAMEO 16 and 10): hostile acts aimed at cooperation -----------
@pytest.mark.parametrize(
    "sentence",
    [
        "The government cancelled a planned visit by the foreign minister.",
        "Washington sharply reduced military aid to the country.",
        "The UN withdrew its peacekeepers from the border area.",
        "The authorities expelled humanitarian aid workers from the region.",
        "Norway ended mediation efforts between the government and the rebels.",
    ],
)
def test_reducing_relations_is_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


def test_a_demand_for_a_peace_step_is_not_a_peace_step(scorer):
    demanded = scorer.score_sentence("The president said the neighbours must mediate peace talks.")
    offered = scorer.score_sentence("The neighbours offered to mediate peace talks.")
    assert demanded.score > 0 > offered.score
    assert any(m.startswith("demand:") for m in terms(demanded)["peace talks"].modifiers)


def test_a_long_cue_keeps_its_whole_window(scorer):
    # The window counts from the END of the cue: "threatened to withdraw from" is 4 words itself.
    result = scorer.score_sentence("The minister threatened to withdraw from a ceasefire agreement.")
    assert result.score >= ESCALATORY_THRESHOLD
    assert any(m.startswith("breach:") for m in terms(result)["ceasefire"].modifiers)


def test_halting_operations_and_repeal_undo_hostile_acts(scorer):
    assert scorer.score_sentence("The army ceased its military operations near the capital.").score < 0
    assert scorer.score_sentence("The parliament repealed the boycott law.").score < 0


@pytest.mark.parametrize(
    ("sentence", "category"),
    [
        ("The government refused to lift the ban on foreign ships.", "rejection"),
        ("The rebels will not release the captured soldiers.", "rejection"),
        ("The two delegations failed to reach an agreement on the border.", "rejection"),
        ("Prosecutors launched an investigation into the ministry's contracts.", "investigation_legal"),
        ("The commission launched legal action against the government.", "investigation_legal"),
    ],
)
def test_rejections_and_investigations_are_conflict(scorer, sentence, category):
    result = scorer.score_sentence(sentence)
    assert result.score >= ESCALATORY_THRESHOLD, result
    assert category in {m.category for m in result.matches}


@pytest.mark.parametrize(
    "sentence",
    [
        "The president expelled the ambassador.",
        "Police said gunmen hit the convoy.",
        "Militiamen shut the road.",
    ],
)
def test_consonant_doubling_and_irregular_plurals(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


def test_organisation_names_are_not_their_words(scorer):
    result = scorer.score_sentence("Amnesty International and the Red Cross published a report on Monday.")
    assert result.matches == ()


def test_an_offer_of_troops_is_cooperation(scorer):
    offered = scorer.score_sentence("Australia offered to send troops to help the army fight the insurgents.")
    sent = scorer.score_sentence("Australia sent troops and the army fought the insurgents.")
    assert offered.score < ESCALATORY_THRESHOLD < sent.score
    assert any(m.startswith("offer:") for match in offered.matches for m in match.modifiers)


@pytest.mark.parametrize(
    "sentence",
    [
        "The UN sanctions were lifted in January.",
        "The government rolled back tariffs on imported steel.",
        "Germany increased its funding to fight the epidemic in West Africa.",
        "The Lebanese Armed Forces received new trucks from the donors.",
    ],
)
def test_undoing_and_institutional_phrases_are_not_escalation(scorer, sentence):
    assert scorer.score_sentence(sentence).score < ESCALATORY_THRESHOLD


def test_claims_of_are_hedged(scorer):
    claimed = scorer.score_sentence("There were claims of interference in the election.")
    plain = scorer.score_sentence("He condemned the interference in the election.")
    assert any(m.startswith("hedge:claims of") for match in claimed.matches for m in match.modifiers)
    assert claimed.escalation < plain.escalation


def test_rejecting_an_accusation_is_a_statement_not_the_event(scorer):
    denial = scorer.score_sentence(
        "The ministry rejected accusations that the army was behind the attack on the convoy."
    )
    report = scorer.score_sentence("The army was behind the attack on the convoy.")
    assert denial.score < report.score / 2
    assert "reject" not in terms(denial)  # the phrase itself scores nothing


def test_condolences_put_the_event_in_the_background(scorer):
    condolences = scorer.score_sentence(
        "The president expressed condolences to the families of those killed in the attack."
    )
    report = scorer.score_sentence("Gunmen killed five people in the attack.")
    assert condolences.score < report.score


def test_claimed_responsibility_is_hedged(scorer):
    result = scorer.score_sentence("The group claimed responsibility for the bombing.")
    assert any(m.startswith("hedge:claimed responsibility for") for m in terms(result)["bomb"].modifiers)


def test_stored_matches_json_is_exactly_what_json_dumps_writes(scorer):
    # encode_matches skips the dicts for speed; the stored text must not change because of it.
    sentences = [
        'Iran\'s IRGC threatened to "retaliate" against Israel, but later agreed to talks.',
        "Hamas did not reject the ceasefire proposal — officials said strikes could resume.",
        "Der Minister warnte vor einer Eskalation: troops mobilised near the border\u2019s edge.",
        "Nothing to see here.",
    ]
    for sentence in sentences:
        matches = scorer.score_sentence(sentence).matches
        assert encode_matches(matches) == json.dumps([m.to_dict() for m in matches], ensure_ascii=False)
    odd = Match('te"rm\\', "sur\x00face\n\u202e", "cat", -1, 1.5, 0, 3, ("negation:not", 'q"'), -1.234567)
    assert encode_matches([odd]) == json.dumps([odd.to_dict()], ensure_ascii=False)
    assert json.loads(encode_matches([odd]))[0]["surface"] == "sur\x00face\n\u202e"
