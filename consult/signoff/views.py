"""Sign-off: where it stands and who has endorsed the agreed manifesto, a delegate's
endorsement (or declining, with a reason), and the secretariat opening and closing it."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, flash, request, url_for
from flask_login import current_user

from consult import errors, permissions
from consult.extensions import db
from consult.htmx import is_htmx, redirect_to, render
from consult.loading import load
from consult.models import Consultation, Decision
from consult.signoff import services
from consult.signoff.forms import ConfirmForm, EndorsementForm

bp = Blueprint("signoff", __name__)

POLL_SECONDS = 10


def fingerprint(found: services.Signatories) -> str:
    """A short digest of the signatory list: the polled list comes back only if it differs."""
    parts = [
        f"{e.organisation_id}:{e.decision.value}:{int(e.list_publicly)}:{e.set_at.isoformat()}"
        for e in (*found.endorsed, *found.declined)
    ]
    parts += [f"{o.id}:-" for o in found.not_responded]
    return hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()[:16]


def announcement(found: services.Signatories) -> str:
    """What the live region says when the list changes."""
    return (
        f"Signatory list updated: {len(found.endorsed)} endorsed, "
        f"{len(found.declined)} declined, {len(found.not_responded)} not responded yet."
    )


def _page(
    consultation: Consultation,
    form: EndorsementForm | None,
    status: int = 200,
) -> Response:
    """The sign-off page; for htmx, only the signatory list (or 204 if it has not changed)."""
    found = services.signatories(consultation)
    stamp = fingerprint(found)
    if is_htmx() and request.args.get("since") == stamp:
        return Response(status=204)
    own = None
    if permissions.may_speak_in_signoff(current_user, consultation):
        own = services.endorsement_of(consultation, current_user.organisation_id)
    return render(
        "signoff/show.html",
        block="signatories",
        status=status,
        consultation=consultation,
        found=found,
        stamp=stamp,
        announce=announcement(found) if is_htmx() and request.args.get("since") else None,
        polling=services.is_open(consultation),
        poll_seconds=POLL_SECONDS,
        missing=services.missing(consultation) if consultation.signoff_opened_at is None else None,
        form=form,
        own=own,
    )


def _refusal(consultation: Consultation) -> Response | None:
    """For a delegate who could have endorsed while sign-off was open, a 403 saying it closed
    and when; None otherwise (the standard refusal follows)."""
    if (
        permissions.may_speak_in_signoff(current_user, consultation)
        and consultation.signoff_closed_at is not None
    ):
        return errors.error_page(403, services.closed_message(consultation))
    return None


@bp.route("/consultations/<int:consultation_id>/sign-off", methods=["GET", "POST"])
def show(consultation_id: int):
    """Where sign-off stands and who has endorsed; a delegate endorses or declines here."""
    consultation = load(Consultation, consultation_id, permissions.can_see_signoff)
    may_endorse = permissions.can_endorse(current_user, consultation)
    if request.method == "GET":
        form = None
        if may_endorse:
            form = EndorsementForm()
            own = services.endorsement_of(consultation, current_user.organisation_id)
            if own is not None:
                form.decision.data = own.decision.value
                form.list_publicly.data = own.list_publicly
                form.reason.data = own.reason
        return _page(consultation, form)
    if not may_endorse:
        refused = _refusal(consultation)
        if refused is not None:
            return refused
        load(Consultation, consultation_id, permissions.can_endorse)  # the standard refusal
    form = EndorsementForm()
    if form.validate_on_submit():
        declining = form.decision.data == Decision.DECLINE.value
        try:
            endorsement = services.set_endorsement(
                actor=current_user,
                consultation=consultation,
                decision=form.decision.data,
                # The box belongs to "Endorse": left ticked under "Decline", it means nothing.
                list_publicly=bool(form.list_publicly.data) and not declining,
                reason=form.reason.data,
            )
        except services.SignoffError as error:
            db.session.rollback()
            form[error.field].errors = [*form[error.field].errors, str(error)]
        else:
            db.session.commit()
            if endorsement.decision == Decision.ENDORSE:
                listed = (
                    "its name is listed publicly"
                    if endorsement.list_publicly
                    else "its name is not listed publicly"
                )
                flash(
                    f"{current_user.organisation.name} endorses the manifesto ({listed})", "success"
                )
            else:
                flash(
                    f"{current_user.organisation.name} declines to endorse the manifesto", "success"
                )
            return redirect_to(url_for("signoff.show", consultation_id=consultation.id))
    return _page(consultation, form, 422)


def _confirm(consultation: Consultation, action: str, problem: str | None = None, status=200):
    return render(
        f"signoff/{action}.html",
        status=status,
        form=ConfirmForm(),
        consultation=consultation,
        problem=problem,
        found=services.signatories(consultation) if action == "close" else None,
        missing=services.missing(consultation) if action == "open" else None,
    )


def _open_or_close(consultation_id: int, action: str) -> Response:
    """Confirm (GET), then open or close sign-off (POST) through its service; a refusal
    comes back on the confirmation page with its reason."""
    allowed, change, done = {
        "open": (
            permissions.can_open_signoff,
            services.open_signoff,
            "Sign-off opened. The delegates of every organisation taking part have been emailed.",
        ),
        "close": (permissions.can_close_signoff, services.close_signoff, "Sign-off closed"),
    }[action]
    consultation = load(Consultation, consultation_id, allowed)
    if request.method == "GET":
        return _confirm(consultation, action)
    if not ConfirmForm().validate():
        return _confirm(consultation, action, status=422)
    try:
        change(actor=current_user, consultation=consultation)
    except services.SignoffError as error:
        db.session.rollback()
        return _confirm(consultation, action, problem=str(error), status=422)
    db.session.commit()
    flash(done, "success")
    return redirect_to(url_for("signoff.show", consultation_id=consultation.id))


@bp.route(
    "/consultations/<int:consultation_id>/sign-off/open", methods=["GET", "POST"], endpoint="open"
)
def open_signoff(consultation_id: int):
    """Confirm, then open sign-off once every ask is agreed, emailing the delegates
    (secretariat)."""
    return _open_or_close(consultation_id, "open")


@bp.route(
    "/consultations/<int:consultation_id>/sign-off/close", methods=["GET", "POST"], endpoint="close"
)
def close_signoff(consultation_id: int):
    """Confirm, then close sign-off: endorsements can no longer be given or changed
    (secretariat)."""
    return _open_or_close(consultation_id, "close")
