"""An organisation's own notes on an ask: the notes page, adding a note or a reply, changing
or deleting one's own note, and proposing a note as the organisation's position.

Only members of the organisation read them (consult.permissions.can_read_notes): not other
organisations, not observers, not the secretariat. Nothing here is announced live or
recorded in the audit log. Every page works without JavaScript (post, then redirect).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from consult import errors, permissions
from consult.asks.pages import ask_context
from consult.extensions import db
from consult.htmx import redirect_to, render
from consult.loading import load
from consult.models import Ask, OrganisationNote, Stance
from consult.notes import services
from consult.notes.forms import DeleteForm, NoteForm, ProposeForm
from consult.pagination import paginate, pagination_params
from consult.positions.forms import HINTS

bp = Blueprint("notes", __name__)

CLOSED = "Notes can no longer be added or changed; you can still read them."


def _closed(ask: Ask) -> Response | None:
    """Once the consultation has closed or the ask is agreed, a refusal that says so to the
    members who could have written (not their account's fault)."""
    could = permissions.can_read_notes(current_user, ask)
    return errors.closed_refusal(ask.consultation, could, CLOSED) or errors.agreed_refusal(
        ask, could
    )


def _note(note_id: int, rule: Any) -> OrganisationNote | Response:
    """A note of the current person's organisation that the rule allows them to act on; after
    the close, a refusal that says so; otherwise the standard refusal."""
    note = load(
        OrganisationNote,
        note_id,
        permissions.can_read_note,
        options=(joinedload(OrganisationNote.author), joinedload(OrganisationNote.ask)),
    )
    if rule(current_user, note):
        return note
    closed = _closed(note.ask)
    if closed is not None:
        return closed
    return load(OrganisationNote, note_id, rule)  # the standard refusal


def _notes_url(note: OrganisationNote) -> str:
    return url_for("notes.index", ask_id=note.ask_id) + f"#note-{note.id}"


def _index_page(ask: Ask, form: NoteForm | None, status: int = 200) -> Response:
    organisation_id = current_user.organisation_id
    page = paginate(services.threads_query(ask, organisation_id), per_page=services.PER_PAGE)
    return render(
        "notes/index.html",
        status=status,
        form=form,
        threads=services.threads(list(page.items), organisation_id),
        page=page,
        pagination=pagination_params(page),
        proposal=services.latest_proposal(ask, organisation_id),
        **ask_context(ask),
    )


@bp.get("/asks/<int:ask_id>/notes")
def index(ask_id: int):
    """The organisation's own notes on an ask, newest first with their replies, and the form
    to add one (members of the organisation only)."""
    ask = load(Ask, ask_id, permissions.can_read_notes)
    writable = permissions.can_write_note(current_user, ask)
    return _index_page(ask, NoteForm(formdata=None) if writable else None)


def _saved(field: Any, change: Callable[[], Any]) -> tuple[bool, Any]:
    """Run a notes service for a valid form and commit: (True, its result); or, refused,
    roll back, put the reason beside the form's field and return (False, None)."""
    try:
        result = change()
    except services.NoteError as error:
        db.session.rollback()
        field.errors = [*field.errors, str(error)]
        return False, None
    db.session.commit()
    return True, result


@bp.post("/asks/<int:ask_id>/notes")
def create(ask_id: int):
    """Add a note to the organisation's notes on an ask."""
    ask = load(Ask, ask_id)
    if not permissions.can_write_note(current_user, ask):
        closed = _closed(ask)
        if closed is not None:
            return closed
        load(Ask, ask_id, permissions.can_write_note)  # the standard refusal
    form = NoteForm()
    if form.validate_on_submit():
        ok, note = _saved(
            form.body, lambda: services.add_note(author=current_user, ask=ask, body=form.body.data)
        )
        if ok:
            flash("Note added", "success")
            return redirect_to(_notes_url(note))
    return _index_page(ask, form, status=422)


def _form_page(
    template: str, note: OrganisationNote, form: Any, status: int = 200, **context: Any
) -> Response:
    return render(
        template,
        status=status,
        form=form,
        note=note,
        **context,
        **ask_context(note.ask),
    )


@bp.route("/notes/<int:note_id>/reply", methods=["GET", "POST"])
def reply(note_id: int):
    """Reply to a note of one's organisation."""
    note = _note(note_id, permissions.can_reply_to_note)
    if isinstance(note, Response):
        return note
    form = NoteForm()
    if form.validate_on_submit():
        ok, made = _saved(
            form.body,
            lambda: services.add_note(
                author=current_user, ask=note.ask, body=form.body.data, parent=note
            ),
        )
        if ok:
            flash("Reply added", "success")
            return redirect_to(_notes_url(made))
    return _form_page(
        "notes/form.html",
        note,
        form,
        status=422 if form.is_submitted() else 200,
        action="reply",
    )


@bp.route("/notes/<int:note_id>/edit", methods=["GET", "POST"])
def edit(note_id: int):
    """Change the text of one's own note."""
    note = _note(note_id, permissions.can_edit_note)
    if isinstance(note, Response):
        return note
    form = NoteForm()
    if not form.is_submitted():
        form.body.data = note.body
    elif form.validate():
        ok, changed = _saved(
            form.body,
            lambda: services.edit_note(actor=current_user, note=note, body=form.body.data),
        )
        if ok:
            flash("Note changed" if changed else "Nothing was changed", "success")
            return redirect_to(_notes_url(note))
    return _form_page(
        "notes/form.html", note, form, status=422 if form.is_submitted() else 200, action="edit"
    )


@bp.route("/notes/<int:note_id>/delete", methods=["GET", "POST"])
def delete(note_id: int):
    """Confirm, then delete one's own note."""
    note = _note(note_id, permissions.can_edit_note)
    if isinstance(note, Response):
        return note
    form = DeleteForm()
    if form.validate_on_submit():
        ask_id = note.ask_id
        services.delete_note(actor=current_user, note=note)
        db.session.commit()
        flash("Note deleted", "success")
        return redirect_to(url_for("notes.index", ask_id=ask_id))
    return _form_page("notes/delete.html", note, form, status=422 if form.is_submitted() else 200)


@bp.route("/notes/<int:note_id>/propose", methods=["GET", "POST"])
def propose(note_id: int):
    """Propose a note as the organisation's position ("propose this as our position"): a
    stance, with the note's text as the reason, for the delegate to use."""
    note = _note(note_id, permissions.can_propose_from_note)
    if isinstance(note, Response):
        return note
    form = ProposeForm()
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            ok, chosen = _saved(
                form.stance,
                lambda: services.propose(actor=current_user, note=note, stance=form.stance.data),
            )
            if ok:
                flash(
                    f"Proposed as your organisation’s position: {chosen.label}. "
                    "Your delegate sees it on the position form.",
                    "success",
                )
                return redirect_to(_notes_url(note))
    elif note.proposed_stance is not None:
        form.stance.data = note.proposed_stance.value
    return _form_page(
        "notes/propose.html",
        note,
        form,
        status=status,
        hint_items=[{"hint": {"text": HINTS[stance]}} for stance in Stance],
    )
