"""Analyst report: one self-contained, offline HTML page over a date range of the warehouse.

What it shows: a summary paragraph (what rose, since when, the top evidence, the days without
data), per chosen actor an interactive plotly chart of the daily escalation and de-escalation
indexes with the stored alerts marked (a day without any stored data is a gap, not a zero), the
alerts with their own evidence, the top distinct evidence sentences per actor, a de-escalation
panel, and at the end the measures and scorer labels in plain words
(pipeline/data/report_glossary.yaml). plotly.js is inlined, so the file opens without network.

Feed text is untrusted. Every warehouse string is HTML-escaped (html.escape), text handed to plotly
is escaped too (plotly renders a subset of HTML in labels), data inside <script> is JSON with
`<`, `>`, `&` and U+2028/2029 escaped, and only http(s) URLs become links. As a second line of
defence a Content-Security-Policy allows only the page's own inline scripts (by hash) and no
network at all, so even a missed escape could not run injected script or phone home.
"""

from __future__ import annotations

import base64
import difflib
import functools
import hashlib
import html
import json
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from pipeline.clock import now_utc
from pipeline.config import PACKAGE_DATA
from pipeline.store import ALL_ACTORS, Alert, Warehouse

GLOSSARY_FILE = PACKAGE_DATA / "report_glossary.yaml"
DEFAULT_DAYS = 60
EVIDENCE_PER_ACTOR = 5
DEESCALATION_SENTENCES = 3
MAX_ANNOTATIONS = 20  # past this many alerts a chart keeps only the markers, or labels hide the lines
SEVERITY_COLORS = {"watch": "#e0a100", "warning": "#e8590c", "critical": "#c92a2a"}

