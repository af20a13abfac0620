"""Positions: a delegate sets the organisation's position; the ask page's positions panel."""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for
from flask_login import current_user

from consult import errors, permissions, text
from consult.asks import pages
from consult.extensions import db
from consult.htmx import is_htmx, redirect_to, render, trigger
from consult.loading import load
from consult.models import Ask, Stance
from consult.notes import services as note_services
from consult.positions import services
from consult.positions.forms import HINTS, PositionForm

bp = Blueprint("positions", __name__)


def _ask_page(ask: Ask) -> Response:
    """The ask page at its current version; for htmx, only its positions panel."""
    current = ask.current_version
    paragraphs = text.paragraphs(current.body) if current and not is_htmx() else []
    return render(
        "asks/show.html",
        block="positions",
        paragraphs=paragraphs,
        discussion=pages.discussion(ask, current, paragraphs)
        if current and not is_htmx()
        else None,
        **pages.ask_context(ask, current),
    )


def _load_for_setting(ask_id: int) -> Ask | Response:
    """The ask, if the current person may set a position on it; after the consultation has
    closed, a refusal that says so (it is not the person's account that is at fault)."""
    ask = load(Ask, ask_id)
    if permissions.can_set_position(current_user, ask):
        return ask
    closed = errors.closed_refusal(
        ask.consultation, True, "Positions can no longer be set or changed."
    )
    if closed is not None:
        return closed
    agreed = errors.agreed_refusal(ask, True)
    if agreed is not None:
        return agreed
    return load(Ask, ask_id, permissions.can_set_position)  # the standard refusal


@bp.route("/asks/<int:ask_id>/position", methods=["GET", "POST"])
def edit(ask_id: int):
    """Set or change the organisation's position on an ask's current version (delegates)."""
    loaded = _load_for_setting(ask_id)
    if isinstance(loaded, Response):
        return loaded
    ask = loaded
    current = ask.current_version
    assert current is not None  # can_set_position requires a version
    own = services.positions_for(current).get(current_user.organisation_id)
    previous = (
        None if own is not None else services.previous_position(current_user.organisation, ask)
    )
    # The latest proposal from the organisation's own notes, on this version: it fills the
    # form when no position is set yet on it, or when the delegate chooses "Use this
    # proposal" (?use=proposal). The delegate still chooses and saves.
    proposal = note_services.latest_proposal(ask, current_user.organisation_id)
    from_proposal = proposal is not None and (own is None or request.args.get("use") == "proposal")
    form = PositionForm(obj=None)
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                services.set_position(
                    actor=current_user,
                    ask=ask,
                    stance=form.stance.data,
                    reason=form.reason.data or "",
                )
            except services.PositionError as error:
                db.session.rollback()
                form[error.field].errors = [*form[error.field].errors, str(error)]
            else:
                db.session.commit()
                if is_htmx():
                    return trigger(_ask_page(ask), "position-set")
                return redirect_to(url_for("asks.show", ask_id=ask.id) + "#positions")
        status = 422
    elif from_proposal:
        assert proposal is not None and proposal.proposed_stance is not None
        form.stance.data, form.reason.data = proposal.proposed_stance.value, proposal.body
    elif own is not None:
        form.stance.data, form.reason.data = own.stance.value, own.reason
    elif previous is not None:
        form.stance.data, form.reason.data = previous.stance.value, previous.reason
    return render(
        "positions/edit.html",
        status=status,
        form=form,
        hint_items=[{"hint": {"text": HINTS[stance]}} for stance in Stance],
        own=own,
        previous=previous,
        proposal=proposal,
        from_proposal=from_proposal and not form.is_submitted(),
        **pages.ask_context(ask, current),
    )


@bp.get("/asks/<int:ask_id>/positions")
def panel(ask_id: int):
    """The positions panel of an ask's current version (for htmx; the ask page otherwise)."""
    ask = load(Ask, ask_id, permissions.can_see_positions)
    return _ask_page(ask)
