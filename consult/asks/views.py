"""Ask pages: the current wording, version history and comparisons; writing new versions."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Response, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from consult import page_cache, permissions, text
from consult.asks import pages, services, visits
from consult.asks.forms import AskForm, VersionForm
from consult.asks.pages import ask_context
from consult.extensions import db
from consult.htmx import is_htmx, redirect_to, render
from consult.loading import load
from consult.models import Ask, Consultation, DraftVersion
from consult.pagination import paginate, pagination_params

log = logging.getLogger(__name__)

bp = Blueprint("asks", __name__)

VERSIONS_PER_PAGE = 50
_NUMBER = re.compile(r"[0-9]{1,9}")


# Loading ----------------------------------------------------------------------------------


def _version_or_404(ask: Ask, number: int) -> DraftVersion:
    return db.first_or_404(
        select(DraftVersion)
        .options(joinedload(DraftVersion.author))
        .where(DraftVersion.ask_id == ask.id, DraftVersion.number == number)
    )


def _version_numbers(ask: Ask) -> list[int]:
    return list(
        db.session.scalars(
            select(DraftVersion.number)
            .where(DraftVersion.ask_id == ask.id)
            .order_by(DraftVersion.number.desc())
        )
    )


def _problem(title: str, message: str, status: int = 400, ask: Ask | None = None) -> Response:
    return render("asks/problem.html", status=status, title=title, message=message, ask=ask)


# Secretariat: asks ------------------------------------------------------------------------


@bp.route("/consultations/<int:consultation_id>/asks/new", methods=["GET", "POST"])
def create(consultation_id: int):
    """Add an ask to a consultation (secretariat)."""
    consultation = load(Consultation, consultation_id, permissions.can_add_ask)
    form = AskForm()
    if form.validate_on_submit():
        ask = services.create_ask(
            actor=current_user,
            consultation=consultation,
            title=form.title.data,
            theme=form.theme.data or "",
        )
        db.session.commit()
        flash(f"Ask added: {ask.title}", "success")
        return redirect_to(url_for("asks.show", ask_id=ask.id))
    return render(
        "asks/form.html",
        status=422 if form.errors else 200,
        form=form,
        consultation=consultation,
        ask=None,
    )


@bp.route("/asks/<int:ask_id>/edit", methods=["GET", "POST"])
def edit(ask_id: int):
    """Change an ask's title and theme (secretariat)."""
    ask = load(Ask, ask_id, permissions.can_edit_ask)
    form = AskForm(obj=ask)
    if form.validate_on_submit():
        changed = services.update_ask(
            actor=current_user, ask=ask, title=form.title.data, theme=form.theme.data or ""
        )
        db.session.commit()
        flash("Ask updated" if changed else "Nothing was changed", "success" if changed else "info")
        return redirect_to(url_for("asks.show", ask_id=ask.id))
    return render(
        "asks/form.html",
        status=422 if form.errors else 200,
        form=form,
        consultation=ask.consultation,
        ask=ask,
    )


@bp.post("/asks/<int:ask_id>/move")
def move(ask_id: int):
    """Move an ask one place up or down in its consultation (secretariat)."""
    ask = load(Ask, ask_id, permissions.can_edit_ask)
    direction = request.form.get("direction", "")
    if direction not in ("up", "down"):
        return _problem(
            "The ask was not moved", "Choose whether to move the ask up or down.", 400, ask
        )
    moved = services.move_ask(actor=current_user, ask=ask, direction=direction)
    db.session.commit()
    if moved:
        flash(f"Moved “{ask.title}” {direction}", "success")
    else:
        flash(f"“{ask.title}” is already {'first' if direction == 'up' else 'last'}", "info")
    return redirect_to(url_for("consultations.show", consultation_id=ask.consultation_id))


# Reading ----------------------------------------------------------------------------------


