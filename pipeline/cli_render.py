"""Terminal rendering of scores for `escalation score` (rich); the scorer module itself stays pure."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from pipeline.score import DEESCALATORY_THRESHOLD, ESCALATORY_THRESHOLD, TextScore


def explain_table(result: TextScore) -> Table:
    """Each sentence, its score, and every matched term with its modifiers. Texts, terms and modifier
    labels are escaped: "[negation:won't]" is a label to show, not rich markup to swallow."""
    table = Table(title=f"Escalation score {result.score:+.3f}", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("sentence", overflow="fold", ratio=3)
    table.add_column("matched terms (category, weight → effective, modifiers)", overflow="fold", ratio=3)
    for i, sentence in enumerate(result.sentences, start=1):
        colour = (
            "red"
            if sentence.score >= ESCALATORY_THRESHOLD
            else ("green" if sentence.score <= DEESCALATORY_THRESHOLD else "white")
        )
        details = "\n".join(
            escape(
                f"{m.surface!r} {m.category} {m.polarity * m.weight:+.2f} → {m.effective_weight:+.2f}"
                + (f" [{', '.join(m.modifiers)}]" if m.modifiers else "")
            )
            for m in sentence.matches
        )
        table.add_row(str(i), f"[{colour}]{sentence.score:+.3f}[/]", escape(sentence.text), details or "-")
    return table
