"""Actor gazetteer: the data file's integrity and the tagger's disambiguation rules."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from pipeline.actors import (
    BODY_ROLES,
    PERSON_ROLES,
    RESERVED_CODES,
    Gazetteer,
    GazetteerError,
    load_gazetteer,
)
from pipeline.store import ALL_ACTORS


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "Intelligence points to Iranian-backed factions planning to increase their attacks on US forces.",
            ["IRN", "USA"],
        ),
        ("The continuing conflict between Israel and Hamas.", ["ISR", "HAMAS"]),
        ("A direct link between these factions and the Iranian Revolutionary Guard Corps.", ["IRN", "IRGC"]),
        ("The information points to Qatar's role as a key mediator.", ["QAT"]),
        ("John Kirby, spokesman for the National Security Council, confirmed it.", ["USA"]),
        ("Support flows through the Quds Force.", ["IRGC"]),
        ("Houthi rebels and Hezbollah fighters praised the strike.", ["HOUTHIS", "HEZBOLLAH"]),
        ("Officials in Tehran, Moscow and Kyiv reacted.", ["IRN", "RUS", "UKR"]),
    ],
)
def test_seed_style_sentences(gazetteer, sentence, expected):
    assert gazetteer.codes(sentence) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Papua New Guinea and Guinea-Bissau signed the deal, Guinea did not.", ["PNG", "GNB", "GIN"]),
        ("Romania hosted Malik, a Somali envoy.", ["ROU", "SOM"]),
        ("Omani mediators met in Muscat.", ["OMN"]),
        ("Niger and Nigeria closed the border.", ["NER", "NGA"]),
        ("South Sudan accused Sudan.", ["SSD", "SDN"]),
        ("the Democratic Republic of the Congo and the Republic of the Congo", ["COD", "COG"]),
        ("let us go, said the US envoy", ["USA"]),
        ("He visited Atlanta, Georgia and then Latin America.", []),
        ("Georgia and Russia fought in 2008.", ["GEO", "RUS"]),
        ("chad and turkey are on the menu", []),
        ("Chad and Turkey signed a deal.", ["TCD", "TUR"]),
    ],
)
def test_disambiguation(gazetteer, sentence, expected):
    assert gazetteer.codes(sentence) == expected


def test_mentions_carry_offsets(gazetteer):
    text = "Iran warned Israel."
    for mention in gazetteer.find(text):
        assert text[mention.start : mention.end] == mention.surface


def test_every_state_has_a_unique_alpha3_code(gazetteer):
    states = [a for a in gazetteer.actors.values() if a.kind == "state"]
    assert len(states) >= 193
    assert all(len(a.code) == 3 and a.code.isupper() for a in states)
    assert {"USA", "IRN", "ISR", "PSE", "IRQ", "SYR", "QAT", "RUS", "UKR", "SDN"} <= set(gazetteer.actors)
    nonstate = {a.code for a in gazetteer.actors.values() if a.kind == "nonstate"}
    assert {"HAMAS", "HEZBOLLAH", "HOUTHIS", "IRGC"} <= nonstate
    assert gazetteer.version


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("code,kind,name,aliases\nAAA,state,A,A\nAAA,state,B,B\n", "duplicate code AAA"),
        ("code,kind,name,aliases\nAAA,planet,A,A\n", "unknown kind"),
        ("code,kind,name,aliases\nAAA,state,A,A;;B\n", "empty alias"),
        ("code,kind,name,aliases\nAAA,state,A,Alpha\nBBB,state,B,Alpha\n", "already maps to AAA"),
        ("code,kind,name,aliases\naaa,state,A,A\n", "bad code"),
    ],
)
def test_malformed_gazetteer_errors_name_the_line(tmp_path, body, message):
    path = tmp_path / "actors.csv"
    path.write_text("# version: test\n" + body)
    with pytest.raises(GazetteerError, match=message) as info:
        Gazetteer.from_file(path)
    assert str(path) in str(info.value)


def test_gazetteer_needs_a_version(tmp_path):
    path = tmp_path / "actors.csv"
    path.write_text("code,kind,name,aliases\nAAA,state,A,A\n")
    with pytest.raises(GazetteerError, match="version"):
        Gazetteer.from_file(path)


# --- people and bodies that stand for an actor (actors_people.csv) ---


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Putin ordered more troops to the border overnight.", ["RUS"]),
        ("Nasrallah said the group would answer any strike.", ["HEZBOLLAH"]),
        ("The Pentagon said the drills were routine.", ["USA"]),
        ("Zelenskyy thanked the allies; Lavrov called the talks pointless.", ["UKR", "RUS"]),
        ("Sinwar and Haniyeh rejected the offer.", ["HAMAS"]),
        ("The PLA staged drills around Taiwan.", ["CHN", "TWN"]),
        ("Hemedti's fighters advanced on the city, al-Burhan vowed to retake it.", ["RSF", "SDN"]),
        ("Abiy Ahmed met Debretsion Gebremichael for the first time since the war.", ["ETH", "TPLF"]),
        ("Khamenei praised the Quds Force commander Esmail Qaani.", ["IRN", "IRGC"]),
        ("Erdogan phoned Netanyahu.", ["TUR", "ISR"]),
        ("Mossad and the IDF declined to comment.", ["ISR"]),
        ("Jolani's fighters took the town.", ["HTS"]),
        ("Ahmed al-Sharaa was sworn in.", ["SYR"]),
        ("KCNA said Kim Jong Un watched the launch.", ["PRK"]),
        ("Imran Khan called for protests.", ["PAK"]),
        ("Guterres urged restraint.", ["UN"]),
    ],
)
def test_a_person_or_body_alone_tags_the_actor_it_stands_for(gazetteer, sentence, expected):
    assert gazetteer.codes(sentence) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        # metonymy: a seat of power stands for its state
        ("The Kremlin said the talks had failed.", ["RUS"]),
        ("The White House condemned the attack.", ["USA"]),
        ("Downing Street declined to comment.", ["GBR"]),
        ("Beijing protested.", ["CHN"]),
        # a ministry, an army or an office-holder named with its state
        ("The Israeli army said it had struck a command centre.", ["ISR"]),
        ("Iran's foreign ministry summoned the envoy.", ["IRN"]),
        ("The Russian defence minister visited the front.", ["RUS"]),
        ("The Turkish army shelled the villages.", ["TUR"]),
        # a group's leader stands for the group
        ("Hezbollah's leader warned of war.", ["HEZBOLLAH"]),
    ],
)
def test_seats_ministries_and_armies_that_name_their_state_tag_it(gazetteer, sentence, expected):
    assert gazetteer.codes(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "Kim said she would appeal the verdict.",
        "Lee won the final, Khan finished third.",
        "Singh and Harris led the debate in May.",
        "Austin is the capital of Texas.",
        "Abbas, a shopkeeper, said prices had doubled.",
        "Johnson scored twice for the visitors.",
        "Park and Moon were named in the squad.",
    ],
)
def test_ambiguous_surnames_alone_do_not_tag(gazetteer, sentence):
    assert gazetteer.codes(sentence) == []


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Willi Orban headed the winner.", []),
        ("Viktor Orban headed to the summit.", ["HUN"]),
        ("A King Charles spaniel won the show.", []),
        ("King Charles opened parliament.", ["GBR"]),
        ("Latin America watched Lula closely.", ["BRA"]),
        ("The Sudan People's Liberation Army split in 2013.", []),
        ("Brazil's Workers' Party won; the Korean Workers' Party of Korea met.", ["BRA", "PRK"]),
    ],
)
def test_block_phrases_still_win_over_people(gazetteer, sentence, expected):
    assert gazetteer.codes(sentence) == expected


def test_a_mention_through_a_person_says_who_it_was(gazetteer):
    by_country, by_person, by_body = gazetteer.find("Russia said Putin met the PLA chief.")
    assert (by_country.actor, by_country.via) == ("RUS", None)
    assert by_person.actor == "RUS" and by_person.via.name == "Vladimir Putin"
    assert by_person.via.role == "head_of_state" and not by_person.via.is_body
    assert by_body.actor == "CHN" and by_body.via.is_body and by_body.via.role == "armed_forces"


def test_actors_expose_their_people_and_bodies(gazetteer):
    russia = {rep.name: rep for rep in gazetteer.actors["RUS"].representatives}
    assert russia["Vladimir Putin"].actor == "RUS" and "Putin" in russia["Vladimir Putin"].aliases
    assert russia["Sergei Shoigu"].terms == ((date(2012, 1, 1), date(2024, 12, 31)),)
    assert gazetteer.representatives["Hassan Nasrallah"].actor == "HEZBOLLAH"
    assert {rep.actor for rep in gazetteer.representatives.values()} <= set(gazetteer.actors)
    roles = {rep.role for rep in gazetteer.representatives.values()}
    assert {"head_of_state", "head_of_government", "foreign_minister", "defence_minister", "leader"} <= roles
    assert roles <= PERSON_ROLES | BODY_ROLES


def test_the_all_pseudo_actor_is_never_a_code(gazetteer):
    assert ALL_ACTORS in RESERVED_CODES
    assert ALL_ACTORS not in gazetteer.actors
    assert ALL_ACTORS not in gazetteer.codes("ALL of them met in Kyiv: ALL parties agreed.")


def test_no_bare_common_surname_is_an_alias(gazetteer):
    aliases = {alias for rep in gazetteer.representatives.values() for alias in rep.aliases}
    common = {"Kim", "Lee", "Khan", "Singh", "Harris", "May", "Austin", "Abbas", "Johnson", "Wang", "Li"}
    assert not aliases & (common | {"Moon", "Park", "Sharif", "Wallace", "Sullivan", "Bennett", "Cameron"})


def test_terms_in_office_follow_each_other(gazetteer):
    for rep in gazetteer.representatives.values():
        for (_, end), (start, _) in pairwise(rep.terms):
            assert end is not None and start is not None and end < start, rep.name


@pytest.mark.parametrize(
    ("sentence", "day", "expected"),
    [
        ("Trump spoke at a rally.", None, ["USA"]),
        ("Trump spoke at a rally.", date(2020, 6, 1), ["USA"]),
        ("Trump spoke at a rally.", date(2022, 6, 1), []),
        ("Trump spoke at a rally.", date(2025, 6, 1), ["USA"]),
        ("Biden named his cabinet.", date(2021, 1, 19), []),
        ("Biden named his cabinet.", date(2021, 1, 20), ["USA"]),
        ("Hassan Nasrallah's funeral drew crowds to Beirut.", date(2025, 2, 23), ["LBN"]),
        ("The Pentagon and Moscow traded warnings.", date(1990, 1, 1), ["USA", "RUS"]),
        ("Putin and Assad met; Lebanon's Joseph Aoun called.", date(2023, 3, 1), ["RUS", "SYR", "LBN"]),
    ],
)
def test_on_a_day_a_person_tags_only_inside_their_terms(gazetteer, sentence, day, expected):
    assert gazetteer.codes(sentence, on=day) == expected
    assert list(dict.fromkeys(m.actor for m in gazetteer.find(sentence, on=day))) == expected


def test_a_mention_out_of_office_still_consumes_its_span(gazetteer):
    # "Hassan Nasrallah" is one match: dropped after his death, it does not fall back to a shorter alias.
    assert gazetteer.find("Hassan Nasrallah spoke.", on=date(2025, 1, 1)) == []
    assert [m.surface for m in gazetteer.find("Hassan Nasrallah spoke.")] == ["Hassan Nasrallah"]


ACTOR_FILE = "# version: test\n# people: people.csv\ncode,kind,name,aliases\nAAA,state,Alpha,Alpha\n"
PEOPLE_HEADER = "actor,role,name,aliases,from,to,note\n"


@pytest.mark.parametrize(
    ("people_rows", "message"),
    [
        ("ZZZ,leader,Zed Zedson,Zedson,,,\n", "unknown actor code 'ZZZ'"),
        ("AAA,emperor,Zed Zedson,Zedson,,,\n", "unknown role 'emperor'"),
        ("AAA,leader,Zed Zedson,Alpha,,,\n", "alias 'Alpha' already maps to AAA"),
        ("AAA,leader,Zed Zedson,Zedson,,,\nAAA,spokesperson,Zed Zedson,Zed,,,\n", "duplicate name"),
        ("AAA,leader,Zed Zedson,Zedson;Zed,,,\nAAA,spokesperson,Yan Yanson,Zed,,,\n", "alias 'Zed'"),
        ("AAA,leader,Zed Zedson,Zedson,20x1,,\n", "bad 'from' '20x1'"),
        ("AAA,leader,Zed Zedson,Zedson,2021-02-30,,\n", "bad 'from' '2021-02-30'"),
        ("AAA,leader,Zed Zedson,Zedson,2022,2020,\n", "'to' 2020 is before 'from' 2022"),
        ("AAA,leader,Zed Zedson,Zedson,2019;2022,2020,\n", "2 'from' values but 1 'to' values"),
        ("AAA,block,Zed phrases,Zedson Street,,,\n", "block row's actor"),
        ("AAA,leader,,Zedson,,,\n", "empty name"),
        ("AAA,leader,Zed Zedson,Zedson,,,,extra\n", "at most 7 columns"),
        ("AAA,leader,Zed Zedson,Zedson;;Z,,,\n", "empty alias"),
    ],
)
def test_malformed_people_rows_name_the_line(tmp_path, people_rows, message):
    (tmp_path / "actors.csv").write_text(ACTOR_FILE)
    people = tmp_path / "people.csv"
    people.write_text("# a comment\n" + PEOPLE_HEADER + people_rows)
    with pytest.raises(GazetteerError, match=message) as info:
        Gazetteer.from_file(tmp_path / "actors.csv")
    assert f"{people}:{2 + len(people_rows.splitlines())}" in str(info.value)


def test_a_people_file_that_is_missing_or_has_a_bad_header_is_named(tmp_path):
    (tmp_path / "actors.csv").write_text(ACTOR_FILE)
    with pytest.raises(GazetteerError, match="cannot read gazetteer .*people.csv"):
        Gazetteer.from_file(tmp_path / "actors.csv")
    (tmp_path / "people.csv").write_text("actor,kind,name,aliases\n")
    with pytest.raises(GazetteerError, match="people.csv:1: header must be actor,role,name,aliases"):
        Gazetteer.from_file(tmp_path / "actors.csv")


def test_a_small_people_file_loads_into_the_same_automaton(tmp_path):
    (tmp_path / "actors.csv").write_text(ACTOR_FILE)
    (tmp_path / "people.csv").write_text(
        PEOPLE_HEADER
        + "AAA,head_of_state,Zed Zedson,Zed Zedson;Zedson,2019,,\n-,block,not him,Zedson Street,,,\n"
    )
    gazetteer = Gazetteer.from_file(tmp_path / "actors.csv")
    assert gazetteer.codes("Zedson spoke in Alpha.") == ["AAA"]
    assert gazetteer.codes("They met on Zedson Street.") == []
    assert gazetteer.actors["AAA"].representatives[0].terms == ((date(2019, 1, 1), None),)
    assert gazetteer.codes("Zedson spoke.", on=date(2018, 12, 31)) == []


def test_the_reserved_code_is_refused(tmp_path):
    path = tmp_path / "actors.csv"
    path.write_text("# version: test\ncode,kind,name,aliases\nALL,state,All,Allland\n")
    with pytest.raises(GazetteerError, match="reserved") as info:
        Gazetteer.from_file(path)
    assert f"{path}:3" in str(info.value)