@bp.get("/asks/<int:ask_id>")
def show(ask_id: int):
    """An ask, its current wording paragraph by paragraph, and its discussion (the wording
    alone for htmx). The whole page is kept rendered until something it shows changes
    (consult/page_cache.py): the database's revision is read before anything else."""
    revision = page_cache.revision()
    ask = load(Ask, ask_id, permissions.can_read_ask, options=pages.WITH_CONSULTATION_AND_VERSIONS)
    current = ask.current_version

    def render_page() -> tuple[Response, int]:
        paragraphs = text.paragraphs(current.body) if current else []
        discussion = pages.discussion(ask, current, paragraphs) if current else None
        response = render(
            "asks/show.html",
            block="wording",
            paragraphs=paragraphs,
            discussion=discussion,
            **ask_context(ask, current),
        )
        return response, discussion.upto if discussion else 0

    response, upto = page_cache.pages().answer(("ask", ask.id), revision, render_page)
    if current_user.is_authenticated and not is_htmx():
        # After reading: the dashboard's "new since your last visit" counts from what this
        # page was made with (the newest comment id it read, the version it showed).
        # Remembering the visit is not worth failing the page for (a busy database).
        try:
            if visits.record_visit(
                reader=current_user,
                ask=ask,
                version_number=current.number if current else 0,
                last_comment_id=upto,
            ):
                db.session.commit()
        except OperationalError:
            db.session.rollback()
            log.warning("Could not record %s's visit to ask %s", current_user.id, ask.id)
    return response


@bp.get("/asks/<int:ask_id>/versions/<int:number>")
def version(ask_id: int, number: int):
    """One version of an ask's wording, current or earlier, with the comments made on it."""
    ask = load(Ask, ask_id, permissions.can_read_ask)
    shown = _version_or_404(ask, number)
    paragraphs = text.paragraphs(shown.body)
    return render(
        "asks/show.html",
        block="wording",
        paragraphs=paragraphs,
        discussion=pages.discussion(ask, shown, paragraphs),
        **ask_context(ask, shown),
    )


@bp.get("/asks/<int:ask_id>/versions")
def versions(ask_id: int):
    """Every version of an ask, newest first, with a form to compare two of them."""
    ask = load(Ask, ask_id, permissions.can_read_ask)
    page = paginate(
        select(DraftVersion)
        .options(joinedload(DraftVersion.author))
        .where(DraftVersion.ask_id == ask.id)
        .order_by(DraftVersion.number.desc()),
        per_page=VERSIONS_PER_PAGE,
    )
    numbers = _version_numbers(ask)
    return render(
        "asks/versions.html",
        page=page,
        pagination=pagination_params(page),
        numbers=numbers,
        compare_from=numbers[1] if len(numbers) > 1 else None,
        compare_to=numbers[0] if numbers else None,
        **ask_context(ask),
    )


@bp.get("/asks/<int:ask_id>/compare")
def compare(ask_id: int):
    """Two versions of an ask compared word by word, paragraph by paragraph."""
    ask = load(Ask, ask_id, permissions.can_read_ask)
    numbers = _version_numbers(ask)
    raw_from, raw_to = request.args.get("from", ""), request.args.get("to", "")
    context = dict(numbers=numbers, **ask_context(ask))

    def refuse(message: str) -> Response:
        return render(
            "asks/compare.html",
            status=400,
            problem=message,
            blocks=None,
            compare_from=numbers[1] if len(numbers) > 1 else None,
            compare_to=numbers[0] if numbers else None,
            **context,
        )

    if len(numbers) < 2:
        return refuse("This ask has fewer than two versions, so there is nothing to compare yet.")
    if not _NUMBER.fullmatch(raw_from) or not _NUMBER.fullmatch(raw_to):
        return refuse("Choose the two versions to compare.")
    from_number, to_number = int(raw_from), int(raw_to)
    if from_number == to_number:
        return refuse("Choose two different versions to compare.")
    old = _version_or_404(ask, from_number)
    new = _version_or_404(ask, to_number)
    blocks = text.paragraph_diff(old.body, new.body)
    return render(
        "asks/compare.html",
        old=old,
        new=new,
        blocks=blocks,
        problem=None,
        removed=sum(b.removed for b in blocks),
        added=sum(b.added for b in blocks),
        compare_from=from_number,
        compare_to=to_number,
        **context,
    )


# Secretariat: new versions ----------------------------------------------------------------


