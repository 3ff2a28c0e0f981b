"""The escalation scorer: categories, inflections, modifiers, explanations, the lexicon file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pipeline.score import (
    CONTEXT_MODIFIER_PREFIXES,
    DEESCALATORY_THRESHOLD,
    ESCALATORY_THRESHOLD,
    LexiconError,
    Match,
    Scorer,
    asserted_acts,
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
    assert terms(result)["mediator"].category == "peace_actors"  # named as an actor, de-escalatory


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
    result = scorer.score_sentence("Jets attacked the base and shelled the town.")
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


def test_encoded_matches_do_not_mix_numbers_that_compare_equal():
    # encode_matches caches the text of a term's fixed fields and of rounded weights; 1 == 1.0 ==
    # True and 0.0 == -0.0 as dict keys, but json.dumps writes each its own way.
    variants = [
        Match("war", "war", "armed_conflict", 1, 1.0, 0, 3, (), 1.0),
        Match("war", "War", "armed_conflict", 1, 1, 0, 3, (), 1),
        Match("war", "war", "armed_conflict", 1, 1.0, 0, 3, (), True),
        Match("war", "war", "armed_conflict", 1, 1.0, 0, 3, ("sense:drill",), 0.0),
        Match("war", "war", "armed_conflict", 1, 1.0, 0, 3, ("negation:not",), -0.0),
        Match("war", "war", "armed_conflict", -1, -0.0, 0, 3, (), -0.0),
        Match("war", "war", "armed_conflict", -1, 0.0, 0, 3, (), 0.0),
        Match("war", "war", "armed_conflict", 1, 0.61234, 0, 3, (), 0.612345678),
    ]
    for _ in range(2):  # the second pass reads what the first one cached
        for match in variants:
            assert encode_matches([match]) == json.dumps([match.to_dict()], ensure_ascii=False)
        assert encode_matches(variants) == json.dumps([m.to_dict() for m in variants], ensure_ascii=False)


def test_encoded_sentence_scores_do_not_mix_numbers_that_compare_equal():
    # encode_sentence_score reads the text of its numbers from the cache of rounded weights; zero,
    # negative zero, ints and bools must still be written as json.dumps writes them, on a second pass
    # (from the cache) as on the first, and a modifier list given as a list, not a tuple, too.
    from pipeline.score import SentenceScore, TextScore, encode_sentence_score, encode_text_score

    match = Match("war", "war", "armed_conflict", 1, 1.0, 0, 3, ("order:2",), 0.5)
    listed = Match("war", "war", "armed_conflict", 1, 1.0, 0, 3, ["order:2", "negation:not"], 0.5)
    sentences = [
        SentenceScore("a", 0.0, 0.0, 0.0, (match,)),
        SentenceScore("b", -0.0, 0.0, -0.0, (match,)),
        SentenceScore("c", 1, True, 0, (match, listed)),
        SentenceScore("d", 0.76159415595, 1.0, 0.0, (match,)),
        SentenceScore("e", 0.7615941559557649, 1, 0.0, (listed,)),
        SentenceScore("f", 0.0, 0.0, 0.0),
    ]
    for _ in range(2):
        for sentence in sentences:
            assert encode_sentence_score(sentence) == json.dumps(sentence.to_dict(), ensure_ascii=False)
        for score in (0.0, -0.0, 0.5, 1, 0.12345):
            text = TextScore(score, tuple(sentences))
            assert encode_text_score(text) == json.dumps(text.to_dict(), ensure_ascii=False)


def test_rounded_numbers_are_written_as_repr_of_round_writes_them():
    # _round4 formats once instead of round() then repr(); the text must be exactly the old one,
    # including halves at the 5th decimal, negative zero, integers and values past its fast range.
    import random
    import struct

    from pipeline.score import _round4

    numbers: list[float] = [0.0, -0.0, 0.00005, -0.00005, 0.00015, 0.00025, 1.00005, 2.0, -3.0, 0.5,
                            12345.67895, 1e-9, -1e-9, 999999999.99995, 1e9, -1e9, 1e20, -1e300,
                            math.inf, -math.inf, 3, -2, 0]
    draw = random.Random(13)
    for _ in range(20_000):
        numbers += [draw.uniform(-50, 50), draw.randint(-10**6, 10**6) / 20_000 + 0.00005]
        numbers.append(struct.unpack("d", struct.pack("Q", draw.getrandbits(64)))[0])  # any bit pattern
    for number in numbers:
        if number != number:  # NaN: round() keeps it, repr writes nan
            assert _round4(number) == "nan"
        else:
            assert _round4(number) == repr(round(number, 4)), number


def test_sense_width_is_the_widest_window_of_the_terms_senses(scorer):
    # _reading splits `width` words on each side once for all senses of a term: worked out at compile
    # time, it must be the widest window of the term's own senses (0 without senses).
    from pipeline.score import _Sense, _Term

    narrow, wide = _Sense(frozenset({"a"}), 2, 0.0), _Sense(frozenset({"b"}), 6, 0.5, requires=True)
    assert _Term("strike", "armed_conflict", 1, 1.0, (narrow, wide)).width == 6
    assert _Term("strike", "armed_conflict", 1, 1.0, (wide, narrow)).width == 6
    assert _Term("war", "armed_conflict", 1, 1.0).width == 0
    compiled = [payload[0] for _, payload in scorer._automaton.items() if payload[0] is not None]
    assert any(term.senses for term in compiled)
    for term in compiled:
        assert term.width == max((sense.width for sense in term.senses), default=0)


# -- issue 13: mechanisms for today's news -----------------------------------------------------------
@pytest.mark.parametrize(
    ("sentence", "peace_term", "cue"),
    [
        ("The week-long truce is in tatters.", "truce", "breakdown:in tatters"),
        ("Negotiations between the parties fell apart last night.", "negotiation", "breakdown:fell apart"),
        ("The armistice along the river has been breached.", "armistice", "breakdown:breached"),
        ("The ceasefire collapsed within a day.", "ceasefire", "breakdown:collapsed"),
        ("Talks on the dam stalled again.", "talks", "breakdown:stalled"),
    ],
)
def test_a_breakdown_cue_after_the_peace_step_flips_it(scorer, sentence, peace_term, cue):
    result = scorer.score_sentence(sentence)
    peace = terms(result)[peace_term]
    assert cue in peace.modifiers and peace.effective_weight > 0
    assert result.score >= ESCALATORY_THRESHOLD


def test_a_breakdown_cue_reaches_back_only_within_its_clause_and_window(scorer):
    separate = scorer.score_sentence("The ceasefire is holding, but the old bridge collapsed.")
    assert terms(separate)["ceasefire"].effective_weight < 0
    far = scorer.score_sentence(
        "The ceasefire agreed by the two rival commanders at the airport last spring failed."
    )
    assert terms(far)["ceasefire"].effective_weight < 0


@pytest.mark.parametrize(
    "sentence",
    [
        "Army officers ousted the elected government before dawn.",
        "The junta declared martial law in three provinces.",
        "Rebel soldiers took over the presidential palace.",
        "A failed putsch left the capital tense.",
        "The general seized power in a bloodless coup.",
    ],
)
def test_seizures_of_power_are_escalatory(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert result.score >= ESCALATORY_THRESHOLD
    assert "power_seizure" in {m.category for m in result.matches}


def test_taking_over_needs_a_seat_of_power_or_force_in_view(scorer):
    business = scorer.score_sentence("The brewer took over a smaller rival last year.")
    takeover = terms(business)["take over"]
    assert takeover.effective_weight == 0 and "sense:no-context" in takeover.modifiers
    assert (
        scorer.score_sentence("Mutineers took over the state television building.").score
        >= ESCALATORY_THRESHOLD
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "The navy staged live-fire drills close to the contested reef.",
        "Pyongyang test-launched two missiles into the sea.",
        "Fighter jets were scrambled to shadow the approaching bombers.",
        "Investigators traced the ransomware to a military hacking unit.",
        "The supplier was accused of using gas deliveries as a weapon.",
    ],
)
def test_shows_of_force_and_hybrid_coercion_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


def test_a_trip_before_naval_drills_does_not_make_them_talks(scorer):
    result = scorer.score_sentence("Warships held drills near the atoll after the senator's trip.")
    assert result.score >= ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "A typhoon swept through the islands, killing fourteen people.",
        "Floodwaters destroyed bridges and left nine dead.",
        "A tanker lorry exploded after a collision, injuring dozens.",
        "The earthquake death toll climbed to three hundred.",
    ],
)
def test_deaths_in_a_disaster_or_accident_are_not_escalation(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert abs(result.score) < ESCALATORY_THRESHOLD, result
    assert any(mod.startswith(CONTEXT_MODIFIER_PREFIXES) for m in result.matches for mod in m.modifiers)


def test_a_perpetrator_keeps_the_harm_in_a_disaster(scorer):
    result = scorer.score_sentence("Militias shelled a camp for earthquake survivors, killing six.")
    assert result.score >= 0.5
    assert not any(mod.startswith(CONTEXT_MODIFIER_PREFIXES) for mod in terms(result)["kill"].modifiers)
    strike = scorer.score_sentence("Two aid workers were killed in an air strike on the flooded town.")
    assert strike.score >= 0.5


@pytest.mark.parametrize(
    ("sentence", "term", "sense"),
    [
        ("Bus drivers will strike over pay next week.", "strike", "sense:drivers"),
        ("The club signed a winger from Lisbon.", "sign", "sense:club"),
        ("The duchess visited a hospital ward.", "visit", "sense:hospital"),
        ("The town fights a cholera outbreak.", "fight", "sense:cholera"),
        ("Heavy rain and a storm hit the coast.", "storm", "sense:rain"),
        ("He received a sentence of ten years for fraud.", "sentence", "sense:fraud"),
    ],
)
def test_a_context_word_picks_the_sense_and_says_so(scorer, sentence, term, sense):
    match = terms(scorer.score_sentence(sentence))[term]
    assert sense in match.modifiers
    assert abs(match.effective_weight) < abs(match.weight)


def test_a_labour_strike_is_a_protest_not_an_armed_strike(scorer):
    labour = terms(scorer.score_sentence("Dock workers strike for higher wages."))["strike"]
    armed = terms(scorer.score_sentence("Jets strike rebel positions."))["strike"]
    assert 0 < labour.effective_weight < armed.effective_weight


def test_sense_rules_are_data():
    custom = Scorer(
        {
            "version": "t",
            "categories": {"hostile": {"polarity": 1, "terms": ["~raid"]}},
            "senses": [{"terms": ["raid"], "unless": ["fridge"], "window": 2}],
        }
    )
    assert custom.score_sentence("They raided the fridge.").score == 0
    assert custom.score_sentence("They raided the fridge of the garrison far away.").score == 0
    assert custom.score_sentence("They raided the garrison.").score > 0
    with pytest.raises(LexiconError, match="senses entry 1"):
        Scorer({"version": "t", "categories": {}, "senses": [{"unless": ["x"]}]})


def test_little_chance_of_conflict_is_not_conflict(scorer):
    assert abs(scorer.score_sentence("Investors see little chance of conflict this year.").score) < 0.2


@pytest.mark.parametrize(
    "sentence",
    [
        "The ministry denied that tanks had gathered at the border.",
        "Both armies deny carrying out the shelling.",
        "The government dismissed reports of a missile launch.",
    ],
)
def test_a_denied_hostile_act_is_about_zero(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "Forty detainees were released under the deal.",
        "The sides swapped captives at the crossing.",
        "A humanitarian corridor opened for the besieged district.",
        "Both armies began to disengage from the ridge.",
        "The two air forces set up a de-confliction line.",
        "The curfew was lifted on Sunday.",
        "Hostages freed after months in captivity.",
    ],
)
def test_deescalation_phrased_as_outcomes(scorer, sentence):
    assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD


def test_refusing_a_peace_step_is_a_rejection(scorer):
    result = scorer.score_sentence("The president refused to meet the visiting envoy.")
    assert result.score >= ESCALATORY_THRESHOLD
    assert "refusal:refused to" in terms(result)["meet"].modifiers
    # An escalatory term keeps the plain negation.
    attack = terms(scorer.score_sentence("The commander refused to attack the town."))["attack"]
    assert attack.effective_weight < 0 and "negation:refused to" in attack.modifiers


def test_a_category_scale_multiplies_its_weights_and_is_checked():
    lexicon = {
        "version": "t",
        "categories": {"hostile": {"polarity": 1, "scale": 1.5, "terms": ["raid = 0.4"]}},
    }
    assert terms(Scorer(lexicon).score_sentence("A raid."))["raid"].weight == pytest.approx(0.6)
    for bad in (0, -1, "nan"):
        lexicon["categories"]["hostile"]["scale"] = bad
        with pytest.raises(LexiconError, match="scale"):
            Scorer(lexicon)


def test_context_modifier_with_a_perpetrator_test_is_data():
    custom = Scorer(
        {
            "version": "t",
            "categories": {
                "harm": {"polarity": 1, "terms": ["~kill"]},
                "attack": {"polarity": 1, "terms": ["~bomb"]},
            },
            "modifiers": {
                "disaster": {
                    "position": "around",
                    "scope": "sentence",
                    "factor": 0.1,
                    "window": 60,
                    "categories": ["harm"],
                    "unless_categories": ["attack"],
                    "cues": ["flood"],
                }
            },
        }
    )
    assert terms(custom.score_sentence("Two killed in the flood."))["kill"].effective_weight == pytest.approx(
        0.1
    )
    assert terms(custom.score_sentence("The flood killed two."))["kill"].effective_weight == pytest.approx(
        0.1
    )
    bombed = custom.score_sentence("Two killed as jets bombed the flood camp.")
    assert terms(bombed)["kill"].effective_weight == 1.0
    with pytest.raises(LexiconError, match="position"):
        Scorer(
            {
                "version": "t",
                "categories": {},
                "modifiers": {"m": {"position": "x", "factor": 1, "window": 1, "cues": ["a"]}},
            }
        )


def test_jsonl_line_is_exactly_what_json_dumps_writes(scorer):
    from pipeline.score import encode_text_score

    for text in (
        "Rebels said they won't attack. Talks fell apart; the \u201ctruce\u201d is in tatters.",
        "Nothing here",
        "",
    ):
        result = scorer.score_text(text)
        assert encode_text_score(result) == json.dumps(result.to_dict(), ensure_ascii=False)


def test_the_scorer_module_does_no_terminal_rendering():
    import pipeline.score as module

    source = Path(module.__file__).with_name("score.py").read_text(encoding="utf-8")  # the source, if compiled too
    assert "rich" not in source and not hasattr(module.Scorer, "explain_table")


def test_the_terminal_table_shows_every_modifier_as_text(scorer):
    from rich.console import Console

    from pipeline.cli_render import explain_table

    console = Console(width=200, record=True)
    console.print(explain_table(scorer.score_text("Iran says they won't be subjected to sanctions [sic].")))
    shown = console.export_text()
    assert "[negation:won't]" in shown and "[sic]" in shown


def test_cue_words_inflect_like_terms():
    custom = Scorer(
        {
            "version": "t",
            "categories": {"peace": {"polarity": -1, "terms": ["talks"]}},
            "modifiers": {"breakdown": {"factor": -0.8, "window": 3, "cues_after": ["~collapse"]}},
        }
    )
    for verb in ("collapse", "collapses", "collapsed", "collapsing"):
        match = terms(custom.score_sentence(f"The talks {verb}."))["talks"]
        assert match.modifiers == (f"breakdown:{verb}",) and match.effective_weight > 0


def test_a_blaze_is_not_shooting_and_voids_no_perpetrator_test(scorer):
    # headline style, no article: "a fire at" is itself a blaze cue since 2026.12.7 (the test below)
    blaze = scorer.score_sentence("Fire at the warehouse killed three workers.")
    assert abs(blaze.score) < ESCALATORY_THRESHOLD
    assert "sense:no-context" in terms(blaze)["fire at"].modifiers
    assert "disaster:fire at" in terms(blaze)["kill"].modifiers
    with_article = scorer.score_sentence("A fire at the warehouse killed three workers.")
    assert "disaster:a fire at" in terms(with_article)["kill"].modifiers
    shooting = scorer.score_sentence("Guards fired at the prisoners, killing three.")
    assert shooting.score >= 0.5 and not any(
        m.startswith(CONTEXT_MODIFIER_PREFIXES) for m in terms(shooting)["kill"].modifiers
    )


# -- lexicon 2026.12.2 / scorer-6: gaps named by fresh headline batch 1 ---------------------------------
@pytest.mark.parametrize(
    ("sentence", "peace_term", "cue"),
    [
        (
            "Border talks in Vienna closed without a breakthrough.",
            "talks",
            "breakdown:without a breakthrough",
        ),
        ("The mediation ended with no deal on the water dispute.", "mediation", "breakdown:with no deal"),
        ("The fragile truce is under strain in the south.", "truce", "breakdown:under strain"),
        ("The ceasefire in the valley is fraying.", "ceasefire", "breakdown:fraying"),
        ("The accord has effectively ended, diplomats concede.", "accord", "breakdown:effectively ended"),
    ],
)
def test_failed_and_fraying_peace_steps_are_breakdowns(scorer, sentence, peace_term, cue):
    result = scorer.score_sentence(sentence)
    assert cue in terms(result)[peace_term].modifiers
    assert result.score >= ESCALATORY_THRESHOLD


def test_an_agreement_that_ends_a_war_is_no_breakdown(scorer):
    # only "effectively ended" / "ended in failure" are breakdown cues, not a peace step ending something
    assert scorer.score_sentence("The accord ended decades of rivalry.").score <= DEESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "The colonel declared himself president on state radio.",
        "Rebel officers deposed the king overnight.",
        "Soldiers announced a takeover of the capital's airport.",
    ],
)
def test_self_proclaimed_rulers_and_deposing_are_seizures_of_power(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert result.score >= ESCALATORY_THRESHOLD
    assert "power_seizure" in {m.category for m in result.matches}


def test_a_company_takeover_is_not_a_seizure_of_power(scorer):
    assert (
        abs(scorer.score_sentence("The retailer agreed a takeover by a rival chain.").score)
        < ESCALATORY_THRESHOLD
    )
    assert scorer.score_sentence("The investor launched a hostile takeover bid.").score == 0


@pytest.mark.parametrize(
    "sentence",
    [
        "Moscow cut off the gas to its neighbour for a week.",
        "The exporter turned off the taps in the middle of winter.",
        "Kremlin-linked hackers broke into the water utility.",
    ],
)
def test_energy_cut_offs_and_state_linked_hackers_are_coercion(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


def test_a_compound_first_part_is_sense_context_but_not_its_last(scorer):
    hacker = terms(scorer.score_sentence("State-sponsored hackers were blamed."))["hacker"]
    assert not any(m.startswith("sense:") for m in hacker.modifiers)
    fight = terms(scorer.score_sentence("Heavy fighting broke out, ending the cease-fire talks."))
    assert "sense:fire" not in fight["heavy fighting"].modifiers


@pytest.mark.parametrize(
    "sentence",
    [
        "Both sides pulled heavy weapons back from the line of contact.",
        "A safe corridor lets families leave the encircled suburb.",
        "The rivals agreed to restore full diplomatic ties after a decade.",
    ],
)
def test_pullbacks_corridors_and_restored_ties_are_deescalation(scorer, sentence):
    assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD


def test_protest_marches_are_protests(scorer):
    result = scorer.score_sentence("Farmers marched on the ministry over fuel prices.")
    assert result.score >= ESCALATORY_THRESHOLD and "march on" in terms(result)


@pytest.mark.parametrize(
    ("sentence", "term", "sense"),
    [
        ("The holders were crushed 5-1 at home.", "crush", "sense:5-1"),
        ("The sides meet in a cup clash on Sunday.", "clash", "sense:cup"),
        ("Ministers clash over the budget in cabinet.", "clash", "sense:budget"),
        ("The appeals court struck down the ban on rallies.", "strike", "sense:court"),
        ("The drugmaker signed a deal with a rival.", "sign", "sense:drugmaker"),
        ("A new telescope captured a comet's tail.", "capture", "sense:telescope"),
        ("A storm with heavy gusts swept the coast.", "storm", "sense:gusts"),
    ],
)
def test_sport_quarrels_courts_companies_and_weather_are_other_senses(scorer, sentence, term, sense):
    match = terms(scorer.score_sentence(sentence))[term]
    assert sense in match.modifiers
    assert abs(match.effective_weight) < 0.2


def test_a_verbal_clash_is_weakly_hostile_and_a_street_clash_stays_violent(scorer):
    verbal = terms(scorer.score_sentence("Ministers clash over the budget in cabinet."))["clash"]
    street = terms(scorer.score_sentence("Police clash with rioters in the port."))["clash"]
    assert 0 < verbal.effective_weight < 0.2 < street.effective_weight


@pytest.mark.parametrize(
    "sentence",
    [
        "A minibus plunged into a gorge, killing eleven.",
        "Forecasters warn of dangerous heat on Sunday.",
        "Five fishermen died when their boat overturned.",
    ],
)
def test_road_accidents_drownings_and_weather_warnings_are_not_escalation(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert abs(result.score) < ESCALATORY_THRESHOLD, result
    assert any(mod.startswith(CONTEXT_MODIFIER_PREFIXES) for m in result.matches for mod in m.modifiers)


def test_a_threat_in_a_disease_context_is_still_a_threat(scorer):
    result = scorer.score_sentence("The president threatened to cut funding over the covid response.")
    assert result.score >= ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "A shopkeeper was stabbed outside his store.",
        "Two men gunned down a judge in his car.",
        "Border talks ended in deadlock.",
        "Negotiations on the dam hit an impasse.",
        "Bombers entered the air defence zone twice this week.",
        "Parliament dissolved by decree, the junta says.",
    ],
)
def test_stabbings_deadlocks_air_defence_zones_and_decrees_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "The militia disbanded after the accord.",
        "The soldiers returned to barracks at dawn.",
        "The freed hostages were reunited with relatives.",
        "Tensions eased after the phone call.",
    ],
)
def test_disbanding_returning_to_barracks_and_easing_are_deescalation(scorer, sentence):
    assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD


def test_think_tanks_flops_and_economic_warnings_are_not_conflict(scorer):
    for sentence in (
        "A think tank in the capital published its report.",
        "The sequel bombed at the box office.",
        "The central bank warns of a recession next year.",
    ):
        assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence
    assert (
        scorer.score_sentence("The general warns the rebels of a crushing response.").score
        >= ESCALATORY_THRESHOLD
    )


def test_an_actor_term_does_not_push_the_acts_down_the_order(scorer):
    result = scorer.score_sentence("Militiamen freed the captured pilots and shelled the town.")
    militia, freed, shelled = result.matches[0], result.matches[1], result.matches[2]
    assert militia.category == "proxy_militia"
    assert not any(m.startswith("order") for m in freed.modifiers)  # the first act keeps its full weight
    assert "order:2" in shelled.modifiers
    lexicon = {
        "version": "t",
        "categories": {
            "who": {"polarity": 1, "weight": 0.5, "terms": ["rebels"]},
            "act": {"polarity": -1, "terms": ["freed"]},
        },
        "salience": {"order_decay": 0.5},
    }
    assert Scorer(lexicon).score_sentence("rebels freed them").matches[1].effective_weight == -0.5
    lexicon["salience"] = {"order_decay": 0.5, "actor_categories": ["who"]}
    assert Scorer(lexicon).score_sentence("rebels freed them").matches[1].effective_weight == -1.0
    # a term of another category can name who acts too (2026.12.14: a junta)
    lexicon["salience"] = {"order_decay": 0.5, "actor_terms": ["rebels"]}
    assert Scorer(lexicon).score_sentence("rebels freed them").matches[1].effective_weight == -1.0
    lexicon["salience"] = {"order_decay": 0.5, "actor_terms": ["rebel"]}  # a misspelt term would do nothing
    with pytest.raises(LexiconError, match="actor_terms names no term"):
        Scorer(lexicon)


def test_a_junta_names_who_acts_so_its_agreement_is_the_act(scorer):
    result = scorer.score_sentence("The junta agreed to a timetable for elections and the return to civilian rule")
    assert "actor:subject" in terms(result)["junta"].modifiers
    assert result.score <= DEESCALATORY_THRESHOLD


def test_a_breach_cue_that_a_reversal_undid_breaches_nothing(scorer):
    undone = scorer.score_sentence("The opposition called off its boycott and rejoined the national dialogue")
    assert not any(m.startswith("breach") for m in terms(undone)["dialogue"].modifiers)
    assert undone.score <= DEESCALATORY_THRESHOLD
    standing = scorer.score_sentence("The opposition boycotted the national dialogue")
    assert "breach:boycotted" in terms(standing)["dialogue"].modifiers
    assert standing.score >= ESCALATORY_THRESHOLD
    lexicon = {
        "version": "t",
        "categories": {"act": {"polarity": 1, "terms": ["boycott"]}, "peace": {"polarity": -1, "terms": ["talks"]}},
        "modifiers": {
            "reversal": {"applies_to": "escalatory", "factor": -0.5, "window": 3, "cues": ["ended"]},
            "breach": {"applies_to": "deescalatory", "factor": -0.6, "window": 3, "cues": ["boycott"],
                       "unless_undone": ["reversl"]},
        },
    }
    with pytest.raises(LexiconError, match="unless_undone names no modifier"):
        Scorer(lexicon)
    lexicon["modifiers"]["breach"]["unless_undone"] = ["reversal"]
    assert "breach:boycott" not in Scorer(lexicon).score_sentence("ended the boycott and talks").matches[1].modifiers
    assert "breach:boycott" in Scorer(lexicon).score_sentence("the boycott and talks").matches[1].modifiers


@pytest.mark.parametrize(
    "sentence",
    [
        "Riot police surrounded the opposition headquarters.",
        "The coast guard turned water cannon on the fishing boats.",
        "The navy sailed a carrier past the islands in a show of strength.",
        "The capital recalled its envoy after the spy affair.",
        "The delegation stormed out of the conference.",
    ],
)
def test_encirclement_water_cannon_shows_of_strength_and_recalled_envoys_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


def test_a_named_storm_is_weather_and_a_disaster_context_while_storming_a_hotel_is_an_attack(scorer):
    weather = scorer.score_sentence("Storm Bella kills three as it crosses the country.")
    assert abs(weather.score) < ESCALATORY_THRESHOLD
    assert "disaster:storm" in terms(weather)["kill"].modifiers
    attack = scorer.score_sentence("Gunmen storm a hotel in the capital, killing five.")
    assert attack.score >= 0.5 and not any(
        m.startswith(CONTEXT_MODIFIER_PREFIXES) for m in terms(attack)["kill"].modifiers
    )


@pytest.mark.parametrize(
    ("sentence", "term", "sense"),
    [
        ("The group released the video of the speech.", "release", "sense:video"),  # "a video": a neutral phrase
        ("A supply boat reached the reef.", "supply", "sense:boat"),
        ("The court acquitted her of fraud charges.", "charge", "sense:fraud"),
    ],
)
def test_videos_supply_boats_and_fraud_charges_are_other_senses(scorer, sentence, term, sense):
    match = terms(scorer.score_sentence(sentence))[term]
    assert sense in match.modifiers and match.effective_weight == 0


def test_a_court_outcome_puts_the_crime_in_the_past(scorer):
    verdict = scorer.score_sentence("A man was jailed for life for murdering two neighbours.")
    assert abs(verdict.score) < ESCALATORY_THRESHOLD
    assert "verdict:jailed for" in terms(verdict)["murder"].modifiers
    assert scorer.score_sentence("A man murdered two neighbours.").score >= ESCALATORY_THRESHOLD
    # an accusation is not a verdict: "is guilty of violating the ceasefire" stays a breach
    assert (
        scorer.score_sentence("The army is guilty of violating the ceasefire.").score >= ESCALATORY_THRESHOLD
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "Loyalist troops retook the airport from the mutineers.",
        "Police used batons on the students.",
        "Spyware was planted on the ministers' phones.",
        "The general said his forces would not back down.",
    ],
)
def test_retaking_batons_spyware_and_not_backing_down_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "The summit ended with a pledge on fisheries.",
        "Two freight trains collided near the junction.",
        "A data breach at the retailer exposed card numbers.",
    ],
)
def test_ending_with_a_pledge_trains_and_data_breaches_are_not_conflict(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert result.score < ESCALATORY_THRESHOLD and not any(
        m.category == "hostile_rhetoric" or (m.polarity < 0 and m.effective_weight > 0)
        for m in result.matches
    )


def test_a_nationwide_strike_is_a_labour_strike(scorer):
    match = terms(scorer.score_sentence("A nationwide strike shut the ports."))["strike"]
    assert "sense:nationwide" in match.modifiers and 0 < match.effective_weight < 0.8


def test_only_the_subject_actor_is_exempt_from_the_order(scorer):
    # deeper than actor_words (8) words an actor is background, not the subject of the act after it
    later = scorer.score_sentence(
        "Officials in the northern province said on Tuesday that the intention of the militias is to "
        "increase their attacks."
    )
    assert "order:2" in terms(later)["increase their attacks"].modifiers


# -- gaps named by fresh headline batch 2 ---------------------------------------------------------------
def test_releasing_captives_undoes_the_captivity_named(scorer):
    result = scorer.score_sentence("The gang freed four kidnapped engineers on Monday.")
    assert "release:freed" in terms(result)["kidnap"].modifiers
    assert result.score <= DEESCALATORY_THRESHOLD
    # only captivity terms: a release cue does not undo an attack
    attack = terms(scorer.score_sentence("They released footage of the attack."))["attack"]
    assert attack.effective_weight > 0


def test_a_denial_after_the_act_leaves_about_zero(scorer):
    result = scorer.score_sentence(
        "Reports that the navy rammed a fishing boat are baseless, officials said."
    )
    assert abs(result.score) < ESCALATORY_THRESHOLD
    claim = scorer.score_sentence("Claims that militias torched the village are fabricated.")
    assert any(m == "denial:fabricated" for match in claim.matches for m in match.modifiers)
    assert abs(claim.score) < ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    ("sentence", "peace_term", "cue"),
    [
        ("Hopes of a settlement were dashed overnight.", "settlement", "breakdown:dashed"),
        ("The summit was postponed without a new date.", "summit", "breakdown:postponed"),
        ("The peace plan is on the brink after the raid.", "peace plan", "breakdown:on the brink"),
        ("Mediation efforts foundered in the spring.", "mediation", "breakdown:foundered"),
    ],
)
def test_dashed_postponed_and_foundering_peace_steps_are_breakdowns(scorer, sentence, peace_term, cue):
    assert cue in terms(scorer.score_sentence(sentence))[peace_term].modifiers


@pytest.mark.parametrize(
    "sentence",
    [
        "Militants downed an army helicopter near the pass.",
        "The colonels dissolved the government at dawn.",
        "The guard commander named himself interim president.",
        "Dockers began a walkout over safety.",
        "Reporters were barred from leaving the capital.",
    ],
)
def test_downed_aircraft_dissolved_governments_walkouts_and_bars_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "Troops withdrew from the buffer zone overnight.",
        "A humanitarian convoy entered the city.",
        "The two states struck a pact on water sharing.",
        # "The released fishermen returned home." names no anchor: a known cost of the anchor test (test_score_anchor.py)
    ],
)
def test_troops_withdrawing_convoys_pacts_and_returning_home_are_deescalation(scorer, sentence):
    assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "A fire on a passenger ferry killed twelve.",
        "Downed power lines left the town dark.",
        "The probe found signs of ice on the moon.",
        "The carmaker struck a partnership with a startup.",
        "The visitors battled to a 1-1 draw.",
    ],
)
def test_ferry_fires_power_lines_signs_company_pacts_and_matches_are_not_conflict(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD


# -- development probes after batch 2 (own sentences) ------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "The rebels left the town without a fight.",
        "The two presidents shook hands in Geneva.",
        "Parties agreed on a national unity government.",
        "Foreign ministers held crisis talks in Brussels.",
        # "Cheering crowds greeted news that the war is over.": a known cost of the anchor test (test_score_anchor.py)
    ],
)
def test_yielding_handshakes_unity_governments_crisis_talks_and_wars_ending_are_deescalation(
    scorer, sentence
):
    assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD


def test_a_failed_attack_named_as_background_does_not_flip_the_main_clause(scorer):
    result = scorer.score_sentence("The commander resigned after the failed assault.")
    assert not any(m.startswith("breakdown") for m in terms(result)["resign"].modifiers)


@pytest.mark.parametrize(
    "sentence",
    [
        "Customs officers seized a tonne of heroin at the port.",
        "The chain warns of store closures next year.",
        "Glaciologists and other scientists warn the ice shelf may break up.",
    ],
)
def test_drug_seizures_and_business_or_science_warnings_are_not_conflict(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "Air raid sirens sounded across the capital.",
        "Nurses marched for safer staffing levels.",
        "Loyalist units regained control of the airport.",
    ],
)
def test_sirens_marches_and_regaining_control_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


def test_the_opening_actor_counts_less_when_an_act_follows_and_says_so(scorer):
    with_act = terms(scorer.score_sentence("Militants torched two lorries."))["militant"]
    assert "actor:subject" in with_act.modifiers
    assert with_act.effective_weight == pytest.approx(with_act.weight * scorer.actor_factor)
    alone = terms(scorer.score_sentence("Militants in the hills."))["militant"]
    assert alone.modifiers == () and alone.effective_weight == alone.weight
    with pytest.raises(LexiconError, match="actor_factor"):
        Scorer({"version": "t", "categories": {}, "salience": {"actor_factor": "x"}})


def test_peacekeepers_and_mediators_as_subjects_are_actors_not_acts(scorer):
    wounded = scorer.score_sentence("Four peacekeepers wounded as their convoy hits a mine.")
    assert wounded.score >= ESCALATORY_THRESHOLD
    assert "actor:subject" in terms(wounded)["peacekeeper"].modifiers
    quit_ = scorer.score_sentence("Mediators abandon efforts to end the siege.")
    assert "actor:subject" in terms(quit_)["mediator"].modifiers


def test_a_denied_strong_act_stays_under_the_band(scorer):
    result = scorer.score_sentence("Officials deny that soldiers opened fire on villagers.")
    assert abs(result.score) < ESCALATORY_THRESHOLD
    assert (
        scorer.score_sentence("The ministry rejects claims that jets bombed a school.").score
        < ESCALATORY_THRESHOLD
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "Two lorries collide on the coast road, killing four.",
        "A blast at a fireworks depot kills seven.",
        "The actor sues a tabloid for libel.",
    ],
)
def test_collisions_fireworks_and_libel_suits_are_not_conflict(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD


def test_a_dead_letter_accord_and_a_diplomatic_row_that_ends(scorer):
    assert scorer.score_sentence("The 2019 accord is a dead letter.").score >= ESCALATORY_THRESHOLD
    assert scorer.score_sentence("Ambassadors return as the row ends.").score <= DEESCALATORY_THRESHOLD


def test_energy_flows_count_as_coercion_only_when_cut(scorer):
    cut = scorer.score_sentence("Oil supplies to the island were slashed during the quarrel.")
    assert cut.score >= ESCALATORY_THRESHOLD
    flowing = terms(scorer.score_sentence("Gas deliveries rose in the autumn."))["gas deliveries"]
    assert flowing.effective_weight == 0 and "sense:no-context" in flowing.modifiers


def test_a_term_voided_by_its_sense_takes_no_rank(scorer):
    result = scorer.score_sentence("Gas supplies and rocket fire reached the town.")
    gas, rockets = result.matches[0], result.matches[1]
    assert gas.effective_weight == 0 and "sense:no-context" in gas.modifiers
    assert not any(m.startswith("order") for m in rockets.modifiers)


def test_a_health_lockdown_is_not_coercion(scorer):
    assert (
        terms(scorer.score_sentence("Shops reopen as the lockdown ends."))["lockdown"].effective_weight == 0
    )
    assert (
        scorer.score_sentence("The army imposed a lockdown on the rebel district.").score
        >= ESCALATORY_THRESHOLD
    )


def test_allied_fighters_are_no_alliance(scorer):
    result = scorer.score_sentence("The army and allied fighters shelled the ridge.")
    assert "sense:fighters" in terms(result)["ally"].modifiers
    assert result.score >= ESCALATORY_THRESHOLD
    assert terms(scorer.score_sentence("The allies signed a pact."))["ally"].effective_weight < 0


# -- gaps named by fresh headline batch 4 ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("sentence", "peace_term", "cue"),
    [
        ("Water talks went nowhere again.", "talks", "breakdown:went nowhere"),
        ("The 2015 accord is null and void, the junta says.", "accord", "breakdown:null and void"),
    ],
)
def test_talks_going_nowhere_and_void_accords_are_breakdowns(scorer, sentence, peace_term, cue):
    assert cue in terms(scorer.score_sentence(sentence))[peace_term].modifiers


@pytest.mark.parametrize(
    "sentence",
    [
        "Rocket launchers were moved up to the ridge.",
        "Brussels froze funds to the regime.",
        "Fuel deliveries to the enclave were stopped.",
    ],
)
def test_launchers_frozen_funds_and_stopped_fuel_deliveries_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "The swimmer targets a third gold medal.",
        "Phone makers battle for market share.",
        "Researchers study a deadly virus strain.",
        "Parcel deliveries were stopped for the holiday.",
    ],
)
def test_sporting_targets_market_battles_deadly_viruses_and_parcels_are_not_conflict(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD


def test_a_pullout_and_food_deliveries_are_deescalation(scorer):
    assert scorer.score_sentence("The pullout of foreign troops began.").score <= DEESCALATORY_THRESHOLD
    assert scorer.score_sentence("A convoy delivered food to the villages.").score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh headline batch 5 ---------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "An artillery strike hit a camp for flood evacuees.",
        "A patrol boat rammed the trawler twice.",
        "Ceasefire violations rose sharply this week.",
        "Unidentified drones circled the airbase.",
        "The militia has torn up the truce.",
        "The armistice exists only on paper.",
    ],
)
def test_compound_strikes_ramming_violations_drones_and_paper_truces_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "Two kidnapped nurses walked free on Sunday.",
        "The sides exchanged bodies of the dead at the crossing.",
        "Rebels handed back the captured villages.",
    ],
)
def test_walking_free_returning_bodies_and_handing_back_ground_are_deescalation(scorer, sentence):
    assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "A crowd crush at the stadium gates left four dead.",
        "Voters back the first free election in years.",
        "The college hosts a careers fair.",
        "Veterans laid wreaths for the war dead.",
    ],
)
def test_crowd_crushes_free_elections_fairs_and_war_dead_are_not_conflict(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 6 (teaser-style sentences) -------------------------------------------------
def test_a_breakdown_or_release_cue_reaches_across_a_longer_teaser_phrase(scorer):
    truce = scorer.score_sentence("The truce between the two clans seems to have broken down.")
    assert "breakdown:broken down" in terms(truce)["truce"].modifiers
    freed = scorer.score_sentence("Nine hostages held by the gang were released.")
    assert "freeing:released" in terms(freed)["hostage"].modifiers
    assert freed.score <= DEESCALATORY_THRESHOLD


def test_captives_freed_undo_the_captivity_and_its_captors_but_not_an_arson(scorer):
    # 2026.12.14 (batch 41): the captive cues after a term are the `freeing` modifier's, captivity terms only
    far = scorer.score_sentence("Thirty hostages held for weeks by the militia were freed on Sunday.")
    assert "freeing:freed" in terms(far)["hostage"].modifiers and "freeing:freed" in terms(far)["militia"].modifiers
    assert far.score <= DEESCALATORY_THRESHOLD
    jailbreak = scorer.score_sentence("Gang members burned a police station and freed inmates.")
    assert not any(m.startswith(("freeing", "reversal")) for m in terms(jailbreak)["burn"].modifiers)
    assert jailbreak.score >= ESCALATORY_THRESHOLD
    video = scorer.score_sentence("Footage of the shooting was released on Monday.")
    assert not any(m.startswith(("freeing", "reversal")) for m in terms(video)["shoot"].modifiers)


def test_company_deals_and_planning_approvals_are_not_cooperation(scorer):
    assert abs(scorer.score_sentence("The two companies signed a supply deal.").score) < ESCALATORY_THRESHOLD
    assert (
        abs(scorer.score_sentence("The board approved plans for a housing estate.").score)
        < ESCALATORY_THRESHOLD
    )
    approved = terms(scorer.score_sentence("The Security Council approved the deployment of monitors."))
    assert approved["approve"].effective_weight < 0 and approved["approve"].modifiers == ()


# -- gaps named by fresh batch 7 ------------------------------------------------------------------------
def test_a_halted_energy_flow_is_the_cut_not_its_undoing(scorer):
    result = scorer.score_sentence("Gas deliveries to the island were suspended by the supplier.")
    deliveries = terms(result)["gas deliveries"]
    assert deliveries.category == "energy_cutoff" and not any(
        m.startswith("reversal") for m in deliveries.modifiers
    )
    assert result.score >= ESCALATORY_THRESHOLD
    # other escalatory terms are still undone by the same cue
    assert (
        terms(scorer.score_sentence("The navy halted its drills near the island."))["drill"].effective_weight
        < 0
    )


def test_except_categories_is_resolved_when_the_lexicon_is_built():
    lexicon = {
        "version": "t",
        "categories": {"a": {"polarity": 1, "terms": ["raid"]}, "b": {"polarity": 1, "terms": ["blockade"]}},
        "modifiers": {
            "reversal": {"factor": -0.5, "window": 3, "cues": ["halted"], "except_categories": ["b"]}
        },
    }
    scorer = Scorer(lexicon)
    assert scorer.score_sentence("halted the raid").score < 0
    assert scorer.score_sentence("halted the blockade").score > 0
    lexicon["modifiers"]["reversal"]["categories"] = ["a"]
    with pytest.raises(LexiconError, match="exclude each other"):
        Scorer(lexicon)


@pytest.mark.parametrize(
    "sentence",
    [
        "Insurgents overran two border posts overnight.",
        "The talks hit a snag over prisoner lists.",
        "The accord was betrayed within a week, the rebels said.",
        "The ministry ordered the closure of the border crossing.",
    ],
)
def test_overrunning_stalled_talks_betrayed_accords_and_closed_crossings_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


def test_a_factory_closure_is_no_coercion(scorer):
    closure = terms(scorer.score_sentence("The closure of the factory cost 300 jobs."))["closure"]
    assert closure.effective_weight == 0 and "sense:no-context" in closure.modifiers


# -- gaps named by fresh batch 8 ------------------------------------------------------------------------
def test_launching_missiles_counts_and_launching_a_product_does_not(scorer):
    assert (
        scorer.score_sentence("The navy launched three cruise missiles at dawn.").score
        >= ESCALATORY_THRESHOLD
    )
    product = terms(scorer.score_sentence("The firm launched a new phone."))["launch"]
    assert product.effective_weight == 0 and "sense:no-context" in product.modifiers


def test_comebacks_telescopes_and_aid_to_a_besieged_district(scorer):
    assert (
        abs(scorer.score_sentence("The holders battled back to win on penalties.").score)
        < ESCALATORY_THRESHOLD
    )
    assert (
        abs(scorer.score_sentence("Researchers captured the first image of the star.").score)
        < ESCALATORY_THRESHOLD
    )
    aid = scorer.score_sentence("Food aid reached the besieged district on Monday.")
    assert aid.score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 9 ------------------------------------------------------------------------
def test_skirmishes_and_a_truce_under_severe_strain_are_escalatory(scorer):
    assert scorer.score_sentence("A skirmish broke out at the border post.").score >= ESCALATORY_THRESHOLD
    strained = scorer.score_sentence("The truce is under severe strain.")
    assert "breakdown:under severe strain" in terms(strained)["truce"].modifiers


def test_toppled_buildings_and_snow_are_weather_not_coups(scorer):
    quake = scorer.score_sentence("The tremor toppled two buildings in the old town.")
    assert abs(quake.score) < ESCALATORY_THRESHOLD
    assert "sense:buildings" in terms(quake)["topple"].modifiers
    assert abs(scorer.score_sentence("Snow will hit the hills overnight.").score) < ESCALATORY_THRESHOLD


# -- lexicon 2026.12.3: gaps named by fresh batch 10 ------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "The new government scraps the water-sharing treaty.",
        "The water-sharing treaty was scrapped within a year.",
        "The junta ditched the accord with the rebels.",
    ],
)
def test_scrapping_or_ditching_a_peace_step_is_a_breach_in_both_directions(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert result.score >= ESCALATORY_THRESHOLD
    assert any(m.startswith(("breach:", "breakdown:")) for t in result.matches for m in t.modifiers)


def test_scrapped_sanctions_are_still_a_reversal(scorer):
    assert scorer.score_sentence("The sanctions were scrapped in May.").score < ESCALATORY_THRESHOLD


def test_an_arrest_over_a_theft_is_police_work_and_over_a_protest_is_not(scorer):
    theft = terms(scorer.score_sentence("Police arrested two men over the theft of rare coins."))["arrest"]
    assert "sense:theft" in theft.modifiers
    assert abs(theft.effective_weight) < ESCALATORY_THRESHOLD
    protest = scorer.score_sentence("Police arrested two opposition leaders after the rally.")
    assert protest.score >= ESCALATORY_THRESHOLD


def test_everyday_attacks_shots_and_meetings(scorer):
    for sentence in (
        "The carmaker launched an attack on its competitor's pricing.",
        "The central bank fired a warning shot at investors.",
        "The singer was taken to hospital after a heart attack.",
        "Shareholders will meet on Thursday to vote on the bonus.",
        "The holders fought back to win in extra time.",
        "The champion survived a five-set battle in the heat.",
        "A derby thriller ended in a fight to the last minute.",
    ):
        assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence
    for sentence in (
        "Gunmen launched an attack on a police station.",
        "Soldiers shot two protesters in the main square.",
        "The foreign ministers will meet on Thursday to discuss the truce.",
        "Rebel fighters fought back to retake the bridge.",
    ):
        assert abs(scorer.score_sentence(sentence).score) >= ESCALATORY_THRESHOLD, sentence


# -- gaps named by fresh batch 11 -----------------------------------------------------------------------
def test_firing_needs_a_projectile_in_view(scorer):
    rockets = scorer.score_sentence("The militia fired a volley of rockets at the airport.")
    assert terms(rockets)["fire"].effective_weight > 0.5 and rockets.score >= ESCALATORY_THRESHOLD
    sacked = terms(scorer.score_sentence("The club fired its coach after the defeat."))["fire"]
    assert sacked.effective_weight == 0 and "sense:no-context" in sacked.modifiers


def test_a_projectile_fired_during_a_blaze_is_still_a_perpetrator(scorer):
    # "fires" is a fire context too; with rockets in view the firing is an attack, so the deaths count
    attack = scorer.score_sentence("The group fires a salvo of rockets at the depot, killing four guards.")
    assert terms(attack)["kill"].effective_weight > 0.3


def test_slamming_into_is_an_attack_only_with_a_weapon(scorer):
    assert scorer.score_sentence("Two drones slammed into the refinery.").score >= ESCALATORY_THRESHOLD
    storm = terms(scorer.score_sentence("The typhoon slammed into the coast on Sunday."))["slam into"]
    assert storm.effective_weight == 0


def test_economic_escalation_evacuation_convoys_and_sport_or_political_battles(scorer):
    trade = terms(scorer.score_sentence("Shares slide as the trade war escalates."))["escalate"]
    assert "sense:trade" in trade.modifiers and trade.effective_weight < ESCALATORY_THRESHOLD
    assert scorer.score_sentence("Fighting escalates along the river.").score >= ESCALATORY_THRESHOLD
    assert (
        scorer.score_sentence("Evacuation convoys left the shelled town at dawn.").score
        <= DEESCALATORY_THRESHOLD
    )
    for sentence in (
        "The minister battled to limit the fallout from the scandal.",
        "Her hat-trick helped the champions crush the visitors.",
        "The Fed will meet on Wednesday.",
    ):
        assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


# -- gaps named by fresh batch 12 -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec",
    [
        {"negation": {"factor": -0.25, "window": 4, "cues": ["not", False]}},  # YAML's bare `no`
        {"negation": {"factor": -0.25, "window": 4, "cues_after": [True]}},  # YAML's bare `yes`/`on`
    ],
)
def test_a_cue_that_yaml_read_as_a_boolean_is_refused(spec):
    lexicon = {"version": "x", "categories": {"a": {"polarity": 1, "terms": ["hit"]}}, "modifiers": spec}
    with pytest.raises(LexiconError, match="is not text"):
        Scorer(lexicon)


def test_a_sense_word_or_neutral_phrase_that_yaml_read_as_a_boolean_is_refused():
    base = {"version": "x", "categories": {"a": {"polarity": 1, "terms": ["hit"]}}}
    with pytest.raises(LexiconError, match="is not text"):
        Scorer({**base, "senses": [{"terms": ["hit"], "requires": ["cut", False]}]})
    with pytest.raises(LexiconError, match="is not text"):
        Scorer({**base, "neutral": [True]})


def test_the_shipped_lexicon_negates_with_no(scorer):
    attack = terms(scorer.score_sentence("There was no attack on the town."))["attack"]
    assert "negation:no" in attack.modifiers and attack.effective_weight < 0


def test_a_peace_step_that_did_not_happen_is_a_rejection(scorer):
    for sentence in ("There was no ceasefire on Sunday.", "The two sides did not agree a truce."):
        result = scorer.score_sentence(sentence)
        assert result.score >= ESCALATORY_THRESHOLD, sentence
        assert any(m.startswith("negated_peace:") for t in result.matches for m in t.modifiers)
    # escalatory terms keep the mild negation, and one said not to have happened is a denial (2026.12.16)
    assert "negation:not" in terms(scorer.score_sentence("The army will not attack the town."))["attack"].modifiers
    past = terms(scorer.score_sentence("The army did not attack the town."))["attack"].modifiers
    assert past == ("negation:did not", "denied_act:did not")


def test_no_longer_bound_by_a_truce_and_extended_rule_are_escalatory(scorer):
    for sentence in (
        "The militia says it is no longer bound by the truce.",
        "The colonel extended his rule by four years.",
        "Three aircraft carriers sailed towards the strait.",
    ):
        assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


def test_pitch_invasions_red_tape_racing_duels_and_grand_slams(scorer):
    for sentence in (
        "Hundreds of fans invaded the pitch at the final whistle.",
        "The minister launched an assault on red tape.",
        "She held off a fierce battle for pole on the final lap.",
        "He won his third grand slam on Sunday.",
        "The phone is a bomb, one reviewer wrote.",
        "The princess visited a shelter for young mothers.",
    ):
        assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence
    assert scorer.score_sentence("Tanks invaded the border region at dawn.").score >= ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 13 -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        # "The calm lasted barely a week.": a known cost of the anchor test (test_score_anchor.py)
        "The border talks ended acrimoniously on Friday.",
        "The government declared the water accord void.",
        "The new government renounced the peace treaty.",
        "The treaty was annulled by parliament.",
    ],
)
def test_peace_steps_that_are_voided_renounced_or_short_lived_are_breakdowns(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


def test_coming_under_fire_needs_a_unit_or_a_place(scorer):
    patrol = scorer.score_sentence("Their patrol came under fire near the bridge, wounding two.")
    assert patrol.score >= ESCALATORY_THRESHOLD
    assert "disaster:fire" not in terms(patrol)["wound"].modifiers  # the firing is the perpetrator
    minister = terms(scorer.score_sentence("The minister came under fire for the remark."))["come under fire"]
    assert minister.effective_weight == 0


def test_war_games_need_a_military_context(scorer):
    assert scorer.score_sentence("The navy staged war games near the islands.").score >= ESCALATORY_THRESHOLD
    games = terms(scorer.score_sentence("Students played war games at the library."))["war games"]
    assert games.effective_weight == 0


def test_denials_after_the_act_court_outcomes_and_police_captures(scorer):
    for sentence in (
        "Claims that its jets bombed the camp are absurd, the ministry said.",
        "The former general was found guilty of ordering the killing of protesters.",
        "A fugitive mafia boss was captured in Sicily.",
        "The keeper saved three shots in the penalty shoot-out.",
        "An orca rammed a sailing boat off the coast.",
        "The senator's fight for the nomination goes on.",
    ):
        assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


def test_ending_a_labour_strike_eases_a_protest(scorer):
    # a labour strike is a protest (weakly escalatory); "end their" undoes it like "end the"
    ended = terms(scorer.score_sentence("The actors end their strike at the studios."))["strike"]
    assert "reversal:end their" in ended.modifiers and any(m.startswith("sense:") for m in ended.modifiers)


# -- gaps named by fresh batch 14 -----------------------------------------------------------------------
def test_export_curbs_balloons_and_a_truce_that_barely_survived(scorer):
    for sentence in (
        "The ministry imposed export controls on rare metals in a tit-for-tat move.",
        "The North floated hundreds of rubbish balloons over the border.",
        "The truce barely survived the weekend.",
    ):
        assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence
    market = terms(scorer.score_sentence("Chip shares slid on Monday after the export curbs."))["export curb"]
    assert "sense:shares" in market.modifiers and market.effective_weight < ESCALATORY_THRESHOLD


def test_blasts_at_umpires_or_plans_and_films_storming_the_box_office(scorer):
    umpire = terms(scorer.score_sentence("The champion blasted the umpire after the loss."))["blast"]
    assert umpire.effective_weight == 0
    plan = terms(scorer.score_sentence("The mayor blasted the plan as reckless."))["blast"]
    assert 0 < plan.effective_weight < terms(scorer.score_sentence("A blast hit the market."))["blast"].effective_weight
    assert abs(scorer.score_sentence("The sequel stormed the box office.").score) < ESCALATORY_THRESHOLD
    assert scorer.score_sentence("Rioters stormed the tax office.").score >= ESCALATORY_THRESHOLD


def test_a_denial_that_calls_the_accusation_a_smear(scorer):
    result = scorer.score_sentence("The embassy dismissed the spying accusations as a smear campaign.")
    assert abs(result.score) < ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 15 -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "The bowlers tore through the visitors' attack before the innings closed.",
        "The rugby champions crushed their old rivals.",
        "The boxer won a brutal ten-round war.",
    ],
)
def test_a_sport_context_damps_the_war_words_of_a_match_report(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert abs(result.score) < ESCALATORY_THRESHOLD
    assert any(m.startswith("sport:") for t in result.matches for m in t.modifiers)


@pytest.mark.parametrize(
    "sentence",
    [
        "Police fired tear gas at rugby fans outside the ground.",
        "Two football fans were stabbed after the game.",
        "Gunmen attacked the cricket team's bus, killing six.",
        "Supporters fought running battles with police after the derby.",
    ],
)
def test_real_violence_around_a_match_keeps_its_weight(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "The truce is slowly dying.",
        "The border accord has been reduced to rubble.",
        "The junta terminated the defence cooperation agreement.",
        "Soldiers took control of the state broadcaster and the airport.",
        "A surveillance balloon drifted over the air base.",
    ],
)
def test_dying_truces_terminated_accords_soldiers_taking_control_and_state_balloons(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD


def test_acquittals_fakes_exchanges_handed_in_weapons_and_market_demand(scorer):
    for sentence in (
        "A court acquitted the singer of assault.",
        "The ministry said the footage of troops shelling the village was fake.",
        "Strong demand lifted the airline's profits.",
        "A party balloon drifted over the fair.",
    ):
        assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence
    for sentence in (
        "Hostages and detainees were exchanged at the crossing.",
        "Hundreds of fighters handed in their weapons.",
    ):
        assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD, sentence


# -- gaps named by fresh batch 16 -----------------------------------------------------------------------
def test_sinking_is_an_attack_only_with_a_weapon_and_a_sunk_ferry_stays_a_disaster(scorer):
    assert scorer.score_sentence("A naval drone sank the patrol boat.").score >= ESCALATORY_THRESHOLD
    ferry = scorer.score_sentence("The ferry sank in the storm, killing nine.")
    assert abs(ferry.score) < ESCALATORY_THRESHOLD
    assert terms(ferry)["sink"].effective_weight == 0


def test_hosting_weapons_is_not_talks_and_freed_prisoners_of_war_are_released(scorer):
    hosts = scorer.score_sentence("The country now hosts nuclear weapons, the president confirmed.")
    assert hosts.score >= ESCALATORY_THRESHOLD and "sense:weapons" in terms(hosts)["host"].modifiers
    freed = scorer.score_sentence("The militia released twenty soldiers captured last year.")
    assert "release:released" in terms(freed)["capture"].modifiers
    assert freed.score <= DEESCALATORY_THRESHOLD
    assert scorer.score_sentence("A Red Cross convoy reached the town.").score <= DEESCALATORY_THRESHOLD


def test_wars_on_pests_battles_with_injury_and_speculation_denied(scorer):
    for sentence in (
        "The island declared war on invasive rats.",
        "The dancer won her battle with injury.",
        "The new series is a killer hit.",
        "Officers arrested four suspected members of a cocaine gang.",
        "Reports of a planned attack on the port are pure speculation, the minister said.",
    ):
        assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


# -- scorer-7 and gaps named by fresh batch 17 ----------------------------------------------------------
def test_a_double_negative_undoes_the_first_flip(scorer):
    # "will not end the strike": the strike goes on (both labelled files code this as conflict)
    strike = terms(scorer.score_sentence("The drivers say they will not end the strike."))["strike"]
    assert strike.effective_weight > 0
    assert any(m.startswith("negation:") for m in strike.modifiers)
    assert "reversal:end the" in strike.modifiers
    # "denied blocking the aid": neither a blocked nor a delivered aid, about 0
    denied = scorer.score_sentence("The ministry denied blocking the aid convoy.")
    assert abs(denied.score) < ESCALATORY_THRESHOLD
    assert any(m.startswith("breach:") for m in terms(denied)["aid convoy"].modifiers)


def test_one_cue_with_two_kinds_still_flips_once(scorer):
    refused = terms(scorer.score_sentence("The rebels refused to meet the envoy."))["meet"]
    assert [m for m in refused.modifiers if m.endswith("refused to")] == ["refusal:refused to"]
    assert refused.effective_weight > 0


def test_frozen_talks_recalled_negotiators_a_deal_in_danger_and_a_junta_removing_the_president(scorer):
    for sentence in (
        "The government froze talks with the rebels.",
        "The cabinet pulled its negotiators out of the capital.",
        "The border deal is in danger.",
        "The junta said it had removed the president from office.",
        "Jets crossed the median line again.",
    ):
        assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence
    court = terms(scorer.score_sentence("The court removed the president from office."))
    assert court["remove the president from office"].effective_weight == 0


def test_comedy_bombs_wars_on_loneliness_straight_sets_and_scooter_bans(scorer):
    for sentence in (
        "The comedian's new sitcom bombed.",
        "The charity declared war on loneliness.",
        "She destroyed her rival in straight sets.",
        "The city banned e-scooters from its pavements.",
        "Battle lines are drawn over the fishing quotas.",
    ):
        assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


# -- gaps named by fresh batch 18 -----------------------------------------------------------------------
def test_a_broken_ceasefire_a_blocked_resupply_and_a_denial_after_the_report(scorer):
    assert scorer.score_sentence("The truce was broken within hours.").score >= ESCALATORY_THRESHOLD
    assert (
        scorer.score_sentence("Patrol boats blocked a resupply mission to the reef.").score
        >= ESCALATORY_THRESHOLD
    )
    resupply = terms(scorer.score_sentence("The resupply mission reached the outpost."))["resupply mission"]
    assert resupply.effective_weight == 0
    denied = scorer.score_sentence("The embassy called the reports a provocation and denied them.")
    assert abs(denied.score) < ESCALATORY_THRESHOLD


def test_markets_under_siege_variants_fought_and_shoppers_targeted(scorer):
    for sentence in (
        "The housing market is under siege from high mortgage rates.",
        "Drugmakers race to fight the new flu variant.",
        "The retailer targets a younger generation of shoppers.",
    ):
        assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence
    assert scorer.score_sentence("The army laid siege to the city.").score >= ESCALATORY_THRESHOLD
    # talks that broke new ground made progress: no breakdown
    assert scorer.score_sentence("The talks have broken new ground.").score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 19 -----------------------------------------------------------------------
def test_an_elusive_deal_and_soldiers_taking_charge(scorer):
    for sentence in (
        "A deal to end the war seems further away than ever.",
        "The peace accord remains elusive.",
        "Army officers took charge of the country overnight.",
    ):
        assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence
    coach = terms(scorer.score_sentence("The new coach takes charge on Monday."))["take charge"]
    assert coach.effective_weight == 0


def test_riots_of_goals_heat_bombardments_debate_offensives_and_slander(scorer):
    for sentence in (
        "The visitors ran riot in the second half.",
        "The heatwave bombards the coast with record temperatures.",
        "The senator went on the offensive in the televised debate.",
        "The ministry said claims that its troops shelled the port were slander.",
    ):
        assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence
    assert scorer.score_sentence("Artillery bombarded the town overnight.").score >= ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    ("sentence", "political"),
    [
        ("The senator was deposed by lawyers for six hours in the fraud lawsuit", False),
        ("Generals depose the president and dissolve parliament", True),
        ("A tycoon's consortium launches a bid to take over the football club", False),
        ("Rebels took over the city after a week of fighting", True),
        ("The prime minister faces a mutinous party over the budget", False),
        ("Mutinous soldiers seized the airport", True),
        ("Students campaign to oust the professor over plagiarism claims", False),
    ],
)
def test_power_seizure_words_outside_politics_are_other_senses(scorer, sentence, political):
    # a deposition, a company or club takeover, a rebellious party and an ousted professor seize no power
    seizure = [
        m
        for m in scorer.score_sentence(sentence).matches
        if m.category == "power_seizure" and m.effective_weight > 0.2
    ]
    assert bool(seizure) is political


def _modifier_kinds(match) -> set[str]:
    return {label.split(":", 1)[0] for label in match.modifiers}


def test_an_act_demanded_scores_less_and_is_not_asserted(scorer):
    from pipeline.score import asserted_acts

    demanded = scorer.score_sentence("Protesters in the capital demand a military coup")
    done = scorer.score_sentence("Soldiers in the capital stage a military coup")
    coup = next(m for m in demanded.matches if m.category == "power_seizure")
    assert "appeal" in _modifier_kinds(coup)
    assert demanded.score < done.score
    assert "power_seizure" not in asserted_acts(m._asdict() for m in demanded.matches)
    assert "power_seizure" in asserted_acts(m._asdict() for m in done.matches)
    # a peace step asked for is another modifier's business (demand), not this one
    peace = scorer.score_sentence("Leaders urge a ceasefire in the north")
    assert all("appeal" not in _modifier_kinds(m) for m in peace.matches)


def test_an_act_recalled_from_the_past_counts_half_and_is_not_asserted(scorer):
    from pipeline.score import asserted_acts

    recalled = scorer.score_sentence("Twenty years ago, generals toppled the government in a bloodless coup")
    today = scorer.score_sentence("Generals toppled the government in a bloodless coup on Tuesday")
    assert all("retrospective" in _modifier_kinds(m) for m in recalled.matches if m.polarity > 0)
    assert 0 < recalled.score < today.score
    assert asserted_acts(m._asdict() for m in recalled.matches) == set()
    assert "power_seizure" in asserted_acts(m._asdict() for m in today.matches)


@pytest.mark.parametrize(
    "sentence",
    [
        "Rioters stormed the Capitol as lawmakers certified the vote",
        "Protesters storm parliament and occupy the chamber",
        "Soldiers stormed the presidential palace before dawn",
        "The insurrection left five people dead",
    ],
)
def test_the_seat_of_power_stormed_is_a_seizure_of_power(scorer, sentence):
    result = scorer.score_sentence(sentence)
    assert any(m.category == "power_seizure" for m in result.matches), result.matches
    assert result.score >= ESCALATORY_THRESHOLD


def test_storm_as_weather_is_still_no_seizure(scorer):
    result = scorer.score_sentence("Storm Ciaran batters the coast near parliament")
    assert not any(m.category == "power_seizure" for m in result.matches)


# -- gaps named by fresh headline batches 20 and 21 (lexicon 2026.12.5, scorer-8) ------------------------
def test_a_subject_actor_after_other_words_takes_no_rank(scorer):
    # the subject phrase may open with other words ("the coalition government and the rebels"): within
    # actor_words words, an actor before any act does not push the act down the order
    result = scorer.score_sentence("The coalition government and the rebels prolong their truce by a year.")
    truce = terms(result)["truce"]
    assert not any(m.startswith("order") for m in truce.modifiers)
    assert "actor:subject" in terms(result)["rebel"].modifiers
    assert result.score <= DEESCALATORY_THRESHOLD


def test_actor_words_is_read_from_the_lexicon_and_checked():
    lexicon = {
        "version": "t",
        "categories": {
            "who": {"polarity": 1, "weight": 0.5, "terms": ["rebels"]},
            "act": {"polarity": -1, "terms": ["freed"]},
        },
        "salience": {"order_decay": 0.5, "actor_categories": ["who"], "actor_words": 2},
    }
    assert Scorer(lexicon).score_sentence("two rebels freed them").matches[1].effective_weight == -1.0
    # three words in: past actor_words, the actor takes a rank and the act comes second
    assert Scorer(lexicon).score_sentence("the two rebels freed them").matches[1].effective_weight == -0.5
    for bad in (0, "8", True, 2.5):
        lexicon["salience"]["actor_words"] = bad
        with pytest.raises(LexiconError, match="actor_words"):
            Scorer(lexicon)


@pytest.mark.parametrize(
    "sentence",
    [
        "Troops on state radio announced the removal of the president overnight.",
        "Patrol boats harassed a navy frigate near the disputed reef.",
        "The foreign ministry ordered the ambassador to leave within 48 hours.",
        "The junta gave the UN mission days to leave.",
        "The fisheries accord was allowed to lapse after the talks broke down.",
        "The humanitarian truce expires at midnight with no extension agreed.",
        "Mediators walked out of the negotiations on Friday.",
        "The bloc agreed a fresh round of sanctions on the shipping firms.",
    ],
)
def test_removals_harassment_expulsion_deadlines_lapsed_deals_and_agreed_sanctions_are_escalatory(
    scorer, sentence
):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Residents were ordered to leave within the hour as the wildfire spread.",
        "The manager's removal was announced by the club's owners.",
        "The singer spoke out about online harassment.",
        "Tenants have ten days to leave the flat.",
        "Critics hail the new production of the opera.",
        "Google and Samsung sign a partnership on smartphone chips.",
        "United's attack ran riot in a 5-1 win.",
    ],
)
def test_the_same_words_in_other_senses_are_not_conflict(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


def test_agreeing_to_lift_sanctions_stays_deescalatory(scorer):
    # the agreement term yields to the sanction, whose lifting then reads as de-escalation
    result = scorer.score_sentence("The two governments agreed to lift sanctions on each other's banks.")
    assert result.score <= DEESCALATORY_THRESHOLD
    assert "sense:sanctions" in terms(result)["agree"].modifiers


@pytest.mark.parametrize(
    "sentence",
    [
        "The peace talks were abandoned after the second round.",
        "The truce proposal was rejected by the rebel command.",
        "Talks between the two armies were broken off last week.",
        "The opposition leader said the regime is committing atrocities in the south.",
    ],
)
def test_passive_abandonment_rejection_and_committed_atrocities_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


def test_an_active_abandonment_after_a_concession_is_no_breakdown(scorer):
    # only the passive reads as a breakdown: here the concession is what happened
    result = scorer.score_sentence("The governor backed down and abandoned the curfew plan.")
    assert not any(m.startswith("breakdown") for m in terms(result)["back down"].modifiers)


@pytest.mark.parametrize(
    "sentence",
    [
        "The two armies exchanged the bodies of fallen soldiers.",
        "The rebel commander ended the siege of the town on Sunday.",
        "Haulage drivers ended their blockade of the ports.",
    ],
)
def test_returned_bodies_and_ended_sieges_are_deescalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "A judge sentenced her to nine years in prison for the killing.",
        "The mayor signed the housing bill on Monday.",
        "Tottenham attack in waves but cannot find a way past the keeper.",
        "The Springboks crushed Wales in the autumn series.",
        "She fought back from two sets down to reach the final.",
        "The golfer battled to a birdie at the last.",
        "The winger was shot down by a reckless tackle, says the striker.",
        "Hospitals fight against antibiotic resistance with new rules.",
    ],
)
def test_verdicts_signed_bills_and_sport_reports_are_not_conflict(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


def test_an_accusation_that_is_a_hedge_cue_still_counts_as_an_accusation(scorer):
    # "accusations of" hedges the act it names and is itself verbal conflict
    result = scorer.score_sentence("The two capitals traded accusations of spying.")
    assert terms(result)["accusation"].effective_weight > 0
    assert result.score >= ESCALATORY_THRESHOLD
    hedged = scorer.score_sentence("There were allegations of an ambush near the pass.")
    assert "hedge:allegations of" in terms(hedged)["ambush"].modifiers


def test_calls_for_protests_are_no_appeal_for_peace(scorer):
    result = scorer.score_sentence("The union calls for a general strike and mass protests.")
    assert terms(result)["call for"].effective_weight == 0
    assert result.score >= ESCALATORY_THRESHOLD
    # a call for restraint stays an appeal
    assert scorer.score_sentence("The envoy calls for restraint.").score <= DEESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "Satellite photos show a troop build-up near the lake.",
        "Analysts warn of a build-up of forces on the plateau.",
    ],
)
def test_build_ups_of_troops_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


def test_firms_battling_costs_are_not_at_war(scorer):
    assert abs(scorer.score_sentence("Small firms battle soaring energy costs.").score) < ESCALATORY_THRESHOLD


# -- gaps named by fresh headline batch 22 ----------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Mortar fire killed two shepherds near the ceasefire line.",
        "The government closed its airspace to the neighbour's airlines.",
        "The capital recalled its diplomats after the raid.",
        "The general vowed to bomb the rebels back to the Stone Age.",
        "The opposition snubbed the reconciliation talks in the capital.",
        "Both factions boycotted the peace conference.",
    ],
)
def test_weapon_fire_closed_airspace_recalled_diplomats_and_snubbed_talks_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


def test_weapon_fire_is_no_blaze(scorer):
    result = scorer.score_sentence("Sniper fire killed a nurse outside the clinic.")
    assert not any(m.startswith("disaster") for match in result.matches for m in match.modifiers)


@pytest.mark.parametrize(
    "sentence",
    [
        "England's spinners destroyed the batting line-up before tea.",
        "The chain agrees to buy a grocer in a deal.",
        "The governor signed the proclamation calling the election.",
    ],
)
def test_cricket_purchases_and_proclamations_are_not_conflict_or_peace(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


# -- gaps named by fresh headline batches 23 and 24 (lexicon 2026.12.7, scorer-9) -------------------------
def _except_lexicon(except_with: list[str] | None) -> dict:
    sense = {"terms": ["seize power"], "window": 5, "unless": ["election"]}
    if except_with is not None:
        sense.update(except_with=except_with, except_window=10)
    return {
        "version": "t",
        "categories": {"power_seizure": {"polarity": 1, "weight": 0.9, "terms": ["~seize power"]}},
        "senses": [sense],
    }


def test_a_sense_exception_keeps_the_main_reading_within_its_own_window():
    sentence = "Army officers say they annulled the election results and have seized power"
    plain = Scorer(_except_lexicon(None)).score_sentence(sentence)
    assert plain.score == 0.0 and plain.matches[0].modifiers == ("sense:election",)
    excepted = Scorer(_except_lexicon(["~officer"])).score_sentence(sentence)
    assert excepted.score > 0.5 and excepted.matches[0].modifiers == ()
    # the exception word must stand within except_window words of the term: 10 here, the officers at 9
    far = "Army officers say that the two parties annulled the election and later have seized power"
    assert Scorer(_except_lexicon(["~officer"])).score_sentence(far).score == 0.0
    # without the election in view the exception changes nothing
    assert Scorer(_except_lexicon(["~officer"])).score_sentence("The rebels have seized power").score > 0.5


def test_soldiers_in_view_restore_a_seizure_of_power_an_election_would_void(scorer):
    coup = scorer.score_sentence("Army officers annulled the elections and took power in the capital.")
    assert coup.score >= ESCALATORY_THRESHOLD
    assert terms(coup)["take power"].category == "power_seizure"
    vote = scorer.score_sentence("The opposition took power after winning the election.")
    assert abs(vote.score) < ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "The government halted electricity exports to its neighbour.",
        "Beijing suspended exports of gallium to Washington.",
        "Fuel supplies to the enclave were cut on Monday.",
        "Troops blocked the only road into the valley.",
        "The ministry halted aid deliveries to the province.",
        "The army is cutting off food to the encircled district.",
        "The two sides failed to agree a truce in Geneva.",
        "Prospects for a truce dimmed after the shelling.",
        "The overnight raid dims hopes of a ceasefire.",
        "Pyongyang vowed to expand its nuclear arsenal.",
        "Moscow quit the grain initiative last week.",
        "Rebels threatened to storm the capital.",
    ],
)
def test_supply_cut_offs_blocked_routes_failed_deals_and_arsenals_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Exports slowed in the third quarter.",
        "The carmaker cut its exports forecast.",
        "A storm cut power supplies to 40,000 homes.",
        "The blaze gutted an apartment block near the main road.",
        "Land rights remain a stumbling block.",
        "The city launched a recycling initiative.",
        "Tory rebels threaten to vote down the welfare bill.",
        "A fire at a warehouse unit killed three workers.",
    ],
)
def test_the_same_words_in_trade_weather_housing_and_politics_are_not_conflict(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "An aid convoy finally entered besieged Mariupol.",
        "The two armies exchanged the remains of fallen troops.",
        "The envoy unveiled a peace initiative for the region.",
    ],
)
def test_aid_into_a_besieged_town_exchanged_remains_and_peace_initiatives_are_deescalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD, sentence


def test_a_besieging_army_and_shooting_at_a_crowd_keep_their_weight(scorer):
    assert scorer.score_sentence("Rebels besieged the garrison town.").score >= ESCALATORY_THRESHOLD
    fired = scorer.score_sentence("Troops fired at a crowd of protesters near the unit.")
    assert fired.score >= ESCALATORY_THRESHOLD
    assert not any(m.startswith("disaster") for match in fired.matches for m in match.modifiers)


# -- gaps named by fresh headline batch 25 (in-sample from here) --------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Fighter jets flew over the disputed islands.",
        "The government shut the main border crossing.",
        "Talks between the two neighbours on the river basin ended in deadlock.",
        "The country froze its participation in the regional security pact.",
    ],
)
def test_jets_sent_over_shut_crossings_far_deadlocks_and_frozen_participation_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Rebel forces began pulling out of the northern towns.",
        "Evacuation buses took wounded civilians out of the encircled district.",
        "The fourth round of hostage and prisoner releases went ahead.",
        "The two armies exchanged the bodies of soldiers killed in the battle.",
    ],
)
def test_troops_pulling_out_evacuations_and_releases_after_the_term_are_deescalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Police arrested two men for stealing cars.",
        "Opec+ agreed to extend output cuts into next year.",
        "Newcastle crush Leeds to go top.",
        "A snowstorm shut the border crossing for a day.",
    ],
)
def test_car_theft_output_deals_league_tables_and_snowbound_crossings_are_neither(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


def test_a_party_pulling_out_of_talks_breaks_them_and_withdraws_nothing(scorer):
    for sentence in ("The rebels pulled out of the peace talks.", "The rebels pull out of peace talks."):
        result = scorer.score_sentence(sentence)
        assert result.score >= ESCALATORY_THRESHOLD, sentence
        assert all(m.effective_weight >= 0 for m in result.matches), sentence


def test_protesters_blocking_roads_protest_and_do_not_coerce_like_an_army(scorer):
    army = scorer.score_sentence("The army blocked the main road into the valley.")
    strikers = scorer.score_sentence("Striking drivers blocked the main road into the valley.")
    assert army.score >= ESCALATORY_THRESHOLD
    assert terms(strikers)["block"].effective_weight < 0.5 * terms(army)["block"].effective_weight


@pytest.mark.parametrize(
    "sentence",
    [
        "A military plane crashed near the airbase, killing two crew.",
        "The borders remain closed to tourists until spring.",
        "Police set up road blocks on the bypass.",
    ],
)
def test_crashed_warplanes_closed_borders_as_a_state_and_road_blocks_are_neither(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


def test_a_suspect_arrested_and_released_is_no_captive_freed_and_a_threat_before_a_resignation_stays(scorer):
    arrest = terms(scorer.score_sentence("Police arrest and release a suspect."))["arrest"]
    assert not any(m.startswith("release:") for m in arrest.modifiers)
    threat = terms(scorer.score_sentence("The spokesman resigned after threatening a journalist."))["threaten"]
    assert threat.effective_weight > 0 and not any(m.startswith("sense:") for m in threat.modifiers)


@pytest.mark.parametrize(
    "sentence",
    ["London froze the assets of three generals.", "The ministry halted imports of grain from its neighbour."],
)
def test_frozen_assets_with_an_article_and_halted_imports_are_coercion(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


def test_imports_that_merely_rise_are_no_coercion(scorer):
    assert scorer.score_sentence("Imports rose sharply in March.").score == 0.0


# -- gaps named by fresh batch 27 (lexicon 2026.12.8, scorer-9) -----------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Rioters set two police cars alight.",
        "They set the depot ablaze.",
        "Satellite jamming disrupted flights over the Baltic.",
        "Ankara announced a ground operation in the north.",
        "The army moved an armoured brigade to the frontier.",
        "Naval commandos boarded the tanker at dawn.",
    ],
)
def test_batch_27_conflict_acts_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "The passengers alight at the last stop.",
        "The band spent the night jamming in the studio.",
        "His accent set the internet ablaze.",
    ],
)
def test_alight_without_set_and_a_jamming_session_score_nothing(scorer, sentence):
    assert scorer.score_sentence(sentence).score == 0.0, sentence


def test_a_court_striking_down_a_ban_imposes_no_ban(scorer):
    struck = terms(scorer.score_sentence("A federal court struck down the state's ban on drag shows."))["ban"]
    assert struck.effective_weight == 0.0
    imposed = terms(scorer.score_sentence("The government imposed a ban on fishing in the strait."))["ban"]
    assert imposed.effective_weight > 0


def test_torn_up_truces_captives_back_with_families_and_resumed_flights(scorer):
    assert scorer.score_sentence("Both sides tear up the truce.").score >= ESCALATORY_THRESHOLD
    back = scorer.score_sentence("The abducted pupils are back with their families.")
    assert back.score <= DEESCALATORY_THRESHOLD
    flights = scorer.score_sentence("The two rivals resume direct flights after a decade.")
    assert flights.score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 28 (lexicon 2026.12.8, scorer-9) -----------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "The president suspended parliament on Sunday.",
        "Two frigates shadowed the carrier through the strait.",
        "The colonel vowed to turn the city into a sea of fire.",
        "The garrison was told to surrender or be destroyed.",
        "The truce lasted less than a day.",
        "The rebels pulled the plug on the peace deal.",
    ],
)
def test_batch_28_conflict_acts_and_breakdowns_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


def test_troops_ordered_out_count_and_troops_pulled_out_do_not(scorer):
    ordered = terms(scorer.score_sentence("The government ordered the foreign troops out."))["troops out"]
    assert ordered.effective_weight > 0
    pulled = terms(scorer.score_sentence("Paris pulled its troops out."))
    assert "troops out" not in pulled or pulled["troops out"].effective_weight == 0


@pytest.mark.parametrize(
    "sentence", ["Serbian troops drew down from the border.", "Both armies removed guard posts along the line."]
)
def test_troops_drawing_down_and_guard_posts_removed_are_deescalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "The shadow cabinet will decide on Monday.",
        "The airline drew down its credit line.",
        "Shares hit a record on strong demand.",
        "The gallery reopens its east wing after a long renovation.",
    ],
)
def test_shadow_cabinets_loans_market_demand_and_renovated_rooms_score_nothing(scorer, sentence):
    assert scorer.score_sentence(sentence).score == 0.0, sentence


def test_police_detaining_a_cartel_boss_is_police_work(scorer):
    result = scorer.score_sentence("Police detained a cartel leader at the airport.")
    assert 0 < result.score < ESCALATORY_THRESHOLD
    assert scorer.score_sentence("Police detained two protesters outside the ministry.").score >= ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 29 (lexicon 2026.12.10, scorer-9) ----------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "The army was put on the highest alert.",
        "The general massed tanks along the river.",
        "Ukraine says Russia is massing forces near Kharkiv.",
        "A rocket hit the drama theatre.",
    ],
)
def test_batch_29_alerts_massed_armour_and_a_hit_theatre_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "The streaming service renewed its hit drama for a third season.",
        "The striker seized the chance to score.",
        "Pope Leo visits Lebanon.",
        "The carmakers called a truce in their patent war.",
    ],
)
def test_hit_shows_seized_chances_papal_visits_and_patent_truces_score_nothing(scorer, sentence):
    assert scorer.score_sentence(sentence).score == 0.0, sentence


def test_a_hazard_alert_is_no_mobilisation(scorer):
    assert abs(scorer.score_sentence("The volcano erupted, prompting the highest alert.").score) < ESCALATORY_THRESHOLD
    assert scorer.score_sentence("Moscow put its deterrence forces on high alert.").score >= ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 30 (lexicon 2026.12.10, scorer-9) ----------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Nurses downed tools across the region.",
        "The rebels rejected the plan, saying it fails to end the war.",
        "Militants launched an assault on a crowded market, killing six.",
    ],
)
def test_batch_30_downed_tools_failed_peace_and_market_attacks_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "The visitors fought back to snatch a late draw.",
        "The chain launched an assault on the coffee market.",
        "Retailers gear up for a holiday battle for shoppers.",
        "Fund managers see little risk of a downturn.",
        "A bomb squad was called to the station.",
        "Army experts defused a wartime bomb.",
    ],
)
def test_match_comebacks_market_assaults_fund_managers_and_bomb_disposal_score_nothing(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


# -- gaps named by fresh batch 31 (lexicon 2026.12.10, scorer-9) ----------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Artillery pounded rebel positions overnight.",
        "A navy destroyer sailed within 12 miles of the reef.",
        "The ceasefire is on a knife-edge.",
        "The mediators went home empty-handed.",
        "Tamil Tigers attack an army camp.",
    ],
)
def test_batch_31_pounding_sailing_warships_and_fragile_truces_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


@pytest.mark.parametrize(
    "sentence",
    ["Rebel fighters withdrew from the town.", "The medical evacuation of wounded children began."],
)
def test_rebels_withdrawing_and_medical_evacuations_are_deescalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score <= DEESCALATORY_THRESHOLD, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Storms pounded the coast.",
        "The pound fell against the dollar.",
        "A cruise ship sailed past the island.",
        "A shark attack closed the beach.",
        "Bitcoin bombed 15% overnight.",
        "The player battled past his rival.",
        "The club agreed a fee for the winger.",
        "Crowds welcome the new year.",
        "The retailer declared war on fake reviews.",
        "The two firms settled their legal dispute.",
    ],
)
def test_storms_currencies_animals_coins_matches_and_firms_are_no_conflict(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


def test_a_transferred_prisoner_keeps_the_agreement(scorer):
    result = scorer.score_sentence("The UK agrees to the transfer of the prisoner.")
    assert result.score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 32 (lexicon 2026.12.10, scorer-9) ----------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Paris summoned the Iranian ambassador.",
        "The government extended compulsory military service.",
        "The ceasefire deal fell through.",
        "Students rally outside the embassy.",
    ],
)
def test_batch_32_summoned_envoys_the_draft_and_failed_deals_are_escalatory(scorer, sentence):
    assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


def test_troops_moving_back_withdraw_and_families_moving_back_do_not(scorer):
    assert scorer.score_sentence("Troops moved back from the ridge.").score <= DEESCALATORY_THRESHOLD
    assert scorer.score_sentence("The family moved back from Spain.").score == 0.0


@pytest.mark.parametrize(
    "sentence",
    [
        "The court summoned three witnesses.",
        "Japan began the release of treated water.",
        "Film piracy sites cost studios millions.",
        "Climbers queued below the summit of the mountain.",
        "NASA launched a probe to Mars.",
        "The bank fired a rate-hike salvo at inflation.",
        "The club targets a new striker.",
        "The exhibition opens at the war museum.",
    ],
)
def test_witnesses_water_online_piracy_peaks_space_probes_rates_and_museums_are_no_conflict(scorer, sentence):
    assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


# -- gaps named by fresh batch 42 (lexicon 2026.12.15) ---------------------------------------------------
def test_a_peace_step_defied_counts_nothing_and_the_act_stays(scorer):
    shelling = scorer.score_sentence("Artillery shelling went on despite the truce.")
    assert "defied:despite" in terms(shelling)["truce"].modifiers
    assert terms(shelling)["truce"].effective_weight == 0.0
    assert shelling.score >= ESCALATORY_THRESHOLD
    front = scorer.score_sentence("Despite the mediation effort, militants attacked a village.")
    assert front.score >= ESCALATORY_THRESHOLD
    # the clause break stops the cue: the peace step after the comma is made
    signed = scorer.score_sentence("Despite the heat, the two ministers signed a peace agreement.")
    assert signed.score <= DEESCALATORY_THRESHOLD
    # escalatory terms after the cue are not defied: only peace steps are
    assert not any(m.startswith("defied") for m in terms(front)["attack"].modifiers)


def test_ground_forces_pushing_into_a_place_attack_and_markets_or_firms_do_not(scorer):
    for sentence in ("Armoured columns pushed further into the northern suburbs.", "Rebel fighters advanced on the airport."):
        assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence
    for sentence in (
        "European shares advanced on hopes of lower interest rates.",
        "The carmaker pushed deeper into the electric van market.",
        "The economy was pushed further into recession by high energy prices.",
    ):
        assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence


def test_fire_traded_across_a_line_is_shooting(scorer):
    for sentence in ("The two armies traded fire along the ceasefire line.", "Police and gunmen exchanged gunfire for hours."):
        assert scorer.score_sentence(sentence).score >= ESCALATORY_THRESHOLD, sentence


def test_a_minister_meeting_nurses_or_farmers_holds_no_talks(scorer):
    for sentence in ("The health minister met nurses at a rural clinic.", "The president will meet farmers in the north."):
        assert abs(scorer.score_sentence(sentence).score) < ESCALATORY_THRESHOLD, sentence
    assert scorer.score_sentence("The president will meet his Chinese counterpart in Bali.").score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 43 (lexicon 2026.12.15) ---------------------------------------------------
def test_a_death_with_no_anchor_or_perpetrator_is_no_conflict(scorer):
    for sentence in ("The veteran actor has died at 88.", "A hiker was found dead near the waterfall."):
        result = scorer.score_sentence(sentence)
        assert abs(result.score) < ESCALATORY_THRESHOLD, sentence
        assert any("unanchored:no-anchor" in m.modifiers for m in result.matches), sentence
    # anchored deaths keep their weight (more probes in tests/data/headlines.tsv)
    assert not any("unanchored" in str(m.modifiers) for m in scorer.score_sentence("Six soldiers died in the ambush.").matches)


def test_a_suspended_constitution_and_a_president_removed_by_soldiers_seize_power(scorer):
    suspended = scorer.score_sentence("Officers said the president had been removed and the constitution suspended.")
    assert suspended.score >= ESCALATORY_THRESHOLD
    assert not any(m.startswith("reversal") for match in suspended.matches for m in match.modifiers)
    impeached = scorer.score_sentence("The president was removed by lawmakers in an impeachment vote.")
    assert abs(impeached.score) < ESCALATORY_THRESHOLD


def test_troops_leaving_a_base_and_an_ended_military_presence_withdraw(scorer):
    assert scorer.score_sentence("The remaining troops left the airbase on Friday.").score <= DEESCALATORY_THRESHOLD
    ended = scorer.score_sentence("The mission is ending a decade-long military presence.")
    assert "reversal:ending" in terms(ended)["military presence"].modifiers
    assert scorer.score_sentence("The navy stepped up its military presence in the strait.").score >= ESCALATORY_THRESHOLD
    # soldiers who left casualties behind withdrew from nothing
    assert scorer.score_sentence("Soldiers left four villagers dead.").score >= ESCALATORY_THRESHOLD


def test_political_prisoners_held_are_repression_and_freed_are_released(scorer):
    assert scorer.score_sentence("The regime holds hundreds of political prisoners.").score >= ESCALATORY_THRESHOLD
    freed = scorer.score_sentence("The government freed 40 political prisoners.")
    assert "release:freed" in terms(freed)["political prisoner"].modifiers
    assert freed.score <= DEESCALATORY_THRESHOLD


def test_rockets_that_blast_off_and_customer_complaints_are_no_conflict(scorer):
    for sentence in ("The rocket blasted off from the launch pad at dawn.", "Customer complaints about the bank doubled."):
        assert scorer.score_sentence(sentence).score == 0.0, sentence


# -- a headline's topic label (fresh batch 44, lexicon 2026.12.15 / scorer-10) ---------------------------
@pytest.mark.parametrize(
    "headline",
    ["Peace talks: Artillery shells kill six in the north", "Ceasefire deal: Drone strikes hit the capital again"],
)
def test_a_peace_label_before_the_colon_does_not_outweigh_the_days_attack(scorer, headline):
    result = scorer.score_sentence(headline)
    assert "topic:label" in result.matches[0].modifiers
    assert result.score >= ESCALATORY_THRESHOLD, headline


@pytest.mark.parametrize(
    "headline",
    ["Civil war: Rival generals sign a ceasefire deal", "Border conflict: Leaders agree to peace talks in Geneva"],
)
def test_a_war_label_before_the_colon_does_not_outweigh_the_days_peace_step(scorer, headline):
    assert scorer.score_sentence(headline).score <= DEESCALATORY_THRESHOLD, headline


def test_a_topic_label_alone_keeps_its_weight_as_a_new_storys_name(scorer):
    # topic_factor 1.0: a label is news on a story's first days ("Sudan coup: Why the army is gambling")
    result = scorer.score_sentence("Border coup: What we know so far")
    assert result.matches[0].modifiers == ("topic:label",)
    assert result.score >= ESCALATORY_THRESHOLD
    assert asserted_acts([m.to_dict() for m in result.matches]) == {"power_seizure"}
    # a colon deeper than topic_words words is no label: "the minister said: ..." keeps the act whole
    deep = scorer.score_sentence("The defence minister told reporters on Monday: the war will go on")
    assert not any("topic:label" in m.modifiers for m in deep.matches)


def test_topic_words_and_factor_are_read_from_the_lexicon_and_checked():
    lexicon = {
        "version": "t",
        "categories": {"act": {"polarity": 1, "terms": ["war", "shelled"]}},
        "salience": {"order_decay": 0.5, "topic_words": 2, "topic_factor": 0.25},
    }
    label, act = Scorer(lexicon).score_sentence("the war: troops shelled a town").matches
    assert label.effective_weight == 0.25 and label.modifiers == ("topic:label",)
    assert act.effective_weight == 1.0  # the label takes no rank
    # three words before the colon: past topic_words, no label
    assert Scorer(lexicon).score_sentence("a long war: troops shelled a town").matches[1].effective_weight == 0.5
    for key, bad in (("topic_words", -1), ("topic_words", True), ("topic_words", 1.5), ("topic_factor", "x"),
                     ("topic_factor", -0.1), ("topic_factor", float("nan"))):
        broken = {**lexicon, "salience": {**lexicon["salience"], key: bad}}
        with pytest.raises(LexiconError, match=key):
            Scorer(broken)


# -- gaps named by fresh batch 45 (lexicon 2026.12.15) ---------------------------------------------------


def test_an_animal_cue_leaves_an_armed_attack_whole(scorer):
    assert scorer.score_sentence("Gunmen killed two rangers guarding the elephants.").score >= ESCALATORY_THRESHOLD
    assert scorer.score_sentence("The rebels vowed to wipe out the army's garrisons.").score >= ESCALATORY_THRESHOLD


def test_accusations_called_false_are_a_denial(scorer):
    result = scorer.score_sentence("The ministry said reports that troops had shelled the town were false.")
    assert any(m.startswith("denial:") for m in terms(result)["shell"].modifiers)
    assert abs(result.score) < ESCALATORY_THRESHOLD


def test_a_resignation_the_army_announces_is_no_concession(scorer):
    forced = scorer.score_sentence("The military said on state television that the president had resigned.")
    assert terms(forced)["resign"].effective_weight == 0.0
    assert scorer.score_sentence("The rebel negotiator resigned to allow a deal.").score <= DEESCALATORY_THRESHOLD


def test_a_sermons_call_for_peace_is_pastoral_unless_it_names_a_conflict(scorer):
    assert abs(scorer.score_sentence("The bishop called for peace and reconciliation in his Easter message.").score) < (
        ESCALATORY_THRESHOLD
    )
    named = scorer.score_sentence("The Pope called for a ceasefire in Gaza in his Christmas message.")
    assert named.score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 46 (lexicon 2026.12.15) ---------------------------------------------------


def test_breaches_of_a_truce_or_of_international_law_and_weapons_pulled_back_keep_their_reading(scorer):
    assert scorer.score_sentence("Russia violated international law, the envoy said.").score >= ESCALATORY_THRESHOLD
    pulled = scorer.score_sentence("Both armies pulled heavy weapons back from the front.")
    assert pulled.score <= DEESCALATORY_THRESHOLD
    assert scorer.score_sentence("The two sides signed a ceasefire deal after talks.").score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 47 (lexicon 2026.12.15) ---------------------------------------------------
def test_opponents_stripped_of_citizenship_are_coerced_and_the_proud_are_not(scorer):
    assert scorer.score_sentence("The regime stripped forty critics of their citizenship.").score >= ESCALATORY_THRESHOLD
    assert scorer.score_sentence("The athletes spoke of their citizenship with pride.").score == 0.0


def test_communication_lines_restored_calm_and_cut_breach(scorer):
    assert scorer.score_sentence("The two armies restored communication lines.").score <= DEESCALATORY_THRESHOLD
    cut = scorer.score_sentence("The two armies cut their communication lines.")
    assert any(m.startswith("breach:") for m in terms(cut)["communication line"].modifiers)


def test_a_continental_cup_is_sport(scorer):
    assert abs(scorer.score_sentence("Senegal crush Egypt in the Africa Cup of Nations final.").score) < ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 48 (lexicon 2026.12.15): teasers --------------------------------------------
def test_a_peace_step_that_failed_to_work_is_broken_down(scorer):
    failed = scorer.score_sentence("The truce has failed to stop the shelling of the city.")
    assert any(m.startswith("breakdown:") for m in terms(failed)["truce"].modifiers)
    assert failed.score >= ESCALATORY_THRESHOLD


def test_demands_of_a_party_and_thanks_to_a_state_keep_their_reading(scorer):
    assert scorer.score_sentence("Protesters demanded the resignation of the junta.").score >= ESCALATORY_THRESHOLD
    assert scorer.score_sentence("Kyiv thanked Washington for the new air defence systems.").score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 49 (lexicon 2026.12.15 / scorer-10): teasers --------------------------------
def test_a_fronted_background_clause_does_not_outrank_the_days_act(scorer):
    result = scorer.score_sentence("After weeks of shelling, the two armies agreed to a truce.")
    assert "fronted:clause" in terms(result)["shell"].modifiers
    assert not any(m.startswith("order") for m in terms(result)["agree"].modifiers)
    assert result.score <= DEESCALATORY_THRESHOLD
    # a comma deeper than fronted_words words, or no opening cue: the order as before
    late = scorer.score_sentence("The shelling went on for weeks and weeks in the north and the south, and a truce came.")
    assert not any("fronted:clause" in m.modifiers for m in late.matches)


def test_fronted_words_and_cues_are_read_from_the_lexicon_and_checked():
    lexicon = {
        "version": "t",
        "categories": {"war": {"polarity": 1, "terms": ["war"]}, "calm": {"polarity": -1, "terms": ["truce"]}},
        "salience": {"order_decay": 0.5, "fronted_words": 4, "fronted_cues": ["After"]},
    }
    war, truce = Scorer(lexicon).score_sentence("after the war, a truce").matches
    assert war.modifiers == ("fronted:clause",) and war.effective_weight == 1.0
    assert truce.effective_weight == -1.0 and truce.modifiers == ()
    for key, bad in (("fronted_words", -1), ("fronted_words", "4"), ("fronted_cues", "after"), ("fronted_cues", [""])):
        broken = {**lexicon, "salience": {**lexicon["salience"], key: bad}}
        with pytest.raises(LexiconError, match=key):
            Scorer(broken)


# -- gaps named by fresh batch 50 (lexicon 2026.12.15) ---------------------------------------------------
def test_batch_50_nuclear_drills_escalate_and_pledges_to_end_clashes_calm(scorer):
    assert scorer.score_sentence("Moscow holds snap nuclear drills near the border.").score >= ESCALATORY_THRESHOLD
    ended = scorer.score_sentence("The two presidents pledged to end border clashes.")
    assert "end border clashes" in terms(ended)
    assert ended.score <= DEESCALATORY_THRESHOLD
    lifted = scorer.score_sentence("The government was asked to end its blockade of the port.")
    assert "reversal:to end its" in terms(lifted)["blockade"].modifiers
    assert lifted.score <= DEESCALATORY_THRESHOLD
    # a peace step that starts with "end" is not hidden by a cue before it
    assert "end the war" in terms(scorer.score_sentence("A deal to end the war seems further away than ever."))
    # the other reversal cues on the same line of the lexicon still work
    assert scorer.score_sentence("Dock workers end their strike after a pay deal.").score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 51 (lexicon 2026.12.15) ---------------------------------------------------


def test_batch_51_marches_pauses_and_a_named_holy_land_keep_their_reading(scorer):
    assert scorer.score_sentence("Thousands march in the capital against the new law.").score >= ESCALATORY_THRESHOLD
    assert scorer.score_sentence("The sides reach a deal to pause fighting.").score <= DEESCALATORY_THRESHOLD
    assert scorer.score_sentence("The Pope called for peace in the Holy Land in his Easter message.").score <= (
        DEESCALATORY_THRESHOLD
    )
    assert scorer.score_sentence("Militants killed four soldiers at a checkpoint.").score >= ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 52 (lexicon 2026.12.15) ---------------------------------------------------
def test_batch_52_trade_cut_off_coerces_and_a_restored_crossing_calms(scorer):
    cut = scorer.score_sentence("The government cut off trade with its neighbour.")
    assert terms(cut)["cut off trade"].category == "sanctions_coercion" and cut.score >= ESCALATORY_THRESHOLD
    restored = scorer.score_sentence("The two states restore border crossing after the row.")
    assert restored.score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 53 (lexicon 2026.12.16) ---------------------------------------------------
def test_batch_53_looted_artefacts_name_a_past_looting_but_armed_looters_still_loot(scorer):
    returned = scorer.score_sentence("The gallery put looted statues from Ghana on display.")
    assert terms(returned)["loot"].modifiers == ("sense:statues",) and returned.score == 0
    armed = scorer.score_sentence("Gunmen looted antiquities from the provincial museum.")
    assert terms(armed)["loot"].effective_weight > 0 and armed.score >= ESCALATORY_THRESHOLD
    assert scorer.score_sentence("Rioters looted shops across the capital.").score >= ESCALATORY_THRESHOLD


def test_batch_53_a_standoff_on_screen_is_leisure(scorer):
    drama = scorer.score_sentence("A streaming thriller about a standoff at an embassy tops the charts.")
    assert "leisure:thriller" in terms(drama)["standoff"].modifiers and abs(drama.score) < ESCALATORY_THRESHOLD
    assert scorer.score_sentence("Rival troops in a tense standoff at the frontier.").score >= ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 54 (lexicon 2026.12.16) ---------------------------------------------------
def test_batch_54_a_hostile_act_said_not_to_have_happened_is_a_denial_not_restraint(scorer):
    denied = scorer.score_sentence("The police say they did not shoot at the marchers.")
    shot = terms(denied)["shoot"]
    assert "denied_act:did not" in shot.modifiers and "negation:did not" in shot.modifiers
    assert abs(denied.score) < ESCALATORY_THRESHOLD
    # a future negation stays negation's slight de-escalation, and a refused peace step is still refused
    future = terms(scorer.score_sentence("The army will not attack the town."))["attack"]
    assert "denied_act:not" not in future.modifiers and future.effective_weight < 0
    assert scorer.score_sentence("The rebels did not sign the peace deal.").score >= ESCALATORY_THRESHOLD


def test_batch_54_plans_shot_down_are_rejected_and_drones_shot_down_are_hit(scorer):
    plans = scorer.score_sentence("Residents shot down the council's proposal.")
    assert terms(plans)["shoot down"].effective_weight == 0 and "refusal:shot down" in terms(plans)["proposal"].modifiers
    assert scorer.score_sentence("Air defences shot down eight drones.").score >= ESCALATORY_THRESHOLD


def test_batch_54_company_pledges_and_school_attacks(scorer):
    pledge = scorer.score_sentence("Carmakers sign a pledge to cut emissions.")
    assert abs(pledge.score) < ESCALATORY_THRESHOLD
    school = scorer.score_sentence("A pupil was jailed for the school attack that killed a teacher.")
    assert any(m.startswith("crime:") for m in terms(school)["kill"].modifiers)


# -- gaps named by fresh batch 55 (lexicon 2026.12.16): teasers ------------------------------------------
def test_batch_55_all_means_territorial_waters_and_a_halt_to_hostilities(scorer):
    means = scorer.score_sentence("The president said his country would use all means at its disposal.")
    assert "all means at its disposal" in terms(means) and means.score >= ESCALATORY_THRESHOLD
    waters = scorer.score_sentence("A frigate entered its territorial waters without permission.")
    assert terms(waters)["enter its territorial waters"].category == "show_of_force"
    halt = scorer.score_sentence("The envoys called for a halt to hostilities.")
    assert terms(halt)["halt to hostilities"].category == "ceasefire" and halt.score <= DEESCALATORY_THRESHOLD


def test_batch_55_captives_flown_home_are_freed_and_troops_after_floods_help(scorer):
    home = scorer.score_sentence("The sailors held by the militants were flown home.")
    assert "freeing:flown home" in terms(home)["militant"].modifiers and home.score <= DEESCALATORY_THRESHOLD
    relief = scorer.score_sentence("Soldiers were deployed to clear roads after the earthquake.")
    assert "disaster:earthquake" in terms(relief)["deploy"].modifiers and abs(relief.score) < ESCALATORY_THRESHOLD
    assert scorer.score_sentence("Troops were deployed to the border.").score >= ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 56 (lexicon 2026.12.16) ---------------------------------------------------
def test_batch_56_troops_ordered_out_critics_jailed_and_annexation(scorer):
    out = scorer.score_sentence("The junta told UN peacekeepers to leave by the end of the year.")
    assert terms(out)["peacekeepers to leave"].category == "expulsion_ties" and out.score >= ESCALATORY_THRESHOLD
    jailed = scorer.score_sentence("The regime jails dissidents before the election.")
    assert "jail dissidents" in terms(jailed) and jailed.score >= ESCALATORY_THRESHOLD
    claim = scorer.score_sentence("The minister said the neighbour had no right to annex the province.")
    assert "negation:no" not in terms(claim)["annex"].modifiers and claim.score >= ESCALATORY_THRESHOLD


def test_batch_56_deals_struck_vetoes_and_visits_to_disaster_zones(scorer):
    deal = scorer.score_sentence("The carmaker strikes battery deal with a supplier.")
    assert "sense:deal" in terms(deal)["strike"].modifiers and terms(deal)["strike"].effective_weight == 0
    assert scorer.score_sentence("An air strike hit the town hours after the deal.").score >= ESCALATORY_THRESHOLD
    vetoed = scorer.score_sentence("The member state vetoes new sanctions on the regime.")
    assert "negation:vetoes" in terms(vetoed)["sanction"].modifiers and abs(vetoed.score) < ESCALATORY_THRESHOLD
    assert scorer.score_sentence("Russia vetoes the ceasefire resolution.").score >= ESCALATORY_THRESHOLD
    visit = scorer.score_sentence("The president visits cyclone-hit villages in the south.")
    assert terms(visit)["visit"].modifiers == ("sense:cyclone-hit",)


# -- gaps named by fresh batch 57 (lexicon 2026.12.16) ---------------------------------------------------
def test_batch_57_negation_reaches_acts_not_the_actors_named_after_them(scorer):
    refused = scorer.score_sentence("The army says it will not negotiate with the rebels.")
    assert terms(refused)["rebel"].modifiers == ("order:2",) and refused.score >= ESCALATORY_THRESHOLD
    assert "negation:not" in terms(scorer.score_sentence("The rebels will not attack."))["attack"].modifiers
    denied = scorer.score_sentence("The government denies arming the militia.")
    assert "denial:denies arming" in terms(denied)["militia"].modifiers and abs(denied.score) < ESCALATORY_THRESHOLD


def test_batch_57_patrols_and_an_exodus(scorer):
    patrol = scorer.score_sentence("Beijing staged a joint combat readiness patrol around the island.")
    assert terms(patrol)["joint"].effective_weight == 0 and patrol.score >= ESCALATORY_THRESHOLD
    fled = scorer.score_sentence("A mass exodus from the besieged Syrian town began at dawn.")
    assert fled.score >= ESCALATORY_THRESHOLD
    quit_jobs = scorer.score_sentence("Britain sees a mass exodus of nurses from hospital jobs.")
    assert terms(quit_jobs)["mass exodus"].effective_weight == 0


# -- gaps named by fresh batch 58 (lexicon 2026.12.16): teasers ------------------------------------------
def test_batch_58_frozen_assets_released_and_dinners_for_executives(scorer):
    unfrozen = scorer.score_sentence("The frozen assets of the central bank were released under the accord.")
    assert "freeing:released" in terms(unfrozen)["freeze assets"].modifiers
    assert unfrozen.score <= DEESCALATORY_THRESHOLD
    frozen = scorer.score_sentence("The EU will freeze assets of the regime's leaders.")
    assert frozen.score >= ESCALATORY_THRESHOLD
    dinner = scorer.score_sentence("The chancellor hosted executives of the largest banks for dinner.")
    assert terms(dinner)["host"].modifiers == ("sense:executives",)


# -- gaps named by fresh batch 59 (lexicon 2026.12.16) ---------------------------------------------------
def test_batch_59_a_bloc_quit_troops_pulled_out_and_manure_dumped(scorer):
    quit_bloc = scorer.score_sentence("The three juntas quit the regional bloc.")
    assert terms(quit_bloc)["quit"].category == "expulsion_ties" and quit_bloc.score >= ESCALATORY_THRESHOLD
    assert terms(scorer.score_sentence("The coach quit after the defeat."))["quit"].effective_weight == 0
    pulled = scorer.score_sentence("The army pulls its troops out of the northern city.")
    assert terms(pulled)["pull its troops out"].category == "withdrawal" and pulled.score <= DEESCALATORY_THRESHOLD
    protest = scorer.score_sentence("Angry farmers dump manure outside the prefecture.")
    assert protest.score >= ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 60 (lexicon 2026.12.16) ---------------------------------------------------
def test_batch_60_wanted_lists_frozen_memberships_and_seized_ships_released(scorer):
    wanted = scorer.score_sentence("Moscow puts the Latvian foreign minister on its wanted list.")
    assert "wanted list" in terms(wanted) and wanted.score >= ESCALATORY_THRESHOLD
    fbi = scorer.score_sentence("The FBI adds the fugitive to its most wanted list.")
    assert "wanted list" not in terms(fbi)
    frozen = scorer.score_sentence("Yerevan freezes its membership of the alliance.")
    assert frozen.score >= ESCALATORY_THRESHOLD
    released = scorer.score_sentence("The rebels release the seized tanker and its crew.")
    assert "release:release" in terms(released)["seize"].modifiers and released.score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 61 (lexicon 2026.12.16) ---------------------------------------------------
def test_batch_61_company_battles_tractor_blockades_and_denied_roles(scorer):
    rivals = scorer.score_sentence("Two chipmakers battle for the lead in AI chips.")
    assert "sense:chipmakers" in terms(rivals)["battle"].modifiers and abs(rivals.score) < ESCALATORY_THRESHOLD
    tractors = scorer.score_sentence("Farmers block the motorway with tractors.")
    assert tractors.score >= ESCALATORY_THRESHOLD
    denied = scorer.score_sentence("The ministry denies role in the pipeline sabotage.")
    assert "denial:denies role in" in terms(denied)["sabotage"].modifiers
    assert abs(denied.score) < ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 62 (lexicon 2026.12.17) ---------------------------------------------------
def test_batch_62_set_on_fire_is_arson_and_a_fire_without_a_setter_is_a_blaze(scorer):
    arson = scorer.score_sentence("Militias set the town hall on fire.")
    assert terms(arson)["on fire"].effective_weight > 0 and arson.score >= ESCALATORY_THRESHOLD
    blaze = scorer.score_sentence("A woman did not notice her burning car was on fire until smoke filled it.")
    assert "sense:no-context" in terms(blaze)["on fire"].modifiers
    assert abs(blaze.score) < ESCALATORY_THRESHOLD  # still the disaster context of a fire: the burning is no attack
    star = scorer.score_sentence("The striker set TikTok on fire with his goal.")
    assert abs(star.score) < ESCALATORY_THRESHOLD


def test_batch_62_conscripts_called_up_are_mobilisation(scorer):
    called = scorer.score_sentence("The defence ministry calls up 150,000 conscripts.")
    assert terms(called)["conscript"].category == "mobilisation" and called.score >= ESCALATORY_THRESHOLD


def test_batch_62_a_peace_step_after_unless_is_a_condition_not_a_step(scorer):
    refusal = scorer.score_sentence("The group will not free the captives unless the army ends the war.")
    assert "unmet_condition:unless" in terms(refusal)["end the war"].modifiers
    assert refusal.score >= ESCALATORY_THRESHOLD
    offer = scorer.score_sentence("The rebels will release the hostages if the army withdraws.")
    assert "unmet_condition:unless" not in terms(offer)["withdraw"].modifiers
    assert offer.score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 63 (lexicon 2026.12.17) ---------------------------------------------------
def test_batch_63_troops_sent_or_moved_are_a_deployment_troops_moving_back_are_not(scorer):
    sent = scorer.score_sentence("The government sends 5,000 more soldiers to the northern frontier.")
    assert terms(sent)["soldier"].category == "mobilisation" and sent.score >= ESCALATORY_THRESHOLD
    killed = scorer.score_sentence("Two soldiers were seen near the frontier.")
    assert "soldier" not in terms(killed) or terms(killed)["soldier"].effective_weight == 0
    back = scorer.score_sentence("Troops from both armies move back from the disputed ridge.")
    assert terms(back)["troop"].effective_weight == 0 and back.score <= DEESCALATORY_THRESHOLD


def test_batch_63_pounding_with_missiles_named_later_cut_off_exports_and_aid_to_a_besieged_place(scorer):
    pounded = scorer.score_sentence("Russia pounds the power grid with more than 90 missiles.")
    assert terms(pounded)["pound"].effective_weight > 0 and pounded.score >= ESCALATORY_THRESHOLD
    cut_off = scorer.score_sentence("Beijing cuts off mineral exports to American arms makers.")
    assert cut_off.score >= ESCALATORY_THRESHOLD
    aid = scorer.score_sentence("A convoy delivers food to besieged northern city.")
    assert "sense:delivers" in terms(aid)["besiege"].modifiers and aid.score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 64 (lexicon 2026.12.17) ---------------------------------------------------
def test_batch_64_captives_freed_from_a_place_and_fuel_let_into_it(scorer):
    freed = scorer.score_sentence("Hostages freed from the tunnels reunite with their families.")
    assert "freeing:freed from" in terms(freed)["hostage"].modifiers and freed.score <= DEESCALATORY_THRESHOLD
    fuel = scorer.score_sentence("The army allows fuel into the enclave for the hospitals.")
    assert terms(fuel)["allow fuel into"].category == "humanitarian" and fuel.score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 65 (lexicon 2026.12.17) ---------------------------------------------------
def test_batch_65_a_clause_set_off_by_commas_is_background_only_up_to_its_closing_comma(scorer):
    freed = scorer.score_sentence("The aid worker, who had been kidnapped in March, was freed and flew home.")
    assert "relative:, who" in terms(freed)["kidnap"].modifiers
    assert "freeing:freed" in terms(freed)["kidnap"].modifiers  # across the closing comma
    assert "relative:, who" not in terms(freed)["free"].modifiers and freed.score <= DEESCALATORY_THRESHOLD
    inside = scorer.score_sentence("The general, who ordered the shelling of the city, spoke on Monday.")
    assert "relative:, who" in terms(inside)["shell"].modifiers


def test_batch_65_threat_formulas_drills_build_ups_hackers_and_talks_left_without_a_date(scorer):
    threat = scorer.score_sentence("The president said he would not hesitate to use nuclear weapons.")
    assert "negation:not" not in terms(threat)["nuclear weapons"].modifiers and threat.score >= ESCALATORY_THRESHOLD
    drill = scorer.score_sentence("The drills involve live fire and amphibious landings near the islands.")
    assert drill.score >= ESCALATORY_THRESHOLD
    build_up = scorer.score_sentence("Images show a build-up of tanks near the frontier.")
    assert build_up.score >= ESCALATORY_THRESHOLD
    hackers = scorer.score_sentence("Hackers thought to be working for a foreign intelligence agency breached the network.")
    assert terms(hackers)["hacker"].effective_weight > 0.3 * terms(hackers)["hacker"].weight
    talks = scorer.score_sentence("The delegations left the talks without a date for another round.")
    assert "breakdown:without a date" in terms(talks)["talks"].modifiers and talks.score >= ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 66 (lexicon 2026.12.17) ---------------------------------------------------
def test_batch_66_a_water_supply_cut_and_a_crossing_opened(scorer):
    cut = scorer.score_sentence("The army cuts the water supply to the besieged district.")
    assert terms(cut)["water supply"].effective_weight > 0 and cut.score >= ESCALATORY_THRESHOLD
    opened = scorer.score_sentence("Egypt opens the Rafah crossing for aid.")
    assert terms(opened)["crossing"].effective_weight < 0 and opened.score <= DEESCALATORY_THRESHOLD
    migrants = scorer.score_sentence("A record number of Channel crossings this summer.")
    assert "sense:no-context" in terms(migrants)["crossing"].modifiers and abs(migrants.score) < ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 67 (lexicon 2026.12.17, scorer-11) ----------------------------------------
def test_batch_67_a_cue_after_a_term_reaches_it_across_a_short_phrase_set_off_by_commas(scorer):
    violated = scorer.score_sentence("The truce, agreed in May, has been repeatedly violated.")
    assert "breakdown:violated" in terms(violated)["truce"].modifiers and violated.score >= ESCALATORY_THRESHOLD
    # only a phrase right after the term, with the cue close after it, and no other break
    far = scorer.score_sentence("The funds, which will be repaid, are to take over the collapsed firm.")
    assert not any(m.startswith("breakdown:") for m in terms(far)["fund"].modifiers)
    but = scorer.score_sentence("The truce, agreed in May, held but talks collapsed.")
    assert not any(m.startswith("breakdown:") for m in terms(but)["truce"].modifiers)


def test_batch_67_the_collapse_of_a_structure_is_an_accident_not_a_breakdown(scorer):
    building = scorer.score_sentence("The collapse of the building killed at least 14 people.")
    assert "accident:collapse of the building" in terms(building)["kill"].modifiers
    assert abs(building.score) < ESCALATORY_THRESHOLD
    truce = scorer.score_sentence("The collapse of the truce")
    assert "breach:collapse of" in terms(truce)["truce"].modifiers


def test_appositive_between_only_two_commas_around_a_short_phrase_after_the_term():
    from pipeline.score import _appositive_between

    text = "the agreement, signed in march, has been violated"
    assert _appositive_between(text, len("the agreement"), text.index("violated"))
    text = "the agreement, signed in march last year by the two sides, has been violated"  # too long
    assert not _appositive_between(text, len("the agreement"), text.index("violated"))
    text = "the agreement, signed in march, has since then been repeatedly violated"  # cue too far after it
    assert not _appositive_between(text, len("the agreement"), text.index("violated"))
    text = "the agreement of the sides, signed in march, was violated"  # not right after the term
    assert not _appositive_between(text, len("the agreement"), text.index("violated"))
    text = "the agreement, signed in march; it was violated"  # another break
    assert not _appositive_between(text, len("the agreement"), text.index("violated"))


# -- gaps named by fresh batch 68 (lexicon 2026.12.17, scorer-11) ----------------------------------------
def test_batch_68_troops_ready_to_enter_or_cross_are_a_deployment(scorer):
    enter = scorer.score_sentence("The army chief says troops are ready to enter the breakaway region.")
    assert terms(enter)["troop"].effective_weight > 0 and enter.score >= ESCALATORY_THRESHOLD
    cross = scorer.score_sentence("Thousands of soldiers crossed into the neighbouring province overnight.")
    assert terms(cross)["soldier"].effective_weight > 0


# -- gaps named by fresh batch 69 (lexicon 2026.12.18, scorer-11) ----------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "The junta told the Swiss ambassador to leave the country.",
        "Minsk has ordered two Lithuanian envoys to leave by Friday.",
        "The government gave three Dutch diplomats a week to leave.",
    ],
)
def test_batch_69_an_envoy_ordered_or_given_time_to_leave_is_expelled(scorer, sentence):
    scored = scorer.score_sentence(sentence)
    assert scored.score >= ESCALATORY_THRESHOLD, [(m.term, m.modifiers) for m in scored.matches]


@pytest.mark.parametrize(
    "sentence",
    [
        "The ambassador to leave her post in the spring has been named.",
        "Families were given two weeks to leave the condemned tower block.",
    ],
)
def test_batch_69_leaving_a_post_or_a_flat_is_no_expulsion(scorer, sentence):
    assert scorer.score_sentence(sentence).score == 0


def test_batch_69_a_condemned_building_is_unsafe_and_condemning_its_building_is_rhetoric(scorer):
    building = scorer.score_sentence("Residents of condemned buildings were rehoused.")
    assert terms(building)["condemn"].effective_weight == 0
    settlements = scorer.score_sentence("Protesters condemned the building of new settlements.")
    assert terms(settlements)["condemn"].effective_weight > 0


# -- gaps named by fresh batches 70 and 71 (lexicon 2026.12.19, scorer-11) -------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "The president gave the rebels a final warning to free the captured engineers.",
        "The general issued an ultimatum to the garrison to surrender the port.",
        "Ankara sent the militia a 'last warning' to withdraw its fighters from the ridge.",
    ],
)
def test_batch_70_a_step_named_by_a_warning_or_an_ultimatum_is_demanded_not_taken(scorer, sentence):
    scored = scorer.score_sentence(sentence)
    assert scored.score >= ESCALATORY_THRESHOLD, [(m.term, m.modifiers) for m in scored.matches]
    steps = [m for m in scored.matches if m.polarity < 0]
    assert steps and all(any(label.startswith("ultimatum:") for label in m.modifiers) for m in steps)


def test_batch_70_the_warning_that_names_a_step_still_counts_as_a_warning(scorer):
    for sentence in ("The minister issued a warning to the protesters.", "Rebels freed the engineers."):
        before = scorer.score_sentence(sentence)
        assert not any(label.startswith("ultimatum:") for m in before.matches for label in m.modifiers)
    warned = terms(scorer.score_sentence("The minister issued a 'final warning' to the protesters."))
    assert warned["warn"].effective_weight > 0 and warned["warn"].surface == "warning' to"


@pytest.mark.parametrize(
    "sentence",
    [
        "The envoy delivered a warning to Moscow ahead of the ceasefire talks.",  # an occasion, not a demand
        "The warning to Tehran came over the nuclear deal.",
    ],
)
def test_batch_70_a_warning_before_talks_or_a_deal_demands_neither(scorer, sentence):
    scored = scorer.score_sentence(sentence)
    assert not any(label.startswith("ultimatum:") for m in scored.matches for label in m.modifiers)


@pytest.mark.parametrize(
    "sentence",
    [
        "The central bank kept rates on hold while it weighs the impact of tariffs on growth.",
        "Economists say the tariffs will push up prices for shoppers.",
    ],
)
def test_batch_71_tariffs_weighed_in_a_market_story_are_imposed_by_nobody(scorer, sentence):
    scored = scorer.score_sentence(sentence)
    assert 0 < terms(scored)["tariff"].effective_weight < 0.15
    assert scored.score < ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    [
        "Washington slaps new tariffs on Chinese steel as markets slide.",
        "Beijing raises tariffs on American soybeans, sending prices higher.",
    ],
)
def test_batch_71_tariffs_imposed_or_raised_stay_coercion_in_a_market_story(scorer, sentence):
    assert terms(scorer.score_sentence(sentence))["tariff"].effective_weight >= 0.3


# -- gaps named by fresh batch 72 (lexicon 2026.12.19, scorer-11) ----------------------------------------
def test_batch_72_captives_handed_over_are_released(scorer):
    handed = terms(scorer.score_sentence("The militia handed over the kidnapped engineers to tribal elders."))
    assert handed["kidnap"].effective_weight < 0
    assert "release:handed over" in handed["kidnap"].modifiers


@pytest.mark.parametrize(
    ("sentence", "term"),
    [
        # batch 72: a resignation in business or sport, or over a revelation, is no concession
        ("The football club's manager resigned after a run of six defeats.", "resign"),
        ("The bank's chief executive resigned after the shareholder revolt.", "resign"),
        ("The governor resigned after a newspaper revealed the misuse of public money.", "resign"),
        # batch 74: officials urging the public give advice, not an appeal between parties
        ("Forecasters urged residents to stock up on water.", "urge"),
        ("The ministry urges travellers to check their flights.", "urge"),
        # batch 80: an envoy summoned is no peace actor; a fault blamed accuses nobody; police appeals for witnesses
        ("The envoy was summoned to explain the remarks.", "envoy"),
        ("The airline blamed the delays on a software glitch.", "blame"),
        ("Police appealed for witnesses to come forward.", "appeal for"),
    ],
)
def test_batches_72_74_and_80_a_word_sense_reads_the_term_at_no_weight(scorer, sentence, term):
    assert terms(scorer.score_sentence(sentence))[term].effective_weight == 0


def test_batch_72_a_prime_minister_resigning_under_protest_still_yields(scorer):
    scored = scorer.score_sentence("The prime minister resigned after weeks of mass protests.")
    assert terms(scored)["resign"].effective_weight < 0


def test_batch_72_reports_called_propaganda_are_denied_and_a_propaganda_video_is_propaganda(scorer):
    denied = scorer.score_sentence("The ministry dismissed the reports as propaganda.")
    assert terms(denied)["propaganda"].effective_weight == 0
    video = scorer.score_sentence("State television aired a propaganda video about the drills.")
    assert terms(video)["propaganda"].effective_weight > 0


def test_batch_72_a_contract_or_a_takeover_rejected_is_no_rejection_between_parties(scorer):
    contract = scorer.score_sentence("The striker rejected a new contract.")
    assert terms(contract)["reject"].effective_weight == 0
    plan = scorer.score_sentence("The rebels rejected the peace plan.")
    assert plan.score >= ESCALATORY_THRESHOLD


def test_batch_72_a_regulators_crackdown_on_firms_is_regulation(scorer):
    regulators = terms(scorer.score_sentence("Tech shares slid amid a crackdown by regulators on lending apps."))
    assert 0 < regulators["crackdown"].effective_weight < 0.15
    protesters = scorer.score_sentence("Police launched a violent crackdown on protesters in the capital.")
    assert "sense:" not in " ".join(terms(protesters)["crackdown"].modifiers)
    assert terms(protesters)["crackdown"].effective_weight >= 0.3


# -- gaps named by fresh batch 73 (lexicon 2026.12.19, scorer-11) ----------------------------------------
def test_batch_73_inmates_freed_by_a_jailbreak_are_no_release_and_prisoners_freed_are(scorer):
    jailbreak = scorer.score_sentence("Militants stormed the jail, freeing hundreds of inmates.")
    assert terms(jailbreak)["free"].effective_weight == 0
    assert jailbreak.score >= ESCALATORY_THRESHOLD
    assert terms(scorer.score_sentence("The rebels freed forty prisoners of war."))["free"].effective_weight < 0
    pardoned = scorer.score_sentence("The government freed 2,000 inmates under a pardon.")
    assert terms(pardoned)["free"].effective_weight < 0


@pytest.mark.parametrize(
    "sentence",
    [
        "Pyongyang vows 'overwhelming' response to the naval drills.",
        "Tehran warns of a crushing response to any attack.",
        "The minister vowed a military response.",
    ],
)
def test_batch_73_a_response_vowed_or_warned_of_is_a_threat(scorer, sentence):
    scored = scorer.score_sentence(sentence)
    assert any(m.category == "threat_ultimatum" and "response" in m.surface for m in scored.matches)
    assert scored.score >= ESCALATORY_THRESHOLD


@pytest.mark.parametrize(
    "sentence",
    ["Kyiv lowers the conscription age to 23.", "Parliament votes to lower the draft age."],
)
def test_batch_73_a_lower_draft_age_widens_the_call_up(scorer, sentence):
    scored = scorer.score_sentence(sentence)
    assert [m.category for m in scored.matches] == ["mobilisation"]
    assert scored.score >= ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 74 (lexicon 2026.12.19, scorer-11) ----------------------------------------
def test_batch_74_talks_a_deal_less_ending_came_after_broke_down(scorer):
    scored = scorer.score_sentence("The delegations went home without a deal after two rounds of talks.")
    assert terms(scored)["talks"].effective_weight > 0
    assert "breakdown:without a deal after" in terms(scored)["talks"].modifiers
    before = scorer.score_sentence("The talks ended without a deal after a week.")
    assert "breakdown:without a deal after" in terms(before)["talks"].modifiers


def test_batch_74_urging_a_party_stays_an_appeal(scorer):
    assert terms(scorer.score_sentence("The envoy urged the rebels to return to talks."))["urge"].effective_weight < 0


def test_batch_74_a_cardiac_arrest_holds_nobody(scorer):
    assert scorer.score_sentence("The footballer recovered after a cardiac arrest on the pitch.").score == 0


# -- gaps named by fresh batch 75 (lexicon 2026.12.19, scorer-11) ----------------------------------------
@pytest.mark.parametrize(
    "sentence", ["Tehran tests a new cruise missile.", "The navy tested a hypersonic weapon off the coast."]
)
def test_batch_75_a_weapon_tested_is_a_show_of_force(scorer, sentence):
    scored = scorer.score_sentence(sentence)
    assert terms(scored)["test"].category == "show_of_force" and terms(scored)["test"].effective_weight > 0


@pytest.mark.parametrize(
    "sentence",
    ["NASA tests its new moon rocket.", "Thousands were tested for the virus.", "Pupils sit tests at the new school."],
)
def test_batch_75_a_rocket_a_virus_or_a_school_test_is_no_show_of_force(scorer, sentence):
    assert scorer.score_sentence(sentence).score == 0


def test_batch_75_migrants_driven_at_a_border_are_hybrid_coercion(scorer):
    scored = scorer.score_sentence("Minsk is pushing migrants towards the Lithuanian frontier.")
    assert [m.category for m in scored.matches] == ["show_of_force"]
    assert scored.score >= ESCALATORY_THRESHOLD


def test_batch_75_a_corridor_closed_is_coercion(scorer):
    assert scorer.score_sentence("Baku closed the corridor to the enclave.").score >= ESCALATORY_THRESHOLD


def test_batch_75_a_hostage_proposal_is_a_step_to_release(scorer):
    scored = scorer.score_sentence("The cabinet weighed a new hostage proposal.")
    assert [m.category for m in scored.matches] == ["exchange"]
    assert scored.score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 77 (lexicon 2026.12.19, scorer-11) ----------------------------------------
def test_batch_77_electricity_or_water_cut_is_coercion_not_a_reversal(scorer):
    scored = scorer.score_sentence("Troops cut off water to the besieged town.")
    assert scored.score >= ESCALATORY_THRESHOLD
    assert not any("reversal:" in label for m in scored.matches for label in m.modifiers)


def test_batch_77_fighters_who_will_leave_withdraw(scorer):
    scored = scorer.score_sentence("Under the deal, the foreign fighters will leave the region by March.")
    assert [m.category for m in scored.matches if m.effective_weight][-1:] != ["proxy_militia"]
    assert scored.score <= DEESCALATORY_THRESHOLD


def test_batch_77_captives_who_arrive_somewhere_are_out_and_a_hostage_taking_on_arrival_is_not(scorer):
    home = scorer.score_sentence("The hostages, who had been held in the desert for two years, arrived in Doha.")
    assert terms(home)["hostage"].effective_weight < 0 and "homecoming:arrived in" in terms(home)["hostage"].modifiers
    taken = scorer.score_sentence("The crew were taken hostage when the ship arrived in port.")
    assert taken.score >= ESCALATORY_THRESHOLD
    landed = scorer.score_sentence("Passengers were taken hostage when the flight landed in Kuwait.")
    assert landed.score >= ESCALATORY_THRESHOLD


def test_batch_77_scenes_shot_for_a_film_hit_nobody_and_a_fatal_shooting_on_camera_does(scorer):
    film = scorer.score_sentence("Most of the film's scenes were shot in the desert.")
    assert terms(film)["shoot"].effective_weight == 0
    footage = scorer.score_sentence("Police released camera footage of the fatal shooting.")
    assert terms(footage)["shoot"].effective_weight > 0


def test_batch_77_two_ways_of_saying_captives_are_out_undo_the_captivity_once(scorer):
    for sentence in ("Freed hostages were flown home.", "Freed hostages returned home on Sunday."):
        hostage = terms(scorer.score_sentence(sentence))["hostage"]
        assert hostage.effective_weight < 0 and [m for m in hostage.modifiers if ":" in m and "order" not in m] == [
            "release:freed"
        ]
    lexicon = {
        "version": "t",
        "categories": {"act": {"polarity": 1, "terms": ["hostage"]}},
        "modifiers": {
            "release": {"applies_to": "escalatory", "factor": -0.5, "window": 3, "cues": ["freed"]},
            "freeing": {"applies_to": "escalatory", "factor": -0.5, "window": 3, "cues_after": ["home"],
                        "unless_applied": ["relase"]},
        },
    }
    with pytest.raises(LexiconError, match="unless_applied names no modifier"):
        Scorer(lexicon)
    twice = Scorer({**lexicon, "modifiers": {**lexicon["modifiers"], "freeing": {
        **lexicon["modifiers"]["freeing"], "unless_applied": []}}}).score_sentence("freed hostage home")
    assert twice.matches[0].effective_weight > 0  # without it, the two flips undo each other
    lexicon["modifiers"]["freeing"]["unless_applied"] = ["release"]
    once = Scorer(lexicon).score_sentence("freed hostage home")
    assert once.matches[0].effective_weight < 0 and once.matches[0].modifiers == ("release:freed",)


# -- gaps named by fresh batch 78 (lexicon 2026.12.19, scorer-12) ----------------------------------------
def test_batch_78_peacekeepers_deployed_keep_the_peace_and_troops_deployed_do_not(scorer):
    blue = scorer.score_sentence("Peacekeepers were deployed to the buffer zone.")
    assert terms(blue)["deploy"].effective_weight == 0 and blue.score <= DEESCALATORY_THRESHOLD
    assert scorer.score_sentence("Moscow deployed thousands of troops to the frontier.").score >= ESCALATORY_THRESHOLD


def test_batch_78_a_blast_in_a_coal_pit_is_an_accident(scorer):
    scored = scorer.score_sentence("A blast in a coal pit killed 15 workers.")
    assert all("accident:coal pit" in m.modifiers for m in scored.matches) and abs(scored.score) < ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 79 (lexicon 2026.12.19, scorer-12) ----------------------------------------
def test_batch_79_ground_an_armed_side_controls_and_control_handed_over_or_of_prices(scorer):
    held = scorer.score_sentence("The militants now control most of the valley.")
    assert terms(held)["control"].effective_weight > 0 and held.score >= ESCALATORY_THRESHOLD
    handed = scorer.score_sentence("The rebels handed control of the airport to the army.")
    assert terms(handed)["control"].effective_weight == 0
    prices = scorer.score_sentence("The government wants to control prices.")
    assert prices.score == 0


def test_batch_79_captives_released_a_few_words_on_and_a_video_released_of_them(scorer):
    freed = scorer.score_sentence("The gang released the six nurses it had kidnapped in May.")
    assert "release:released" in terms(freed)["kidnap"].modifiers and freed.score <= DEESCALATORY_THRESHOLD
    video = scorer.score_sentence("The group released a video showing the captured soldiers.")
    assert terms(video)["capture"].effective_weight > 0


def test_batch_79_an_exchange_after_the_term_keeps_its_short_window(scorer):
    documents = scorer.score_sentence("Police detained the officer as he secretly exchanged documents with an agent.")
    assert terms(documents)["detain"].effective_weight > 0
    swapped = scorer.score_sentence("Hostages and prisoners were exchanged on Friday.")
    assert "swapped:exchanged" in terms(swapped)["hostage"].modifiers


def test_batch_79_damages_a_court_awards_are_a_court_outcome(scorer):
    scored = scorer.score_sentence("The court ordered the firm to pay compensation to the victims.")
    assert "verdict:pay compensation" in terms(scored)["victim"].modifiers and scored.score < ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 80 (lexicon 2026.12.19, scorer-12) ----------------------------------------
def test_batch_80_a_withdrawal_from_a_place_and_relations_restored_in_the_passive(scorer):
    towns = scorer.score_sentence("The militia will withdraw from the towns it holds.")
    assert terms(towns)["withdraw from the town"].category == "withdrawal"
    treaty = scorer.score_sentence("Moscow will withdraw from the treaty.")
    assert treaty.score >= ESCALATORY_THRESHOLD  # the breach cue of a treaty left
    ties = scorer.score_sentence("Diplomatic relations will be restored next month.")
    assert [m.category for m in ties.matches] == ["restored_ties"] and ties.score <= DEESCALATORY_THRESHOLD


def test_batch_80_the_visitors_striking_late_is_sport(scorer):
    scored = scorer.score_sentence("The visitors struck twice in the second half.")
    assert abs(scored.score) < ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 81 (lexicon 2026.12.20, scorer-13) ----------------------------------------
def test_batch_81_an_internet_blackout_named_with_its_object_after_it(scorer):
    for text in (
        "The government ordered a blackout of mobile internet before the vote.",
        "Officials blocked internet access in two provinces.",
    ):
        scored = scorer.score_sentence(text)
        assert [m.category for m in scored.matches] == ["sanctions_coercion"], (text, terms(scored))
        assert scored.score >= ESCALATORY_THRESHOLD, text
    # a power cut is no repression
    assert scorer.score_sentence("A blackout hit the city after the storm.").score < ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 82 (lexicon 2026.12.20, scorer-13) ----------------------------------------
def test_batch_82_a_verb_after_and_takes_its_own_object_and_leaves_the_term_before(scorer):
    # "suspended" after "and" suspends the flights, not the recall
    recall = scorer.score_sentence("Both governments recalled their ambassadors and suspended direct flights.")
    assert terms(recall)["recall their ambassador"].modifiers == () and recall.score >= ESCALATORY_THRESHOLD
    # "it" takes the term up again: the truce is what was violated
    truce = scorer.score_sentence("The two sides agreed a truce and violated it within hours.")
    assert "breakdown:violated" in terms(truce)["truce"].modifiers and truce.score >= ESCALATORY_THRESHOLD
    # without "and" the cue still reaches back ("the curfew was lifted")
    lifted = scorer.score_sentence("The curfew was lifted on Monday.")
    assert "reversal:lifted" in terms(lifted)["curfew"].modifiers and lifted.score < 0
    # "band" or "demand" before the cue is no "and"
    assert "reversal:lifted" in terms(scorer.score_sentence("The curfew on the band lifted."))["curfew"].modifiers


def test_batch_82_an_act_promised_until_demands_are_met_and_envoys_recalled_by_any_determiner(scorer):
    target = scorer.score_sentence("The group said it would target any ship heading to the port until its demands were met.")
    assert "until its demands were met" in terms(target) and target.score >= ESCALATORY_THRESHOLD
    for text in ("Both capitals recalled their envoys.", "Rome recalled the ambassador for consultations."):
        assert scorer.score_sentence(text).score >= ESCALATORY_THRESHOLD, text


def test_batch_82_offices_a_pandemic_shut_down_are_no_coercion(scorer):
    assert scorer.score_sentence("The pandemic shut down offices around the world.").score < ESCALATORY_THRESHOLD
    assert scorer.score_sentence("The government shut down the opposition newspaper.").score >= ESCALATORY_THRESHOLD


def test_batch_82_an_own_object_cue_must_be_a_cue_after_of_its_kind():
    lexicon = {
        "version": "t",
        "categories": {"act": {"polarity": 1, "terms": ["recall"]}},
        "modifiers": {
            "reversal": {"applies_to": "escalatory", "factor": -0.5, "window": 3, "cues_after": ["suspended"],
                         "cues_after_own_object": ["suspnded"]},
        },
    }
    with pytest.raises(LexiconError, match="cues_after_own_object names no cue after"):
        Scorer(lexicon)
    lexicon["modifiers"]["reversal"]["cues_after_own_object"] = ["suspended"]
    scorer = Scorer(lexicon)
    assert scorer.score_sentence("recall and suspended flights").matches[0].modifiers == ()
    assert scorer.score_sentence("recall suspended").matches[0].modifiers == ("reversal:suspended",)
    assert scorer.score_sentence("recall and suspended it").matches[0].modifiers == ("reversal:suspended",)


# -- gaps named by fresh batch 83 (PLOVER-style; lexicon 2026.12.20, scorer-13) ----------------------------
def test_batch_83_medical_help_sent_abroad_is_aid_and_internet_services_cut_are_coercion(scorer):
    aid = scorer.score_sentence("Beijing sent a team of doctors and a shipment of ventilators to Rome.")
    assert {m.category for m in aid.matches} == {"humanitarian"} and aid.score <= DEESCALATORY_THRESHOLD
    assert abs(scorer.score_sentence("The hospital is short of doctors and ventilators.").score) < 0.2
    cut = scorer.score_sentence("The authorities cut internet services across the region.")
    assert [m.category for m in cut.matches] == ["sanctions_coercion"] and cut.score >= ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 84 (lexicon 2026.12.20, scorer-13) ----------------------------------------
def test_batch_84_ends_as_ends_what_comes_before_it(scorer):
    truce = scorer.score_sentence("Truce ends as fighting resumes in the south.")
    assert "breakdown:ends as" in terms(truce)["truce"].modifiers
    assert terms(truce)["fight"].effective_weight > 0 and truce.score >= ESCALATORY_THRESHOLD
    war = scorer.score_sentence("The war ends as troops leave the city.")
    assert "reversal:ends as" in terms(war)["war"].modifiers and war.score <= DEESCALATORY_THRESHOLD


def test_batch_84_scare_quotes_inside_a_phrase_and_ground_taken_withdrawn_from(scorer):
    for text in ('The army launched an "anti-terror" operation in the region.',
                 "The army launched an \u201canti-terror\u201d operation in the region."):
        assert scorer.score_sentence(text).score >= ESCALATORY_THRESHOLD, text
    pullout = scorer.score_sentence("The rebels agreed to withdraw from the captured town under the peace plan.")
    assert "withdraw from the captured" in terms(pullout) and pullout.score <= DEESCALATORY_THRESHOLD


def test_batch_84_captives_who_cross_a_border_are_out_but_captors_who_do_bring_nobody_home(scorer):
    out = scorer.score_sentence("The first hostages crossed into Egypt on Friday.")
    assert terms(out)["hostage"].effective_weight < 0
    taken = scorer.score_sentence("The gunmen took hostages and crossed into the neighbouring country.")
    assert taken.score >= ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 86 (lexicon 2026.12.20, scorer-13) ----------------------------------------
def test_batch_86_a_peace_step_a_dispute_is_over_counts_nothing(scorer):
    stall = scorer.score_sentence("Talks in Vienna stall over sanctions relief.")
    assert "disputed:over" in terms(stall)["sanctions relief"].modifiers and stall.score >= ESCALATORY_THRESHOLD
    offered = scorer.score_sentence("Sanctions relief was offered in exchange for a freeze on enrichment.")
    assert offered.score <= DEESCALATORY_THRESHOLD


def test_batch_86_everyday_crises_and_calls_need_an_anchor(scorer):
    for text in ("Scientists warn of a looming water crisis in the region.",
                 "Tech firms battle for talent as the hiring war intensifies.",
                 "The company will hold a call with investors on Monday."):
        scored = scorer.score_sentence(text)
        assert abs(scored.score) < ESCALATORY_THRESHOLD, (text, terms(scored))
    assert scorer.score_sentence("Defence chiefs hold first call since the crisis began.").score <= DEESCALATORY_THRESHOLD
    assert scorer.score_sentence("Fighting intensifies around the besieged city.").score >= ESCALATORY_THRESHOLD


def test_batch_86_a_retrial_or_a_settlement_of_millions_is_a_court_outcome(scorer):
    assert scorer.score_sentence("Court orders retrial in murder case.").score < ESCALATORY_THRESHOLD
    settled = scorer.score_sentence("The city reached a $3 million settlement in the police shooting.")
    assert "settlement" not in terms(settled) and settled.score < ESCALATORY_THRESHOLD


def test_batch_87_roadblocks_removed_are_a_step_back(scorer):
    scored = scorer.score_sentence("The army has begun removing roadblocks and checkpoints around the capital.")
    assert [m.category for m in scored.matches] == ["withdrawal"] and scored.score <= DEESCALATORY_THRESHOLD


# -- gaps named by fresh batch 88 (lexicon 2026.12.20, scorer-13) ----------------------------------------
def test_batch_88_independence_declared_expelled_envoys_let_back_and_voters_rejecting_a_reform(scorer):
    assert scorer.score_sentence("Separatists declare independence in the east.").score >= ESCALATORY_THRESHOLD
    back = scorer.score_sentence("Expelled diplomats allowed to return as relations thaw.")
    assert "reversal:allowed to return" in terms(back)["expel"].modifiers and back.score <= DEESCALATORY_THRESHOLD
    vote = scorer.score_sentence("Voters reject the proposed constitutional reform in a referendum.")
    assert abs(vote.score) < ESCALATORY_THRESHOLD
    assert scorer.score_sentence("Baghdad has rejected the referendum as unconstitutional.").score >= ESCALATORY_THRESHOLD


# -- gaps named by fresh batch 89 (lexicon 2026.12.20, scorer-13) ----------------------------------------
def test_batch_89_fighters_pulled_out_and_a_company_investing_gives_no_aid(scorer):
    out = scorer.score_sentence("The militia has started to pull its fighters out of the city centre.")
    assert "pull its fighters out" in terms(out) and out.score <= DEESCALATORY_THRESHOLD
    assert abs(scorer.score_sentence("The company said it would invest $2 billion in a new battery factory.").score) < 0.2
    assert scorer.score_sentence("China will invest $10 billion in Pakistan's ports.").score <= DEESCALATORY_THRESHOLD
