"""The agreed text as Markdown: the wording exactly as agreed, then the provenance annex.

A pure function of the document: the same document always gives the same bytes.
"""

from __future__ import annotations

import re

from consult.exports.document import (
    AgreedAsk,
    Document,
    display_datetime,
    endorsement_words,
    iso_utc,
)

MEDIA_TYPE = "text/markdown; charset=utf-8"

# Characters that mean something inline in CommonMark, escaped in plain fields (titles, names,
# notes) so they stay text: a title can never become a link, markup or a table cell.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~&])")
_LINE_START = re.compile(r"^(\d+(?=[.)])|(?=[-+]))")


def plain(text: str) -> str:
    """A plain-text field as Markdown that reads back as the same text, on one line."""
    escaped = _SPECIAL.sub(r"\\\1", " ".join(text.split()))
    # Nor may it start a list or a heading when it begins a line.
    return _LINE_START.sub(r"\1\\", escaped)


def _heading(ask: AgreedAsk) -> str:
    return f"{ask.number}. {plain(ask.title)}"


def _ask(ask: AgreedAsk) -> list[str]:
    lines = [f"## {_heading(ask)}", ""]
    if ask.theme.strip():
        lines += [f"Theme: {plain(ask.theme)}", ""]
    lines += [ask.wording.strip("\n"), ""]
    return lines


def _annex_ask(ask: AgreedAsk) -> list[str]:
    lines = [
        f"### {_heading(ask)}",
        "",
        f"- Agreed version: {ask.version_number}",
        f"- Agreed: {display_datetime(ask.agreed_at)} ({iso_utc(ask.agreed_at)})",
        f"- Agreed by: {plain(ask.agreed_by)}",
        f"- SHA-256 of the wording (UTF-8): `{ask.sha256}`",
        f"- Consensus when agreed: {plain(ask.consensus_summary)}",
    ]
    if ask.against_rule_reason:
        lines.append(
            f"- Agreed although the consensus rule was not met, because: "
            f"{plain(ask.against_rule_reason)}"
        )
    lines += ["", "Tally when agreed:", "", "| Count | Value |", "| --- | --- |"]
    lines += [f"| {label} | {value} |" for label, value in ask.tally.rows()]
    lines += ["", "Changes:", ""]
    if ask.history:
        for entry in ask.history:
            note = plain(entry.change_note) if entry.change_note.strip() else "No note."
            lines.append(
                f"- Version {entry.version_number}, published "
                f"{display_datetime(entry.published_at)}: {note}"
            )
    else:
        lines.append("- No published versions recorded.")
    lines += ["", "Accepted amendments:", ""]
    if ask.amendments:
        for credit in ask.amendments:
            lines.append(
                f"- Amendment {credit.amendment_id} from {plain(credit.organisation)} changed "
                f"{plain(credit.paragraph)} (accepted into version {credit.accepted_into_version})"
            )
    else:
        lines.append("- None.")
    lines.append("")
    return lines


def render_text(document: Document) -> str:
    """The document as Markdown text."""
    lines = [f"# {plain(document.title)}", ""]
    lines += [
        f"{plain(document.status)}. Generated {display_datetime(document.generated_at)}.",
        "",
    ]
    if document.summary.strip():
        lines += [plain(document.summary), ""]
    for ask in document.asks:
        lines += _ask(ask)
    lines += ["## Provenance", "", "### Consultation", ""]
    lines.append(f"- Consultation: {plain(document.title)}")
    if document.consultation_reference:
        lines.append(f"- Reference: {plain(document.consultation_reference)}")
    lines += [
        f"- Status: {plain(document.status)}",
        f"- Generated: {display_datetime(document.generated_at)} "
        f"({iso_utc(document.generated_at)})",
        f"- Asks: {len(document.asks)}",
        "",
    ]
    for ask in document.asks:
        lines += _annex_ask(ask)
    lines += ["### Endorsing organisations", "", endorsement_words(document), ""]
    for endorser in document.public_endorsers:
        lines.append(f"- {plain(endorser.name)}")
    if document.public_endorsers:
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def render(document: Document) -> bytes:
    """The document as Markdown, UTF-8."""
    return render_text(document).encode("utf-8")
