"""Regenerate the fictional demo feeds in samples/feeds/ (deterministic: fixed seed, fixed dates).

    python samples/make_demo_feeds.py

Three invented outlets publish 16 days (2026-10-01 .. 2026-10-16) of original, fictional wire copy:
a steady background of neutral, diplomatic and moderately tense news about many actors, then, from
day 13, a sharp escalation around Iran-backed militias and US forces in Iraq and Syria, and from
day 14 a de-escalation surge around Gaza ceasefire talks mediated by Qatar and Egypt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

OUT = Path(__file__).resolve().parent / "feeds"
START = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 16
DESCRIPTION = "Fictional sample wire copy for the escalation-signals demo"
# `make demo` serves samples/pages/ here for the duration of the run (Makefile DEMO_PAGES_PORT).
PAGES_ORIGIN = "http://127.0.0.1:8765"
TEASER_LINK = f"{PAGES_ORIGIN}/militia-attack-warning.html"
TEASER_TITLE = "US intelligence warns Iran-aligned militias plan more attacks on American troops"
TEASER_TEXT = (
    "American intelligence agencies have picked up signs that armed groups backed by Iran are preparing"
    " to step up their strikes on US troops, according to a report broadcast on Monday."
)
TEASER_WHEN = datetime(2026, 10, 13, 5, 30, tzinfo=UTC)

NEUTRAL = [
    (
        "{city} stocks close higher as oil prices steady",
        [
            "Shares in {city} ended the session higher on Tuesday, led by banks and telecoms.",
            "Brent crude traded in a narrow range as traders waited for fresh inventory data.",
            "Analysts said trading volumes were thin ahead of a public holiday.",
            "The central bank is due to publish its quarterly inflation report next week.",
        ],
    ),
    (
        "{country} prepares for municipal elections",
        [
            "Election officials in {country} said ballot papers had been printed for all districts.",
            "Turnout in the last municipal vote was just under half of registered voters.",
            "Candidates focused on water supply, housing and public transport in their final rallies.",
            "Results are expected within three days of the polls closing.",
        ],
    ),
    (
        "Heatwave grips {city} as authorities open cooling centres",
        [
            "Temperatures in {city} reached 41 degrees Celsius on Sunday, the weather service said.",
            "Municipal workers extended the opening hours of public parks and libraries.",
            "Doctors advised residents to drink water regularly and avoid the midday sun.",
        ],
    ),
    (
        "{country} national team qualifies for regional cup final",
        [
            "{country} beat their rivals two goals to one in a tense semi-final on Saturday night.",
            "The winning goal came in the 87th minute from a substitute striker.",
            "Supporters celebrated in the streets of {city} until the early hours.",
        ],
    ),
    (
        "{country} unveils budget with higher spending on schools",
        [
            "The finance ministry of {country} presented a draft budget to parliament on Monday.",
            "Spending on schools and hospitals rises by six percent under the plan.",
            "Opposition lawmakers said the deficit target was too optimistic.",
        ],
    ),
]

DIPLOMACY = [
    (
        "{a} and {b} foreign ministers meet in {city}",
        [
            "The foreign ministers of {a} and {b} met in {city} on Wednesday to discuss trade and regional security.",
            "Both sides said the talks were constructive and agreed to meet again next month.",
            "Officials signed a memorandum of understanding on energy cooperation.",
        ],
    ),
    (
        "{a} envoy visits {b} to discuss water dispute",
        [
            "An envoy from {a} arrived in {b} for two days of consultations on a long-running water dispute.",
            "Diplomats described the atmosphere as cordial.",
            "No agreement was expected during the visit, officials said.",
        ],
    ),
]

TENSION = [
    (
        "{a} criticises {b} over border incident",
        [
            "The foreign ministry of {a} criticised {b} after a border patrol reported shots fired near a crossing.",
            "Officials in {b} denied that their forces had crossed the line.",
            "Nobody was hurt in the incident, according to local authorities.",
        ],
    ),
    (
        "{a} protests {b} statement on disputed island",
        [
            "{a} summoned the ambassador of {b} to protest remarks about a disputed island.",
            "Analysts said the row was unlikely to affect trade between the two countries.",
        ],
    ),
    (
        "Militia rocket lands near base in {place}, no casualties",
        [
            "A rocket landed in open ground near a base hosting US forces in {place}, officials said.",
            "There were no casualties and no damage was reported.",
            "No group claimed responsibility for the launch.",
        ],
    ),
]

ESCALATION = [
    (
        "Iran-backed militias launch drone attacks on US forces in {place}",
        [
            "Iran-backed militias launched a wave of drone attacks on bases hosting US forces in {place} on {weekday}, US officials said.",
            "Several service members were wounded and one drone struck a fuel depot, the Pentagon said.",
            "The Islamic Resistance in Iraq claimed the attacks and vowed to increase their attacks until American troops withdraw.",
            "The White House warned Iran that it would respond forcefully and hold Tehran responsible.",
            "US officials said intelligence pointed to red flags indicating that matters were escalating quickly.",
        ],
    ),
    (
        "US strikes Kataib Hezbollah sites after attack on troops",
        [
            "US warplanes carried out air strikes on weapons depots used by Kataib Hezbollah in {place}, the Pentagon said.",
            "The strikes came hours after a rocket attack killed two contractors at a base near Baghdad.",
            "Iraq condemned the strikes as a violation of its sovereignty and summoned the US ambassador.",
            "Militia leaders threatened revenge and warned of serious consequences for American forces in the region.",
        ],
    ),
    (
        "Pentagon sends carrier group as militia attacks intensify",
        [
            "The Pentagon ordered a second carrier strike group to the region as militia attacks on US forces intensified.",
            "Officials said troops in Iraq and Syria had been placed on high alert after the latest rocket fire.",
            "Iran's Revolutionary Guard warned that any attack on Iranian soil would be met with a crushing response.",
            "Tehran accused Washington of escalating the conflict and threatened to retaliate against American bases.",
        ],
    ),
    (
        "Deadly rocket barrage hits base in {place}; Washington vows response",
        [
            "A heavy rocket barrage hit a base hosting US forces in {place}, killing three soldiers and wounding dozens, officials said.",
            "It was the deadliest attack on American troops in the region this year.",
            "The US Defense Secretary vowed a decisive response and said all options were on the table.",
            "Iran-backed groups said they would step up attacks and launch further strikes in the coming days.",
        ],
    ),
]

DEESCALATION = [
    (
        "Qatar and Egypt mediate Gaza ceasefire talks",
        [
            "Negotiators from Israel and Hamas held indirect talks in Doha on {weekday}, mediated by Qatar and Egypt.",
            "Mediators said both sides had agreed in principle to a ceasefire and a prisoner exchange.",
            "Egyptian officials said a humanitarian corridor would open to let aid convoys into Gaza.",
            "The United Nations welcomed the progress and called on all parties to exercise restraint.",
        ],
    ),
    (
        "Israel and Hamas agree to extend truce, release hostages",
        [
            "Israel and Hamas agreed to extend a truce by three days after talks brokered by Qatar and Egypt, mediators said.",
            "Under the deal, Hamas will release a group of hostages in exchange for Palestinian prisoners.",
            "Aid trucks carrying food and medical supplies crossed into Gaza through the Rafah crossing.",
            "Diplomats said the pause in fighting could open the way to a lasting peace agreement.",
        ],
    ),
    (
        "Ceasefire holds in Gaza as envoys push for lasting deal",
        [
            "A ceasefire in Gaza held for a second day as envoys from Qatar and Egypt pushed for a lasting agreement.",
            "Israeli officials said troops had pulled back from two neighbourhoods under the truce.",
            "Hamas said it was committed to the deal and would cooperate with the mediators.",
        ],
    ),
]

COUNTRIES = [
    ("Jordan", "Amman"),
    ("Oman", "Muscat"),
    ("Morocco", "Rabat"),
    ("Kuwait", "Kuwait City"),
    ("Tunisia", "Tunis"),
    ("Turkey", "Ankara"),
    ("Lebanon", "Beirut"),
    ("Egypt", "Cairo"),
]
PAIRS = [
    ("Saudi Arabia", "Iran"),
    ("Turkey", "Greece"),
    ("Russia", "Ukraine"),
    ("Israel", "Lebanon"),
    ("Egypt", "Ethiopia"),
    ("Iraq", "Syria"),
    ("Qatar", "the United States"),
    ("Iran", "the United Arab Emirates"),
]
PLACES = ["Iraq", "Syria", "eastern Syria", "northern Iraq", "western Iraq"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass
class Item:
    outlet: int
    when: datetime
    title: str
    paragraphs: list[str]
    slug: str


def _fill(text: str, rng: random.Random, when: datetime) -> str:
    country, city = rng.choice(COUNTRIES)
    a, b = rng.choice(PAIRS)
    return text.format(
        country=country, city=city, a=a, b=b, place=rng.choice(PLACES), weekday=WEEKDAYS[when.weekday()]
    )


def _article(
    template: tuple[str, list[str]], outlet: int, when: datetime, rng: random.Random, n: int
) -> Item:
    title, body = template
    state = rng.getstate()
    title_text = _fill(title, rng, when)
    rng.setstate(state)  # same slot values in the title and the body
    paragraphs = [_fill(p, rng, when) for p in body]
    return Item(outlet, when, title_text, paragraphs, f"{when:%Y%m%d}-{outlet}-{n}")


def build_items() -> list[Item]:
    rng = random.Random(20261001)
    items: list[Item] = []
    for day in range(DAYS):
        base = START + timedelta(days=day)
        for outlet in range(3):
            plan = [NEUTRAL, rng.choice([DIPLOMACY, TENSION, NEUTRAL])]
            if day % 3 == outlet:
                plan.append(TENSION)
            if day >= 12:
                plan += [ESCALATION] * 3
            if day >= 13:
                plan += [DEESCALATION] * 2
            for n, pool in enumerate(plan):
                when = base + timedelta(hours=6 + 2 * n + outlet, minutes=7 * n)
                items.append(_article(pool[(day + outlet + n) % len(pool)], outlet, when, rng, n))
    return items


def _link(item: Item, host: str, tracking: bool) -> str:
    link = f"https://{host}/news/{item.slug}"
    return link + "?utm_source=rss&utm_medium=feed" if tracking else link


BOILERPLATE = [
    "Share it...",
    "Leave a Reply",
    "Your email address will not be published. Required fields are marked *",
]


def rss2(items: list[Item]) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        "<channel><title>Meridian Wire</title><link>https://meridian-wire.example/</link>",
        f"<description>{DESCRIPTION}</description>",
    ]
    for i, item in enumerate(items):
        link = _link(item, "meridian-wire.example", tracking=i % 3 == 0)
        html = "".join(f"<p>{escape(p)}</p>" for p in item.paragraphs + BOILERPLATE)
        html += f"<p>The post {escape(item.title)} appeared first on Meridian Wire.</p>"
        out += [
            "<item>",
            f"<title>{escape(item.title)}</title>",
            f"<link>{escape(link)}</link>",
            f'<guid isPermaLink="false">mw-{item.slug}</guid>' if i % 2 else "",
            f"<pubDate>{format_datetime(item.when)}</pubDate>",
            f"<description>{escape(item.paragraphs[0])}</description>",
            f"<content:encoded><![CDATA[{html}]]></content:encoded>",
            "</item>",
        ]
    out.append("</channel></rss>")
    return "\n".join(line for line in out if line) + "\n"


def atom(items: list[Item]) -> str:
    updated = max(i.when for i in items).isoformat()
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        "<title>Levant Dispatch</title>",
        f"<subtitle>{DESCRIPTION}</subtitle>",
        '<link href="https://levant-dispatch.example/"/>',
        "<id>urn:levant-dispatch:feed</id>",
        f"<updated>{updated}</updated>",
    ]
    for item in items:
        link = _link(item, "levant-dispatch.example", tracking=False)
        html = "".join(f"<p>{escape(p)}</p>" for p in item.paragraphs)
        out += [
            "<entry>",
            f"<title>{escape(item.title)}</title>",
            f'<link href="{escape(link)}"/>',
            f"<id>urn:levant-dispatch:{item.slug}</id>",
            f"<updated>{item.when.isoformat()}</updated>",
            f"<published>{item.when.isoformat()}</published>",
            f'<content type="html">{escape(html)}</content>',
            "</entry>",
        ]
    out.append("</feed>")
    return "\n".join(out) + "\n"


def rdf(items: list[Item], shared: Item) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        '<channel rdf:about="https://gulf-ledger.example/rss"><title>Gulf Ledger Daily</title>',
        f"<link>https://gulf-ledger.example/</link><description>{DESCRIPTION}</description></channel>",
    ]
    for item in [*items, shared]:
        host = "meridian-wire.example" if item is shared else "gulf-ledger.example"
        link = _link(item, host, tracking=item is shared)
        out += [
            f'<item rdf:about="{escape(link)}">',
            f"<title>{escape(item.title)}</title>",
            f"<link>{escape(link)}</link>",
            f"<dc:date>{item.when.isoformat()}</dc:date>",
            f"<description>{escape(' '.join(item.paragraphs))}</description>",
            f"<content:encoded><![CDATA[{''.join(f'<p>{escape(p)}</p>' for p in item.paragraphs)}]]></content:encoded>",
            "</item>",
        ]
    # A teaser-only item (one sentence, no body) whose link is the sample article page, which the
    # demo serves on PAGES_ORIGIN: the page step fetches it and stores the page's sentences.
    out += [
        f'<item rdf:about="{TEASER_LINK}">',
        f"<title>{escape(TEASER_TITLE)}</title>",
        f"<link>{TEASER_LINK}</link>",
        f"<dc:date>{TEASER_WHEN.isoformat()}</dc:date>",
        f"<description>{escape(TEASER_TEXT)}</description>",
        "</item>",
    ]
    out.append("</rdf:RDF>")
    return "\n".join(out) + "\n"


def main() -> None:
    items = build_items()
    by_outlet = [[i for i in items if i.outlet == k] for k in range(3)]
    # One Meridian Wire story is also carried by Gulf Ledger with the same link: stored once.
    # (an item without a guid, whose id is therefore its canonical link in both feeds).
    shared = next(
        i
        for n, i in enumerate(by_outlet[0])
        if n % 2 == 0 and i.when.day >= 13 and "militia" in i.title.lower()
    )
    OUT.mkdir(exist_ok=True)
    (OUT / "meridian_wire.xml").write_text(rss2(by_outlet[0]), encoding="utf-8")
    (OUT / "levant_dispatch.xml").write_text(atom(by_outlet[1]), encoding="utf-8")
    (OUT / "gulf_ledger.xml").write_text(rdf(by_outlet[2], shared), encoding="utf-8")
    print(f"{len(items)} items written to {OUT}")


if __name__ == "__main__":
    main()
