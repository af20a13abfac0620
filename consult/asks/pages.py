"""The ask page's request glue, shared by the blueprints that render it (asks: the page
itself; comments: "Show more comments" and its page without JavaScript): the ask's context,
and its discussion as this request asks for it.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import request
from flask_login import current_user
from sqlalchemy.orm import joinedload

from consult.agreements import services as agreement_services
from consult.amendments import cards as amendment_cards
from consult.asks import services as ask_services
from consult.comments import services, threads
from consult.comments.forms import CommentForm
from consult.comments.rules import Filters, parse_id
from consult.models import Ask, AskState, DraftVersion
from consult.notes import services as note_services
from consult.positions import panel as positions_panel
from consult.text import Paragraph

# The ask with its consultation and versions (and their authors), in the one statement that
# loads it: every ask page and every comment posted to it reads them.
WITH_CONSULTATION_AND_VERSIONS = (
    joinedload(Ask.consultation),
    joinedload(Ask.versions).joinedload(DraftVersion.author),
)


def ask_context(ask: Ask, version: DraftVersion | None = None) -> dict[str, Any]:
    """What every ask page's template needs to know about the ask and the version shown."""
    current = ask.current_version
    return {
        "ask": ask,
        "consultation": ask.consultation,
        "current": current,
        "version": version,
        "is_current": version is not None
        and current is not None
        and version.number == current.number,
        # The secretariat's unpublished draft of the next version, if any (members are never
        # shown it): called by the ask page for the secretariat only.
        "ask_draft": functools.partial(ask_services.draft_of, ask),
        # Called by the template that shows it (the ask page), so other pages query nothing.
        "position_panel": functools.partial(positions_panel.build, ask, version, current_user),
        # Called (maybe more than once) by the ask page: it queries the first time only.
        "amendment_cards": functools.cache(
            functools.partial(amendment_cards.build, ask, version, current_user)
        ),
        # How many notes the viewer's organisation has on the ask: called by the ask page only
        # for those who may read them (permissions.can_read_notes).
        "note_count": functools.partial(_note_count, ask),
        # The current agreement of an agreed ask (queried when the page asks for it).
        "agreement": functools.cache(functools.partial(_agreement, ask)),
    }


def _note_count(ask: Ask) -> int:
    return note_services.count_for(ask, current_user.organisation_id)


def _agreement(ask: Ask) -> Any:
    if ask.state != AskState.AGREED:
        return None
    return agreement_services.current_agreement(ask)


def discussion(
    ask: Ask, version: DraftVersion, paragraphs: list[Paragraph], *, more: bool = False
) -> threads.Discussion:
    """The discussion of a version's page for this request: the signed-in reader, the
    page's query (?after=, filters; ?upto= with `more`) and, for those who may comment, the
    form at its foot: on the whole ask, or on the paragraph chosen with "Comment on
    paragraph N" without JavaScript (?comment_on=)."""
    args = request.args
    found = threads.load(
        ask,
        version,
        paragraphs,
        current_user,
        Filters.from_args(args, [p.anchor for p in paragraphs]),
        start=parse_id(args.get("after")) or 0,
        more=more,
        upto=parse_id(args.get("upto")) or 0,
    )
    if found.can_comment and not more:
        paragraph = services.current_paragraph(ask, args.get("comment_on"))
        form = CommentForm(formdata=None).use_ids("comment")
        form.paragraph.data = paragraph.anchor if paragraph else ""
        found.form, found.form_paragraph = form, paragraph
    return found
