"""Agreement: the secretariat declaring an ask's current wording agreed (against the rule
only with a reason), reopening it, and the manifesto of a consultation's asks."""

from __future__ import annotations

from flask import Blueprint, flash, url_for
from flask_login import current_user

from consult import errors, permissions
from consult.agreements import manifesto as manifesto_page
from consult.agreements import services
from consult.agreements.forms import AgreeForm, ReopenForm
from consult.asks.pages import ask_context
from consult.extensions import db
from consult.htmx import redirect_to, render
from consult.loading import load
from consult.models import Ask, AskState, Consultation

bp = Blueprint("agreements", __name__)


def _agree_page(ask: Ask, form: AgreeForm, status: int = 200, problem: str | None = None):
    version = services.latest_version(ask)
    assert version is not None  # can_declare_agreed needs a version
    found = services.standing_of(ask, version)
    if status != 409:
        form.based_on.data = form.based_on.data or str(version.number)
    else:
        form.based_on.data = str(version.number)
    return render(
        "agreements/agree.html",
        status=status,
        form=form,
        standing=found,
        problem=problem,
        **ask_context(ask, version),
    )


@bp.route("/asks/<int:ask_id>/agree", methods=["GET", "POST"])
def agree(ask_id: int):
    """Declare the ask's current version agreed, seeing where it stands first (secretariat)."""
    ask = load(Ask, ask_id, permissions.can_declare_agreed)
    form = AgreeForm()
    if not form.is_submitted():
        return _agree_page(ask, form)
    if not form.validate():
        return _agree_page(ask, form, 422)
    try:
        agreement = services.declare_agreed(
            actor=current_user,
            ask=ask,
            reason=form.reason.data,
            based_on=form.based_on_number,
        )
    except services.StaleVersion as error:
        db.session.rollback()
        return _agree_page(ask, form, 409, problem=str(error))
    except services.AgreementError as error:
        db.session.rollback()
        form.reason.errors = [*form.reason.errors, str(error)]
        return _agree_page(ask, form, 422)
    db.session.commit()
    flash(f"Wording agreed: {ask.title} ({agreement.version.label})", "success")
    return redirect_to(url_for("asks.show", ask_id=ask.id))


@bp.route("/asks/<int:ask_id>/reopen", methods=["GET", "POST"])
def reopen(ask_id: int):
    """Reopen an agreed ask, giving the reason, so a new version can follow (secretariat)."""
    ask = load(Ask, ask_id)
    if not permissions.can_reopen(current_user, ask):
        could = permissions.is_secretariat(current_user) and ask.state == AskState.AGREED
        if could and ask.consultation.signoff_opened_at is not None:
            return errors.error_page(403, services.SIGNOFF_OPENED)
        load(Ask, ask_id, permissions.can_reopen)  # the standard refusal
    form = ReopenForm()
    status = 200
    if form.is_submitted():
        status = 422
        try:
            services.reopen(actor=current_user, ask=ask, reason=form.reason.data)
        except services.AgreementError as error:
            db.session.rollback()
            form.reason.errors = [*form.reason.errors, str(error)]
        else:
            db.session.commit()
            flash(f"Ask reopened: {ask.title}", "success")
            return redirect_to(url_for("asks.show", ask_id=ask.id))
    return render(
        "agreements/reopen.html",
        status=status,
        form=form,
        **ask_context(ask, ask.current_version),
    )


@bp.get("/consultations/<int:consultation_id>/manifesto")
def manifesto(consultation_id: int):
    """Every ask of a consultation in order, with where each stands, and the whole agreed
    text once every ask is agreed."""
    consultation = load(Consultation, consultation_id, permissions.can_read_manifesto)
    return render(
        "agreements/manifesto.html",
        consultation=consultation,
        manifesto=manifesto_page.build(consultation),
    )