def _preview(ask: Ask, body: str) -> dict[str, Any]:
    """What a new version would look like, and how it differs from the latest."""
    body = services.normalise_wording(body)
    current = ask.current_version
    blocks = text.paragraph_diff(current.body, body) if current is not None else None
    return {
        "paragraphs": text.paragraphs(body),
        "current_paragraphs": text.paragraphs(current.body) if current is not None else [],
        "blocks": blocks,
        "removed": sum(b.removed for b in blocks or []),
        "added": sum(b.added for b in blocks or []),
    }


@bp.route("/asks/<int:ask_id>/versions/new", methods=["GET", "POST"])
def new_version(ask_id: int):
    """Write, preview and publish the next version of an ask's wording (secretariat)."""
    ask = load(Ask, ask_id, permissions.can_edit_ask)
    current = ask.current_version
    action = request.form.get("action") if request.method == "POST" else None
    publishing = action == "publish"
    # A preview needs only the wording; publishing v2 onwards also needs a change note.
    form = VersionForm(note_required=publishing and current is not None)

    def page(
        status: int = 200,
        preview: dict[str, Any] | None = None,
        conflict: str | None = None,
        fragment: bool = False,
    ) -> Response:
        return render(
            "asks/new_version.html",
            block="preview" if fragment else None,
            status=status,
            form=form,
            preview=preview,
            conflict=conflict,
            fragment=fragment,
            next_number=services.latest_number(ask) + 1,
            can_publish=permissions.can_publish_version(current_user, ask),
            draft=services.draft_of(ask),
            **ask_context(ask),
        )

    if request.method == "GET":
        draft = services.draft_of(ask)
        if draft is not None:
            form.body.data, form.change_note.data = draft.body, draft.change_note
            form.based_on.data = str(draft.based_on)
        else:
            form.body.data = current.body if current is not None else ""
            form.based_on.data = str(current.number if current is not None else 0)
        return page(preview=_preview(ask, form.body.data) if draft is not None else None)

    fragment = is_htmx() and action == "preview"
    if not form.validate_on_submit():
        return page(422, fragment=fragment)
    if action == "save":
        try:
            services.save_draft(
                actor=current_user,
                ask=ask,
                body=form.body.data,
                change_note=form.change_note.data or "",
                based_on=form.based_on_number,
            )
        except services.AskError as error:
            db.session.rollback()
            form.body.errors.append(str(error))
            return page(422)
        db.session.commit()
        flash("Draft saved. Members cannot see it until you publish it.", "success")
        return redirect_to(url_for("asks.new_version", ask_id=ask.id) + "#preview")
    if not publishing:
        return page(200, preview=_preview(ask, form.body.data), fragment=fragment)

    try:
        published = services.publish_version(
            actor=current_user,
            ask=ask,
            body=form.body.data,
            change_note=form.change_note.data or "",
            based_on=form.based_on_number,
        )
    except services.VersionConflict as conflict:
        db.session.rollback()
        form.based_on.data = str(services.latest_number(ask))  # now compared with the latest
        return page(409, preview=_preview(ask, form.body.data), conflict=str(conflict))
    except services.AskError as error:
        form.body.errors.append(str(error))
        return page(422)
    services.discard_draft(actor=current_user, ask=ask, published=published)
    db.session.commit()
    flash(f"{published.label} published", "success")
    return redirect_to(url_for("asks.show", ask_id=ask.id))


@bp.route("/asks/<int:ask_id>/draft/discard", methods=["GET", "POST"])
def discard_draft(ask_id: int):
    """Confirm, then delete the ask's unpublished draft (secretariat)."""
    ask = load(Ask, ask_id, permissions.can_edit_ask)
    draft = services.draft_of(ask)
    if draft is None:
        flash("There is no saved draft of this ask.", "info")
        return redirect_to(url_for("asks.show", ask_id=ask.id))
    if request.method == "POST":
        services.discard_draft(actor=current_user, ask=ask)
        db.session.commit()
        flash("Draft discarded", "success")
        return redirect_to(url_for("asks.show", ask_id=ask.id))
    return render("asks/discard_draft.html", draft=draft, **ask_context(ask))
