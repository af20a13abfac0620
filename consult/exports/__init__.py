"""Exports of the agreed text: one document model, one pure renderer per format.

document.py holds the model (Document, AgreedAsk, Tally, HistoryEntry, AmendmentCredit,
Endorser); markdown.py, html.py, pdf.py and docx.py each turn a Document into bytes with
``render(document)`` (plus ``MEDIA_TYPE``), touching no database, request or clock.

Filling the model from the database (``gather(consultation)``, not written yet) is meant to be
one function: per ask in order, its Agreement gives version_number, agreed_at, agreed_by's name,
the against-rule reason, ``Tally.from_mapping(snapshot)`` (a Verdict's fields, as stored) and
the consensus summary; the version's wording gives sha256 (computed, or checked when the
Agreement records one); the published versions give history; accepted amendments give
AmendmentCredit (paragraph "paragraph N" by the anchor's place, or WHOLE_TEXT).
"""

import logging

# WeasyPrint reports each step of each render at INFO (a line per page, and three lines for
# its own stylesheets as it is imported, which pdf.py does): keep them out of the log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
