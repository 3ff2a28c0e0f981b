"""Analyst report: one self-contained, offline HTML page over a date range of the warehouse.

What it shows: per chosen actor an interactive plotly chart of the daily escalation and
de-escalation indexes with the stored alerts marked, the top evidence sentences per actor, and a
de-escalation panel. plotly.js is inlined, so the file opens without network.

Feed text is untrusted. Every warehouse string is HTML-escaped (html.escape), text handed to plotly
is escaped too (plotly renders a subset of HTML in labels), data inside <script> is JSON with
`<`, `>`, `&` and U+2028/2029 escaped, and only http(s) URLs become links. As a second line of
defence a Content-Security-Policy allows only the page's own inline scripts (by hash) and no
network at all, so even a missed escape could not run injected script or phone home.
"""

from __future__ import annotations

import base64
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

from pipeline.clock import now_utc
from pipeline.store import Alert, Warehouse

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
    outlets: int = 1  # distinct feeds among them


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


def _figure_json(actor: str, days: list[date], series: dict[date, Any], actor_alerts: list[Alert]) -> str:
    import plotly.graph_objects as go
    import plotly.io as pio

    x = [d.isoformat() for d in days]
    # A day without a row is a silent day, index 0, as the detector counts it.
    esc = [float(series[d]["escalation_index"]) if d in series else 0.0 for d in days]
    de = [float(series[d]["deescalation_index"]) if d in series else 0.0 for d in days]
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
        ys = [index_by_day.get(a.kind, index_by_day["escalation"]).get(a.day, a.value) for a in group]
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


# -- public API -----------------------------------------------------------------------------------
def build_report(
    warehouse: Warehouse,
    since: date,
    until: date,
    actors: Sequence[str] | None = None,
    top_actors: int = 6,
    *,
    generated_at: datetime | None = None,
) -> str:
    """The report over [since, until] as one self-contained HTML document.

    actors=None picks the `top_actors` actors with the highest total escalation index in the range
    (never the pseudo-actor 'ALL'); an explicit list is shown in its order.
    """
    if since > until:
        raise ValueError(f"since {since} is after until {until}")
    if top_actors < 1:
        raise ValueError(f"top_actors must be at least 1, not {top_actors}")
    generated_at = (generated_at or now_utc()).astimezone(UTC)
    title = f"Escalation signals {since.isoformat()} to {until.isoformat()}"
    if actors is None:
        chosen = [
            actor
            for actor, _ in warehouse.top_actors(
                "escalation_index", since, until, top_actors
            )
        ]
    else:
        chosen = list(dict.fromkeys(a for a in actors if a))
    header = (
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="meta">Range: <b>{since.isoformat()}</b> to <b>{until.isoformat()}</b> (UTC days)</p>'
        f'<p class="meta">Generated: {generated_at.strftime("%Y-%m-%d %H:%M:%S")} UTC</p>'
        + (f'<p class="meta">Actors: {_e(", ".join(chosen))}</p>' if chosen else "")
        + "</header>"
    )
    if not warehouse.has_signals(since, until):
        body = (
            '<p class="empty" id="no-data">No data: the warehouse has no daily signals between '
            f"{since.isoformat()} and {until.isoformat()}.</p>"
        )
        return _page(title, header, body, [])

    series = warehouse.signal_rows(since, until, chosen)
    wanted = set(chosen)
    range_alerts = [a for a in warehouse.load_alerts(since, until) if a.actor in wanted]
    alerts_by_actor: dict[str, list[Alert]] = defaultdict(list)
    for alert in range_alerts:
        alerts_by_actor[alert.actor].append(alert)
    days = _days(since, until)

    sections = []
    figures: dict[str, Any] = {}
    if chosen:
        charts = []
        for i, actor in enumerate(chosen):
            div_id = f"chart-{i}"  # ids from a counter, never from feed text
            figures[div_id] = json.loads(
                _figure_json(actor, days, series.get(actor, {}), alerts_by_actor[actor])
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

    evidence = [
        row
        for actor in chosen
        for row in _sentences(warehouse, since, until, actor, EVIDENCE_PER_ACTOR, escalatory=True)
    ]
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
) -> Path:
    """Build the report and write it to `out` (parents created); a reader never sees half a file."""
    out = Path(out)
    document = build_report(warehouse, since, until, actors, top_actors)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(document, encoding="utf-8")
    os.replace(partial, out)
    return out