# The very first script of the page: records JS errors, console.error calls and CSP violations into
# <html data-errors="...">, so a headless browser's dumped DOM tells whether the page ran cleanly.
ERROR_RECORDER_JS = (
    "(function(){var d=document.documentElement,errs=[];"
    "function rec(m){errs.push(String(m));d.setAttribute('data-errors',JSON.stringify(errs));}"
    "d.setAttribute('data-errors','');"
    "window.onerror=function(msg,src,line,col){rec('error: '+msg+' at '+line+':'+col);};"
    "window.addEventListener('unhandledrejection',function(e){"
    "var r=e.reason;rec('unhandled rejection: '+(r&&r.message?r.message:r));});"
    "document.addEventListener('securitypolicyviolation',function(e){"
    "rec('csp: '+e.violatedDirective+' '+e.blockedURI);});"
    "var orig=console.error;console.error=function(){"
    "rec('console.error: '+Array.prototype.map.call(arguments,String).join(' '));"
    "return orig.apply(console,arguments);};})();"
)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;
padding:1rem 1.5rem;color:#212529;line-height:1.4}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #dee2e6;padding-bottom:.3rem}
.meta{color:#495057;margin:.2rem 0}.empty{padding:1rem;background:#f8f9fa;border:1px solid #dee2e6}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0 1rem}
th,td{border:1px solid #dee2e6;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f1f3f5}td.num{text-align:right;white-space:nowrap}td.day{white-space:nowrap}
.chart{width:100%;height:360px;margin-bottom:1rem}.terms span{display:inline-block;background:#fff3bf;
border-radius:3px;padding:0 .3rem;margin:0 .2rem .2rem 0}.terms small{color:#868e96}
.summary{font-size:1.05rem;background:#f8f9fa;border-left:4px solid #c92a2a;padding:.6rem 1rem}
.warn{color:#c92a2a}dl.glossary dt{font-weight:bold;margin-top:.4rem}dl.glossary dd{margin-left:1rem}
.sev-watch{color:#b08000}.sev-warning{color:#e8590c}.sev-critical{color:#c92a2a;font-weight:bold}
"""


@dataclass(frozen=True)
class _Sentence:
    day: date
    actor: str
    score: float
    text: str
    matches: list[dict[str, Any]]
    title: str
    url: str | None
    feed: str
    copies: int = 1  # items that carried this text (wire copies), shown once
    outlets: int = 1  # distinct outlets among them (feeds.outlet)


# -- escaping -------------------------------------------------------------------------------------
def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _json_for_script(text: str) -> str:
    """JSON text made safe inside <script>: `<`, `>`, `&` can only occur inside JSON strings, where
    their \\u escapes mean the same, so `</script>` or `<!--` in feed text cannot end the block."""
    for raw, escaped in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def safe_url(url: str | None) -> str | None:
    """The URL if it is absolute http(s) with a host, else None (javascript:, data:, relative...)."""
    if not url:
        return None
    url = url.strip()
    if any(ord(c) < 0x20 or c == "\x7f" for c in url):
        return None  # browsers drop control characters, which could turn the scheme into another
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _link(url: str | None, text: str) -> str:
    href = safe_url(url)
    if href is None:
        return _e(text)
    return f'<a href="{_e(href)}" rel="noopener noreferrer nofollow" target="_blank">{_e(text)}</a>'


# -- reads ----------------------------------------------------------------------------------------
def _sentences(
    warehouse: Warehouse, since: date, until: date, actor: str, limit: int, *, escalatory: bool
) -> list[_Sentence]:
    """Highest (escalatory) or lowest (de-escalatory) scored sentences about actor in the range."""
    rows = warehouse.range_sentences(since, until, actor, limit, escalatory=escalatory)
    out = []
    for r in rows:
        try:
            matches = json.loads(r["matches"] or "[]")
        except ValueError:
            matches = []  # a damaged row should not cost the whole report
        out.append(
            _Sentence(
                day=r["published_day"],
                actor=actor,
                score=float(r["score"]),
                text=r["text"],
                matches=[m for m in matches if isinstance(m, dict)] if isinstance(matches, list) else [],
                title=r["title"] or "(untitled)",
                url=r["url"],
                feed=r["feed_title"] or r["feed_url"],
                copies=int(r.get("copies") or 1),
                outlets=int(r.get("outlets") or 1),
            )
        )
    return out


# -- figures --------------------------------------------------------------------------------------
def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def _alert_hover(alert: Alert) -> str:
    """Hover text for plotly, which renders a subset of HTML: every value is escaped, joined by <br>."""
    lines = [
        f"<b>{_e(alert.severity)}</b> {_e(alert.kind)} alert, {_e(alert.actor)}, {alert.day.isoformat()}",
        f"{_e(alert.measure)} = {alert.value:.1f} (baseline {alert.baseline:.1f}, surprise {alert.surprise:.1f})",
        f"{alert.articles} articles, {alert.sources} sources, {_e(alert.mode)}",
    ]
    if alert.evidence:
        top = str(alert.evidence[0].get("text", ""))
        lines.append(_e(top if len(top) <= 140 else top[:137] + "..."))
    return "<br>".join(lines)


def _figure_json(
    actor: str,
    days: list[date],
    series: dict[date, Any],
    actor_alerts: list[Alert],
    data_days: set[date] | None = None,
) -> str:
    import plotly.graph_objects as go
    import plotly.io as pio

    x = [d.isoformat() for d in days]

    def value(day: date, measure: str) -> float | None:
        if day in series:
            return float(series[day][measure])
        # A day with stored articles but none about the actor is a silent day, 0, as the detector
        # counts it; a day without any stored data is a gap (None): nothing is known about it.
        return 0.0 if data_days is None or day in data_days else None

    esc = [value(d, "escalation_index") for d in days]
    de = [value(d, "deescalation_index") for d in days]
    fig = go.Figure()
    for values, name, color in (
        (esc, "escalation", "#c92a2a"),
        (de, "de-escalation", "#1c7ed6"),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=values,
                name=f"{name} index",
                mode="lines+markers",
                line={"color": color},
                hovertemplate=f"%{{x|%Y-%m-%d}}: %{{y:.1f}}<extra>{name}</extra>",
                connectgaps=False,  # no line across days without data
            )
        )
    index_by_day = {
        "escalation": dict(zip(days, esc, strict=True)),
        "deescalation": dict(zip(days, de, strict=True)),
    }
    by_severity: dict[str, list[Alert]] = defaultdict(list)
    for alert in actor_alerts:
        by_severity[alert.severity].append(alert)
    annotations = []
    for severity, group in sorted(
        by_severity.items(),
        key=lambda kv: list(SEVERITY_COLORS).index(kv[0]) if kv[0] in SEVERITY_COLORS else 99,
    ):
        ys = [_or(index_by_day.get(a.kind, index_by_day["escalation"]).get(a.day), a.value) for a in group]
        fig.add_trace(
            go.Scatter(
                x=[a.day.isoformat() for a in group],
                y=ys,
                name=f"alert: {_e(severity)}",
                mode="markers",
                marker={
                    "size": 14,
                    "color": SEVERITY_COLORS.get(severity, "#495057"),
                    "symbol": ["triangle-down" if a.kind == "deescalation" else "triangle-up" for a in group],
                    "line": {"width": 1, "color": "#212529"},
                },
                hovertext=[_alert_hover(a) for a in group],
                hoverinfo="text",
            )
        )
        for alert, y in zip(group, ys, strict=True):
            annotations.append(
                {
                    "x": alert.day.isoformat(),
                    "y": y,
                    "text": _e(severity),
                    "showarrow": True,
                    "arrowhead": 2,
                    "ax": 0,
                    "ay": -30 if alert.kind != "deescalation" else 30,
                    "font": {"color": SEVERITY_COLORS.get(severity, "#495057")},
                }
            )
    fig.update_layout(
        title={"text": _e(actor)},
        template="plotly_white",
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        xaxis={"type": "date", "range": [x[0], x[-1]] if len(x) > 1 else None},
        yaxis={"title": {"text": "index"}, "rangemode": "tozero"},
        annotations=annotations[:MAX_ANNOTATIONS],
        hovermode="closest",
    )
    return pio.to_json(fig, validate=True, engine="json")


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


# -- HTML pieces ----------------------------------------------------------------------------------
def _terms(matches: list[dict[str, Any]]) -> str:
    parts = []
    for m in matches:
        term = m.get("term") or m.get("surface")
        if not term:
            continue
        details = [str(m["category"])] if m.get("category") else []
        weight = m.get("effective_weight")
        if isinstance(weight, int | float):
            details.append(f"{weight:+.2f}")
        modifiers = m.get("modifiers")
        if isinstance(modifiers, list) and modifiers:
            details.append(", ".join(str(x) for x in modifiers))
        small = f" <small>{_e(' '.join(details))}</small>" if details else ""
        parts.append(f"<span>{_e(term)}{small}</span>")
    return f'<td class="terms">{"".join(parts)}</td>'


def _copies(copies: int, outlets: int) -> str:
    """'1', or '4 in 3 outlets' when the same text came in several items."""
    if copies <= 1:
        return "1"
    return f"{copies} in {outlets} outlet{'s' if outlets != 1 else ''}"


def _sentence_table(rows: list[_Sentence], *, with_actor: bool = True) -> str:
    head = "<tr><th>day</th>" + ("<th>actor</th>" if with_actor else "")
    head += "<th>score</th><th>sentence</th><th>copies</th><th>matched terms</th><th>article</th><th>feed</th></tr>"
    body = []
    for r in rows:
        body.append(
            "<tr>"
            f'<td class="day">{r.day.isoformat()}</td>'
            + (f"<td>{_e(r.actor)}</td>" if with_actor else "")
            + f'<td class="num">{r.score:+.3f}</td>'
            f"<td>{_e(r.text)}</td>"
            f'<td class="num" title="items carrying this text, and their outlets">{_copies(r.copies, r.outlets)}</td>'
            f"{_terms(r.matches)}"
            f"<td>{_link(r.url, r.title)}</td>"
            f"<td>{_e(r.feed)}</td>"
            "</tr>"
        )
    return f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


def _alert_evidence(alert: Alert) -> str:
    """The alert's own strongest distinct sentence (of its day), with its copies and a link."""
    if not alert.evidence:
        return "<td></td>"
    top = alert.evidence[0]
    text = str(top.get("text", ""))
    copies = _copies(int(top.get("copies") or 1), int(top.get("outlets") or 1))
    more = f" <small>({_e(copies)} items)</small>" if copies != "1" else ""
    source = top.get("outlet") or top.get("feed") or ""
    return f"<td>{_e(text)}{more}<br><small>{_link(top.get('url'), str(top.get('title') or source))}</small></td>"


def _alerts_table(rows: list[Alert]) -> str:
    if not rows:
        return '<p class="empty">No alerts for these actors in this range.</p>'
    body = "".join(
        "<tr>"
        f'<td class="day">{a.day.isoformat()}</td><td>{_e(a.actor)}</td><td>{_e(a.kind)}</td>'
        f'<td class="sev-{_e(a.severity)}">{_e(a.severity)}</td><td>{_e(a.measure)}</td>'
        f'<td class="num">{a.value:.1f}</td><td class="num">{a.baseline:.1f}</td>'
        f'<td class="num">{a.surprise:.1f}</td><td class="num">{a.articles}</td>'
        f'<td class="num">{a.sources}</td><td>{_e(a.mode)}</td>{_alert_evidence(a)}'
        "</tr>"
        for a in rows
    )
    head = (
        "<tr><th>day</th><th>actor</th><th>kind</th><th>severity</th><th>measure</th><th>value</th>"
        "<th>baseline</th><th>surprise</th><th>articles</th><th>sources</th><th>mode</th>"
        "<th>top evidence of the day</th></tr>"
    )
    return f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def _page(title: str, header: str, body: str, scripts: Sequence[str]) -> str:
    """The document. The error recorder is the first script, before the CSP meta, so it also sees CSP
    violations; the CSP allows only this page's scripts (by hash) and no network. The plotting
    scripts come last so the chart containers exist when they run."""
    all_scripts = [ERROR_RECORDER_JS, *scripts]
    csp = (
        "default-src 'none'; "
        f"script-src {' '.join(_csp_hash(s) for s in all_scripts)}; "
        "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )
    tail = "\n".join(f"<script>{s}</script>" for s in scripts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<script>{ERROR_RECORDER_JS}</script>\n"
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"{header}\n{body}\n{tail}\n</body>\n</html>\n"
    )


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    # Never true for the shipped bundle; guards a future one against ending its own <script>.
    return js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


# -- choices: the range, the actors ---------------------------------------------------------------
def default_range(
    warehouse: Warehouse, today: date, days: int = DEFAULT_DAYS
) -> tuple[date, date, str | None]:
    """The `days` days up to `today`; when they hold no signals, the last `days` days that have
    data instead, with a note saying so (None when the usual window was kept)."""
    since, until = today - timedelta(days=days - 1), today
    if warehouse.has_signals(since, until):
        return since, until, None
    bounds = warehouse.signal_day_bounds()
    if bounds is None:
        return since, until, None
    first, last = bounds
    since = max(first, last - timedelta(days=days - 1))
    return (
        since,
        last,
        (
            f"no data in the {days} days to {today.isoformat()}: the report covers the stored data's "
            f"last days instead, {since.isoformat()} to {last.isoformat()}"
        ),
    )


def unknown_actors(warehouse: Warehouse, actors: Sequence[str]) -> dict[str, list[str]]:
    """The codes of `actors` that have no signal at all in the warehouse, each with the known codes
    closest to it (a typo's likely meaning)."""
    known = set(warehouse.first_signal_days())
    return {
        actor: difflib.get_close_matches(actor, sorted(known), n=3, cutoff=0.6)
        for actor in actors
        if actor not in known
    }


def choose_actors(
    warehouse: Warehouse, since: date, until: date, alerts: Sequence[Alert], limit: int
) -> list[str]:
    """The default actors: those with the strongest alerts of the range, of either kind (by peak
    surprise), then those with the highest total escalation index, `limit` in all, never ALL. When
    the range has de-escalation alerts, at least one of their actors is among them."""
    peak: dict[str, float] = {}
    for alert in alerts:
        if alert.actor != ALL_ACTORS:
            peak[alert.actor] = max(peak.get(alert.actor, float("-inf")), alert.surprise)
    chosen = sorted(peak, key=lambda actor: (-peak[actor], actor))[:limit]
    for actor, _ in warehouse.top_actors("escalation_index", since, until, limit):
        if len(chosen) >= limit:
            break
        if actor not in chosen:
            chosen.append(actor)
    calming = sorted(
        (a for a in alerts if a.kind == "deescalation" and a.actor != ALL_ACTORS),
        key=lambda a: (-a.surprise, a.actor),
    )
    if calming and not any(a.actor in chosen for a in calming) and len(chosen) > 1:
        chosen[-1] = calming[0].actor
    return chosen


# -- the summary and the glossary -----------------------------------------------------------------
@functools.cache
def load_glossary(path: Path = GLOSSARY_FILE) -> dict[str, dict[str, str]]:
    """{"measures": {name: explanation}, "modifiers": {kind: explanation}} from the glossary file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        part: {str(k): str(v) for k, v in (data.get(part) or {}).items()}
        for part in ("measures", "modifiers")
    }


def _spans(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) spans."""
    spans: list[tuple[date, date]] = []
    for day in sorted(days):
        if spans and day == spans[-1][1] + timedelta(days=1):
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


def _span_text(spans: Sequence[tuple[date, date]]) -> str:
    return ", ".join(a.isoformat() if a == b else f"{a.isoformat()} to {b.isoformat()}" for a, b in spans)


def _rise(kind: str, alerts: Sequence[Alert]) -> tuple[str, Alert | None]:
    """One sentence on the actors whose `kind` rose (strongest first, up to three named), and the
    strongest alert of that kind."""
    by_actor: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        if alert.kind == kind and alert.actor != ALL_ACTORS:
            by_actor[alert.actor].append(alert)
    if not by_actor:
        return "", None
    ranked = sorted(by_actor.values(), key=lambda group: (-max(a.surprise for a in group), group[0].actor))
    parts = []
    for group in ranked[:3]:
        peak = max(group, key=lambda a: a.surprise)
        first = min(a.day for a in group)
        parts.append(
            f"<b>{_e(peak.actor)}</b> (since {first.isoformat()}; peak {_e(peak.severity)}, "
            f"surprise {peak.surprise:.1f}, on {peak.day.isoformat()})"
        )
    more = f" and {len(ranked) - 3} other actor{'s' if len(ranked) > 4 else ''}" if len(ranked) > 3 else ""
    label = "Escalation" if kind == "escalation" else "De-escalation"
    strongest = max((a for group in ranked for a in group), key=lambda a: a.surprise)
    return f"{label} rose for {', '.join(parts)}{more}.", strongest


def _summary(alerts: Sequence[Alert], days: Sequence[date], data_days: set[date], note: str | None) -> str:
    """The paragraph at the top: what rose, since when, the top evidence, and the days without data."""
    sentences = []
    if note:
        sentences.append(_e(note[0].upper() + note[1:]) + ".")
    rose, strongest = _rise("escalation", alerts)
    calmed, calmest = _rise("deescalation", alerts)
    if not rose and not calmed:
        sentences.append("No actor's signal rose enough for an alert in this range.")
    sentences += [x for x in (rose, calmed) if x]
    if rose or calmed:
        sentences.append(
            "(Surprise: how many times its usual day-to-day variation the day stood above the actor's "
            "usual level; 5 is rare, 8 exceptional. Every measure is explained at the end of the page.)"
        )
    top = strongest or calmest
    if top is not None and top.evidence:
        item = top.evidence[0]
        copies = _copies(int(item.get("copies") or 1), int(item.get("outlets") or 1))
        where = ", ".join(
            str(x) for x in (item.get("outlet") or item.get("feed"), top.day.isoformat()) if x
        ) + (f", {copies} items" if copies != "1" else "")
        sentences.append(f"Top evidence: \u201c{_e(item.get('text', ''))}\u201d ({_e(where)}).")
    missing = [d for d in days if d not in data_days]
    if missing:
        sentences.append(
            f"No data on {len(missing)} of the {len(days)} days ({_span_text(_spans(missing))}): "
            "the charts leave those days blank."
        )
    return f'<p class="summary" id="summary">{" ".join(sentences)}</p>'


def _glossary(modifier_kinds: set[str]) -> str:
    glossary = load_glossary()
    items = "".join(f"<dt>{_e(name)}</dt><dd>{_e(text)}</dd>" for name, text in glossary["measures"].items())
    shown = [kind for kind in glossary["modifiers"] if kind in modifier_kinds]
    if shown:
        items += (
            "<dt>labels on matched terms</dt><dd><dl class='glossary'>"
            + "".join(f"<dt>{_e(kind)}</dt><dd>{_e(glossary['modifiers'][kind])}</dd>" for kind in shown)
            + "</dl></dd>"
        )
    return (
        "<section id='glossary'><details open><summary><b>How to read this report</b></summary>"
        f"<dl class='glossary'>{items}</dl></details></section>"
    )


def _modifier_kinds(rows: Sequence[_Sentence]) -> set[str]:
    kinds = set()
    for row in rows:
        for match in row.matches:
            for label in match.get("modifiers") or ():
                kinds.add(str(label).split(":", 1)[0])
    return kinds


# -- public API -----------------------------------------------------------------------------------
def build_report(
    warehouse: Warehouse,
    since: date,
    until: date,
    actors: Sequence[str] | None = None,
    top_actors: int = 6,
    *,
    generated_at: datetime | None = None,
    note: str | None = None,
) -> str:
    """The report over [since, until] as one self-contained HTML document.

    actors=None picks `top_actors` actors (`choose_actors`: the strongest alerts of either kind
    first, then the highest total escalation index; never the pseudo-actor 'ALL'); an explicit list
    is shown in its order, and a code without any data in the warehouse is named in a warning
    instead of drawn as a flat line. `note` (how the range was chosen) opens the summary.
    """
    if since > until:
        raise ValueError(f"since {since} is after until {until}")
    if top_actors < 1:
        raise ValueError(f"top_actors must be at least 1, not {top_actors}")
    generated_at = (generated_at or now_utc()).astimezone(UTC)
    title = f"Escalation signals {since.isoformat()} to {until.isoformat()}"
    all_alerts = warehouse.load_alerts(since, until)
    unknown: dict[str, list[str]] = {}
    if actors is None:
        chosen = choose_actors(warehouse, since, until, all_alerts, top_actors)
    else:
        chosen = list(dict.fromkeys(a for a in actors if a))
        unknown = unknown_actors(warehouse, chosen)
        chosen = [a for a in chosen if a not in unknown]
    warnings = "".join(
        f'<p class="meta warn" id="unknown-actor-{i}">No data for actor code <b>{_e(code)}</b> in this '
        "warehouse" + (f" (did you mean {_e(', '.join(close))}?)" if close else "") + ": it is left out.</p>"
        for i, (code, close) in enumerate(unknown.items())
    )
    header = (
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="meta">Range: <b>{since.isoformat()}</b> to <b>{until.isoformat()}</b> (UTC days)</p>'
        f'<p class="meta">Generated: {generated_at.strftime("%Y-%m-%d %H:%M:%S")} UTC</p>'
        + (f'<p class="meta">Actors: {_e(", ".join(chosen))}</p>' if chosen else "")
        + warnings
        + "</header>"
    )
    if not warehouse.has_signals(since, until):
        bounds = warehouse.signal_day_bounds()
        where = (
            f" The stored data covers {bounds[0].isoformat()} to {bounds[1].isoformat()}." if bounds else ""
        )
        body = (
            '<p class="empty" id="no-data">No data: the warehouse has no daily signals between '
            f"{since.isoformat()} and {until.isoformat()}.{_e(where)}</p>"
        )
        return _page(title, header, body, [])

    series = warehouse.signal_rows(since, until, [*chosen, ALL_ACTORS])
    data_days = set(series.get(ALL_ACTORS, {}))  # days with any stored article at all
    wanted = set(chosen)
    range_alerts = [a for a in all_alerts if a.actor in wanted]
    alerts_by_actor: dict[str, list[Alert]] = defaultdict(list)
    for alert in range_alerts:
        alerts_by_actor[alert.actor].append(alert)
    days = _days(since, until)

    evidence = [
        row
        for actor in chosen
        for row in _sentences(warehouse, since, until, actor, EVIDENCE_PER_ACTOR, escalatory=True)
    ]
    sections = [_summary(all_alerts, days, data_days, note)]
    figures: dict[str, Any] = {}
    if chosen:
        charts = []
        for i, actor in enumerate(chosen):
            div_id = f"chart-{i}"  # ids from a counter, never from feed text
            figures[div_id] = json.loads(
                _figure_json(actor, days, series.get(actor, {}), alerts_by_actor[actor], data_days)
            )
            charts.append(f'<div class="chart" id="{div_id}" data-actor="{_e(actor)}"></div>')
        sections.append(
            "<section id='charts'><h2>Daily indexes and alerts</h2>" + "".join(charts) + "</section>"
        )
    else:
        sections.append(
            "<section id='charts'><h2>Daily indexes and alerts</h2>"
            '<p class="empty">No actor has an escalation index above 0 in this range.</p></section>'
        )
    sections.append(f"<section id='alerts'><h2>Alerts</h2>{_alerts_table(range_alerts)}</section>")
    sections.append(
        "<section id='evidence'><h2>Top evidence sentences</h2>"
        + (_sentence_table(evidence) if evidence else '<p class="empty">No escalatory sentences.</p>')
        + "</section>"
    )

    calming = warehouse.top_actors("deescalation_index", since, until, top_actors)
    panel = []
    for actor, total in calming:
        rows = _sentences(warehouse, since, until, actor, DEESCALATION_SENTENCES, escalatory=False)
        panel.append(
            f'<h3>{_e(actor)} <small class="meta">total de-escalation index {total:.1f}</small></h3>'
            + (_sentence_table(rows, with_actor=False) if rows else "<p>No de-escalatory sentences.</p>")
        )
    sections.append(
        "<section id='deescalation'><h2>De-escalation</h2>"
        + ("".join(panel) if panel else '<p class="empty">No de-escalation signals in this range.</p>')
        + "</section>"
    )

    sections.append(_glossary(_modifier_kinds(evidence)))

    scripts = []
    if figures:
        draw = (
            "(function(){var figs="
            + _json_for_script(json.dumps(figures, ensure_ascii=False, separators=(",", ":")))
            # No "share" button: it would upload the chart (feed data) to Plotly's cloud.
            + ";var config={displaylogo:false,responsive:true,showSendToCloud:false,showLink:false,"
            "modeBarButtonsToRemove:['sendChartToCloud','lasso2d','select2d']};"
            "Object.keys(figs).forEach(function(id){var f=figs[id];"
            "Plotly.newPlot(document.getElementById(id),f.data,f.layout,config);});})();"
        )
        scripts = [_plotly_js(), draw]
    return _page(title, header, "\n".join(sections), scripts)


def write_report(
    warehouse: Warehouse,
    since: date,
    until: date,
    actors: Sequence[str] | None,
    out: Path,
    top_actors: int = 6,
    *,
    note: str | None = None,
) -> Path:
    """Build the report and write it to `out` (parents created); a reader never sees half a file."""
    out = Path(out)
    document = build_report(warehouse, since, until, actors, top_actors, note=note)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(document, encoding="utf-8")
    os.replace(partial, out)
    return out
