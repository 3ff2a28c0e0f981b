"""Actor gazetteer: the data file's integrity and the tagger's disambiguation rules."""

from __future__ import annotations

import pytest

from pipeline.actors import Gazetteer, GazetteerError, load_gazetteer


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
