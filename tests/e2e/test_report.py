"""Analyst HTML report: content and escaping on both databases, then a real headless Chromium run."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from helpers import article, fetch_record

from pipeline.config import PACKAGE_DATA
from pipeline.report import (
    ERROR_RECORDER_JS,
    build_report,
    default_range,
    load_glossary,
    safe_url,
    write_report,
)
from pipeline.signals import compute_signals
from pipeline.store import Warehouse

START = date(2026, 10, 1)
END = START + timedelta(days=9)

XSS_TITLE = "<script>alert(1)</script> Tehran threatens bases"
# Would mark the page if it ever ran: the browser test looks for both marks in the dumped DOM.
BREAKOUT_TITLE = (
    "</script><script>document.documentElement.dataset.pwned='1';document.title='pwned'</script>"
    " Israel strikes"
)
HOSTILE_FEED = "Feed <img src=x onerror=\"document.documentElement.dataset.pwned='feed'\"> & co"
HOSTILE_ACTOR = "<i>X</i>&\"'"
IRN_TEXT = "Tehran threatened to retaliate against American bases."
ISR_TEXT = "Israel vowed to strike again within days."
QAT_TEXT = "Qatar mediated a ceasefire between the parties."
RUS_TEXT = "Moscow warned of consequences."


def _news(key: str, day: date, title: str, sents: list[tuple[str, float, tuple[str, ...], str]], url=None):
    """An article like helpers.article, with our own title, sentence texts and matched terms."""
    base = article(key, day, [(score, actors) for _, score, actors, _ in sents], url=url)
    records = tuple(
        record._replace(
            text=text,
            matches=json.dumps(
                [{"term": term, "category": "threat" if score > 0 else "talks", "effective_weight": score}]
            ),
        )
        for record, (text, score, _, term) in zip(base.sentences, sents, strict=True)
    )
    return replace(base, title=title, sentences=records)


def seed(warehouse: Warehouse) -> None:
    """IRN and ISR escalate (ISR less), RUS barely, QAT de-escalates; every title or feed is hostile
    somewhere. Two alerts are stored directly, one carrying a hostile title in its evidence."""
    feed_a = fetch_record("https://feed-a.example/rss", feed_title=HOSTILE_FEED)
    feed_b = fetch_record("https://feed-b.example/rss", feed_title="Feed B")
    for offset in range(10):
        day = START + timedelta(days=offset)
        peak = 0.9 if offset == 5 else 0.5
        warehouse.store_feed_batch(
            feed_a if offset % 2 else feed_b,
            [
                _news(
                    f"irn-{offset}",
                    day,
                    XSS_TITLE if offset == 5 else f"Iran day {offset}",
                    [(IRN_TEXT if offset == 5 else f"Iran statement {offset}.", peak, ("IRN",), "retaliate")],
                ),
                _news(
                    f"isr-{offset}",
                    day,
                    BREAKOUT_TITLE if offset == 3 else f"Israel day {offset}",
                    [(ISR_TEXT if offset == 3 else f"Israel statement {offset}.", 0.4, ("ISR",), "strike")],
                ),
                _news(
                    f"qat-{offset}",
                    day,
                    f"Qatar day {offset}",
                    [
                        (
                            QAT_TEXT if offset == 2 else f"Qatar talks {offset}.",
                            -0.8 if offset == 2 else -0.3,
                            ("QAT",),
                            "ceasefire",
                        )
                    ],
                ),
            ],
            "r1",
            "v1",
        )
    warehouse.store_feed_batch(
        feed_b,
        [
            _news("rus-1", START, "Russia", [(RUS_TEXT, 0.1, ("RUS",), "warn")]),
            _news(
                "js-link",
                START + timedelta(days=1),
                "Article with a script URL",
                [("Israel traded threats.", 0.45, ("ISR",), "threat")],
                url="javascript:alert(document.domain)",
            ),
            _news(
                "hostile-actor", START, "Odd actor", [("Odd actor escalates.", 0.2, (HOSTILE_ACTOR,), "x")]
            ),
        ],
        "r1",
        "v1",
    )
    compute_signals(warehouse, START, END)
    stamp = datetime(2026, 11, 1, tzinfo=UTC)
    evidence = [
        {
            "text": IRN_TEXT,
            "score": 0.9,
            "matches": [],
            "title": XSS_TITLE,
            "url": "https://news.example/irn-5",
            "feed": "https://feed-a.example/rss",
            "published_at": "2026-10-06T12:00:00+00:00",
        }
    ]
    common = {
        "baseline": 10.0,
        "spread": 2.0,
        "articles": 3,
        "sources": 2,
        "mode": "backtest",
        "created_at": stamp,
        "updated_at": stamp,
    }
    with warehouse.engine.begin() as conn:
        conn.execute(
            warehouse.tables["alerts"].insert(),
            [
                {
                    "day": START + timedelta(days=5),
                    "actor": "IRN",
                    "kind": "escalation",
                    "severity": "critical",
                    "measure": "escalation_index",
                    "value": 22.5,
                    "surprise": 9.0,
                    "evidence": json.dumps(evidence),
                    **common,
                },
                {
                    "day": START + timedelta(days=2),
                    "actor": "QAT",
                    "kind": "deescalation",
                    "severity": "warning",
                    "measure": "deescalation_index",
                    "value": 20.0,
                    "surprise": 5.5,
                    "evidence": "[]",
                    **common,
                },
            ],
        )


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of every <script> (raw text to the parser)."""

    def __init__(self, document: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(document)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data

    def attrs_of(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def chart_actors(document: str) -> list[str]:
    return [a["data-actor"] for a in Tags(document).attrs_of("div") if "data-actor" in a]


# -- content, on SQLite and PostgreSQL ------------------------------------------------------------
def test_report_shows_top_actors_alerts_evidence_and_deescalation(warehouse):
    seed(warehouse)
    document = build_report(warehouse, START, END, top_actors=3)
    # The alerted actors first, the de-escalating QAT included (strongest alert first), then the
    # highest escalation index: ALL has the largest total of all but is never a chosen actor, and
    # RUS is below ISR, so left out.
    assert chart_actors(document) == ["IRN", "QAT", "ISR"]
    assert f"{START.isoformat()}</b> to <b>{END.isoformat()}" in document and "Generated: " in document
    evidence = document.split("id='evidence'")[1].split("id='deescalation'")[0]
    assert html.escape(IRN_TEXT) in evidence and html.escape(ISR_TEXT) in evidence
    assert evidence.index(IRN_TEXT) < evidence.index("Iran statement")  # highest score first
    assert "retaliate" in evidence and "+0.90" in evidence
    assert (
        f'<a href="https://news.example/irn-5" rel="noopener noreferrer nofollow" target="_blank">'
        f"{html.escape(XSS_TITLE)}</a>" in evidence
    )
    assert html.escape(HOSTILE_FEED) in evidence
    alerts = document.split("id='alerts'")[1].split("id='evidence'")[0]
    assert "critical" in alerts and "IRN" in alerts and "QAT" in alerts
    only_irn = build_report(warehouse, START, END, top_actors=1)
    assert chart_actors(only_irn) == ["IRN"]
    assert "QAT" not in only_irn.split("id='alerts'")[1].split("id='evidence'")[0]  # charted actors' alerts
    panel = document.split("id='deescalation'")[1]
    assert panel.index("QAT") < panel.index("</h3>") and html.escape(QAT_TEXT) in panel
    assert "ceasefire" in panel and "-0.800" in panel
    # The chart data carries the alert marker with its severity for the IRN chart.
    figures = json.loads(re.search(r"var figs=(\{.*?\});var config", document).group(1))
    irn = figures["chart-0"]
    assert [t["name"] for t in irn["data"]] == ["escalation index", "de-escalation index", "alert: critical"]
    assert irn["data"][2]["x"] == [(START + timedelta(days=5)).isoformat()]
    assert [a["text"] for a in irn["layout"]["annotations"]] == ["critical"]
    assert len(irn["data"][0]["y"]) == 10  # every day of the range, silent days as 0


def test_report_shows_each_evidence_text_once_with_its_copies(warehouse):
    seed(warehouse)
    wire = "Rockets hit the base hosting US forces."
    day = START + timedelta(days=5)
    for feed, keys in (("https://feed-a.example/rss", ("w1", "w2")), ("https://feed-b.example/rss", ("w3",))):
        warehouse.store_feed_batch(
            fetch_record(feed),
            [_news(key, day, f"Wire {key}", [(wire, 0.95, ("IRN",), "rocket")]) for key in keys],
            "r2",
            "v1",
        )
    compute_signals(warehouse, START, END)
    document = build_report(warehouse, START, END, actors=["IRN"])
    evidence = document.split("id='evidence'")[1].split("id='deescalation'")[0]
    assert evidence.count(html.escape(wire)) == 1
    assert "3 in 2 outlets" in evidence
    assert evidence.count("<tr>") - 1 == 5  # five distinct texts (the header row aside)
    # the alerts table shows the alert's own evidence of its day
    alerts = document.split("id='alerts'")[1].split("id='evidence'")[0]
    assert "top evidence of the day" in alerts and html.escape(IRN_TEXT) in alerts


def _summary(document: str) -> str:
    return document.split('id="summary">')[1].split("</p>")[0]


def test_summary_says_what_rose_since_when_and_the_top_evidence(warehouse):
    seed(warehouse)
    summary = _summary(build_report(warehouse, START, END))
    day = (START + timedelta(days=5)).isoformat()
    assert f"Escalation rose for <b>IRN</b> (since {day}; peak critical, surprise 9.0, on {day})." in summary
    assert "De-escalation rose for <b>QAT</b>" in summary
    assert f"Top evidence: \u201c{html.escape(IRN_TEXT)}\u201d" in summary
    assert "No data on" not in summary  # every day of the range has data
    quiet = _summary(build_report(warehouse, START + timedelta(days=7), END))
    assert quiet.startswith("No actor's signal rose enough for an alert in this range.")


def test_days_without_data_are_gaps_not_zeros(warehouse):
    seed(warehouse)
    document = build_report(warehouse, START, END + timedelta(days=4), actors=["RUS", "IRN"])
    figures = json.loads(re.search(r"var figs=(\{.*?\});var config", document).group(1))
    rus, irn = figures["chart-0"]["data"][0]["y"], figures["chart-1"]["data"][0]["y"]
    assert len(rus) == len(irn) == 14
    assert irn[-4:] == [None] * 4 and None not in irn[:10]  # past the data: gaps
    # RUS is named on the first day only: a later day with data but none about RUS is a quiet 0
    assert rus[0] > 0 and rus[1:10] == [0] * 9 and rus[-4:] == [None] * 4
    later = (END + timedelta(days=1)).isoformat()
    assert f"No data on 4 of the 14 days ({later} to {(END + timedelta(days=4)).isoformat()})" in _summary(
        document
    )


def test_the_measures_and_every_scorer_label_are_explained(warehouse):
    glossary = load_glossary()
    assert {"escalation index", "surprise", "baseline", "severity", "count", "no data"} <= set(
        glossary["measures"]
    )
    lexicon = yaml.safe_load((PACKAGE_DATA / "lexicon.yaml").read_text(encoding="utf-8"))
    # the labels the scorer adds itself: the order, a sense, the anchor test (lexicon `anchor`), a subject
    # actor, a headline's topic label and a fronted background clause (lexicon `salience`)
    kinds = set(lexicon["modifiers"]) | {"order", "sense", "unanchored", "actor", "topic", "fronted"}
    assert kinds <= set(glossary["modifiers"]), sorted(kinds - set(glossary["modifiers"]))
    seed(warehouse)
    document = build_report(warehouse, START, END)
    section = document.split("id='glossary'>")[1].split("</section>")[0]
    assert "How to read this report" in section and "robust z-score" in section


def test_unknown_actor_codes_are_named_not_drawn_flat(warehouse):
    seed(warehouse)
    document = build_report(warehouse, START, END, actors=["IRN", "IRNN", "ZZZ"])
    assert chart_actors(document) == ["IRN"]
    assert "No data for actor code <b>IRNN</b> in this warehouse (did you mean IRN?)" in document
    assert "No data for actor code <b>ZZZ</b> in this warehouse: it is left out." in document


def test_the_default_range_falls_back_to_the_data(warehouse):
    seed(warehouse)
    assert default_range(warehouse, END, days=60) == (END - timedelta(days=59), END, None)
    since, until, note = default_range(warehouse, date(2026, 12, 31), days=60)
    assert (since, until) == (START, END)
    assert note == (
        "no data in the 60 days to 2026-12-31: the report covers the stored data's last days instead, "
        f"{START.isoformat()} to {END.isoformat()}"
    )
    assert default_range(warehouse, date(2026, 12, 31), days=3)[:2] == (END - timedelta(days=2), END)
    document = build_report(warehouse, date(2026, 11, 1), date(2026, 12, 31))
    assert f"The stored data covers {START.isoformat()} to {END.isoformat()}." in document


def test_explicit_actors_are_shown_in_order_and_escaped(warehouse):
    seed(warehouse)
    document = build_report(warehouse, START, END, actors=["QAT", HOSTILE_ACTOR, "IRN"])
    assert chart_actors(document) == ["QAT", HOSTILE_ACTOR, "IRN"]  # the parser unescapes attributes
    assert HOSTILE_ACTOR not in document and html.escape(HOSTILE_ACTOR) in document
    alerts = document.split("id='alerts'")[1].split("id='evidence'")[0]
    assert "warning" in alerts and "QAT" in alerts


def test_hostile_feed_text_appears_only_escaped(warehouse):
    seed(warehouse)
    document = build_report(warehouse, START, END, actors=["IRN", "ISR", HOSTILE_ACTOR])
    for raw in (
        XSS_TITLE,
        BREAKOUT_TITLE,
        HOSTILE_FEED,
        "<script>alert(1)",
        "</script><script>",
        "<img src=x",
    ):
        assert raw not in document, raw
    assert html.escape(XSS_TITLE) in document and html.escape(BREAKOUT_TITLE) in document
    tags = Tags(document)
    # Exactly our three scripts: the error recorder, plotly.js, the drawing code.
    assert len(tags.scripts) == 3 and tags.scripts[0] == ERROR_RECORDER_JS
    assert "pwned" not in tags.scripts[1] and "alert(1)" not in tags.scripts[1]
    assert "<" not in tags.scripts[2] and "\u2028" not in tags.scripts[2]  # JSON escaped for <script>
    assert not [a for _, a in tags.tags if any(k.startswith("on") for k in a)]  # no event handlers
    # Only http(s) becomes a link: the javascript: article is plain text.
    hrefs = [a.get("href") or "" for a in tags.attrs_of("a")]
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)
    evidence = document.split("id='evidence'")[1].split("</section>")[0]
    assert "<td>Article with a script URL</td>" in evidence and "javascript:" not in evidence


def test_report_is_offline(warehouse):
    seed(warehouse)
    tags = Tags(build_report(warehouse, START, END))
    external = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
    for tag, attrs in tags.tags:
        if tag in ("script", "link", "img", "iframe", "embed", "object", "source", "style"):
            for key in ("src", "href", "data"):
                assert not external.match(attrs.get(key) or ""), (tag, attrs)
        assert tag != "link" or "stylesheet" not in (attrs.get("rel") or ""), attrs
    assert all("src" not in attrs for attrs in tags.attrs_of("script"))  # everything inline
    assert len(tags.scripts[1]) > 1_000_000  # plotly.js itself is in the page
    csp = [a["content"] for a in tags.attrs_of("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "connect-src 'none'" in csp[0] and "default-src 'none'" in csp[0]


def test_empty_range_is_a_valid_page_saying_so(warehouse):
    seed(warehouse)
    document = build_report(warehouse, date(2020, 1, 1), date(2020, 1, 31))
    assert document.startswith("<!DOCTYPE html>") and document.rstrip().endswith("</html>")
    assert 'id="no-data"' in document and "No data" in document
    assert len(Tags(document).scripts) == 1  # the recorder only: no plotly.js for no chart


def test_write_report_writes_the_file(warehouse, tmp_path):
    seed(warehouse)
    out = write_report(warehouse, START, END, ["IRN"], tmp_path / "reports" / "r.html")
    assert out == tmp_path / "reports" / "r.html"
    assert chart_actors(out.read_text(encoding="utf-8")) == ["IRN"]
    assert [p.name for p in out.parent.iterdir()] == ["r.html"]  # no partial file left behind


def test_reversed_range_is_refused(tmp_path):
    wh = Warehouse.from_url(f"sqlite:///{tmp_path / 'w.db'}")
    wh.init_schema()
    with pytest.raises(ValueError, match="after"):
        build_report(wh, END, START)
    wh.dispose()


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://news.example/a?b=1", True),
        ("HTTP://news.example/", True),
        ("javascript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("//evil.example/x", False),
        ("/relative", False),
        ("https://", False),
        (None, False),
    ],
)
def test_only_http_urls_become_links(url, ok):
    assert (safe_url(url) is not None) is ok


# -- a real browser ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        reason = "chromium is not installed (apt-get install chromium); the browser test cannot run"
        if os.environ.get("ESCALATION_REQUIRE_BROWSER") == "1":
            pytest.fail(f"ESCALATION_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return binary


def run_chromium(binary: str, tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
    command = [
        binary,
        "--headless",
        "--no-sandbox",  # CI runs as root, where Chromium refuses its sandbox
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        *args,
        page.resolve().as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"chromium exited {result.returncode}: {result.stderr[-2000:]}"
    return result


def html_attrs(dom: str) -> dict[str, str | None]:
    (attrs,) = Tags(dom).attrs_of("html")
    return attrs


def test_error_recorder_and_dom_dump_see_errors_and_injected_script(chromium, tmp_path):
    """The control: without escaping the payload runs and errors are recorded, so the clean result of
    the real report below means something."""
    page = tmp_path / "control.html"
    page.write_text(
        f"<!DOCTYPE html><html><head><script>{ERROR_RECORDER_JS}</script><title>control</title></head>"
        f"<body><p>{BREAKOUT_TITLE}</p><script>console.error('boom');</script>"
        "<script>throw new Error('bang');</script></body></html>",
        encoding="utf-8",
    )
    dom = run_chromium(chromium, tmp_path, page, "--dump-dom").stdout
    attrs = html_attrs(dom)
    errors = json.loads(attrs["data-errors"])
    assert any("boom" in e for e in errors) and any("bang" in e for e in errors), errors
    assert attrs.get("data-pwned") == "1" and "<title>pwned</title>" in dom


def test_report_renders_in_chromium_without_errors_and_hostile_script_never_runs(chromium, tmp_path):
    wh = Warehouse.from_url(f"sqlite:///{tmp_path / 'browser.db'}")
    wh.init_schema()
    seed(wh)
    # three days past the data: the gaps are drawn too
    page = write_report(wh, START, END + timedelta(days=3), None, tmp_path / "report.html")
    wh.dispose()

    dom = run_chromium(chromium, tmp_path, page, "--dump-dom").stdout
    attrs = html_attrs(dom)
    assert attrs.get("data-errors") == "", f"errors in the page: {attrs.get('data-errors')}"
    assert "data-pwned" not in attrs
    assert re.search(r"<title>Escalation signals [^<]*</title>", dom) and "pwned</title>" not in dom
    # plotly draws two main-svg layers per chart; every chosen actor got its chart.
    charts = len(chart_actors(page.read_text(encoding="utf-8")))
    assert charts >= 2 and dom.count('class="main-svg"') >= 2 * charts
    assert re.search(r'class="annotation-text"[^>]*>critical</text>', dom)  # the alert is marked

    shot = tmp_path / "report.png"
    run_chromium(chromium, tmp_path, page, f"--screenshot={shot}", "--window-size=1280,2000")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert struct.unpack(">II", data[16:24]) == (1280, 2000)
