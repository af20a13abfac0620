"""Publication: the secretariat publishing the agreed manifesto, its public page (no sign-in),
outside organisations backing it, and the secretariat's list of backers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user

from consult import errors, permissions, text
from consult.agreements import manifesto as manifesto_module
from consult.extensions import db, limiter
from consult.htmx import redirect_to, render
from consult.loading import load
from consult.models import Backer, BackerState, Consultation, utcnow
from consult.pagination import paginate, pagination_params
from consult.publication import services
from consult.publication.forms import (
    ApproveBackerForm,
    BackForm,
    ConfirmBackerForm,
    PublishForm,
    RejectBackerForm,
)
from consult.reports.views import slug
from consult.uktime import utc_to_london

bp = Blueprint("publication", __name__)

PER_PAGE = 25
DESCRIPTION_MAX = 160
LINK_EXPIRED = (
    "This link has expired or has already been used. If you have not confirmed your "
    "support yet, fill in the form on the manifesto’s page again to get a new link."
)

# Offers of support per remote address; may be overridden in the app's configuration (read
# at request time).
LIMIT_DEFAULTS = {"BACKER_ADDRESS_LIMIT": "5 per 15 minutes"}


def _limit(name: str) -> Callable[[], str]:
    return lambda: current_app.config.get(name) or LIMIT_DEFAULTS[name]


def _remote_address_key() -> str:
    """The client's address (set from X-Forwarded-For by ProxyFix behind trusted proxies)."""
    return "backer-address:" + (request.remote_addr or "unknown")


def _published(consultation_id: int) -> Consultation:
    """The published consultation, for anyone; 404 until it is published."""
    consultation = load(Consultation, consultation_id)
    if not permissions.can_read_public_manifesto(current_user, consultation):
        abort(404)
    return consultation


def description_of(consultation: Consultation) -> str:
    """The summary as plain text, trimmed for a description tag."""
    plain = text.render_markdown(consultation.summary or "").striptags()
    plain = " ".join(plain.split()) or f"The agreed text of {consultation.title}."
    if len(plain) <= DESCRIPTION_MAX:
        return plain
    return plain[: DESCRIPTION_MAX - 1].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def _public_page(consultation: Consultation, form: BackForm, status: int = 200):
    return render(
        "publication/public.html",
        status=status,
        consultation=consultation,
        manifesto=manifesto_module.build(consultation),
        organisations=services.listed_organisations(consultation),
        backers=services.approved_backers(consultation),
        description=description_of(consultation),
        form=form,
        web_address=services.is_web_address,
    )


# Publishing -----------------------------------------------------------------------------------


@bp.route("/consultations/<int:consultation_id>/publish", methods=["GET", "POST"])
def publish(consultation_id: int):
    """Publish the agreed manifesto, having seen what becomes public (secretariat)."""
    consultation = load(Consultation, consultation_id, permissions.can_publish_manifesto)
    form = PublishForm()
    problems = services.blockers(consultation)
    context: dict[str, Any] = {
        "consultation": consultation,
        "form": form,
        "problems": problems,
        "manifesto": manifesto_module.build(consultation),
        "organisations": services.listed_organisations(consultation),
    }
    if problems:
        return render("publication/publish.html", status=409, **context)
    if not form.is_submitted():
        return render("publication/publish.html", **context)
    if not form.validate():
        return render("publication/publish.html", status=422, **context)
    try:
        services.publish(actor=current_user, consultation=consultation)
    except services.PublicationError:
        db.session.rollback()
        context["problems"] = services.blockers(consultation)
        return render("publication/publish.html", status=409, **context)
    db.session.commit()
    flash(f"Manifesto published: {consultation.title}", "success")
    return redirect_to(url_for("publication.public", consultation_id=consultation.id))


# The public page and backing ------------------------------------------------------------------


@bp.get("/manifestos/<int:consultation_id>")
def public(consultation_id: int):
    """The published manifesto for anyone: the agreed text, who endorsed it, its backers, the
    downloads and the form to back it."""
    consultation = _published(consultation_id)
    return _public_page(consultation, BackForm())


@bp.post("/manifestos/<int:consultation_id>/back")
@limiter.limit(_limit("BACKER_ADDRESS_LIMIT"), key_func=_remote_address_key)
def back(consultation_id: int):
    """Offer an organisation's support; the answer is the same whether or not the email
    address is known, and nothing is listed before it is confirmed and approved."""
    consultation = _published(consultation_id)
    form = BackForm()
    sent = url_for("publication.check_email", consultation_id=consultation.id)
    if form.company_fax.data:
        return redirect_to(sent)  # a robot: answer as for anyone, keep nothing
    if not form.validate():
        return _public_page(consultation, form, 422)
    services.offer_backing(
        consultation=consultation,
        offer=services.Offer(
            organisation_name=form.organisation_name.data,
            contact_name=form.contact_name.data,
            email=form.email.data,
            website=form.website.data or "",
        ),
    )
    db.session.commit()
    return redirect_to(sent)


@bp.get("/manifestos/<int:consultation_id>/check-your-email")
def check_email(consultation_id: int):
    """After an offer of support: look for the confirmation link (said to everyone)."""
    consultation = _published(consultation_id)
    return render(
        "publication/check_email.html",
        consultation=consultation,
        days=services.token_lifetime().days,
    )


@bp.route("/backers/confirm/<token>", methods=["GET", "POST"])
def confirm_backer(token: str):
    """Confirm an offer of support from the emailed link: a button, so that link checkers
    that open the link do not confirm it."""
    backer = services.find_backer_by_token(token)
    if backer is None:
        return render("publication/link_expired.html", status=410, message=LINK_EXPIRED)
    form = ConfirmBackerForm()
    if form.validate_on_submit():
        try:
            services.confirm_backer(backer=backer)
        except services.PublicationError:
            db.session.rollback()
            return render("publication/link_expired.html", status=410, message=LINK_EXPIRED)
        db.session.commit()
        flash(
            "Thank you: your support is confirmed. The secretariat checks each backer before "
            "listing it on this page.",
            "success",
        )
        return redirect_to(url_for("publication.public", consultation_id=backer.consultation_id))
    return render(
        "publication/confirm_backer.html",
        backer=backer,
        consultation=backer.consultation,
        form=form,
    )


# The secretariat's list of backers ------------------------------------------------------------


def _state_filter() -> BackerState | None:
    value = request.args.get("state", "")
    try:
        return BackerState(value) if value else None
    except ValueError:
        return None


@bp.get("/consultations/<int:consultation_id>/backers")
def backers(consultation_id: int):
    """Every backer of a manifesto, with a state filter, to approve or reject (secretariat)."""
    consultation = load(Consultation, consultation_id, permissions.can_manage_backers)
    state = _state_filter()
    page = paginate(services.backers_query(consultation, state), per_page=PER_PAGE)
    return render(
        "publication/backers.html",
        consultation=consultation,
        page=page,
        pagination=pagination_params(page),
        state=state,
        states=list(BackerState),
        approve_form=ApproveBackerForm(),
    )


@bp.get("/consultations/<int:consultation_id>/backers.csv")
def backers_csv(consultation_id: int):
    """Every backer of a manifesto as CSV (secretariat)."""
    consultation = load(Consultation, consultation_id, permissions.can_manage_backers)
    day = utc_to_london(utcnow()).date().isoformat()
    name = f"{slug(consultation.title)}-backers-{day}.csv"
    response = current_app.response_class(services.backers_csv(consultation), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _load_backer(backer_id: int) -> Backer:
    return load(
        Backer,
        backer_id,
        lambda user, backer: permissions.can_manage_backers(user, backer.consultation),
    )


def _undecidable(backer: Backer):
    return errors.error_page(
        409,
        f"This backer cannot be approved or rejected: it is {backer.state.label.lower()}. "
        "Only a backer who has confirmed and is waiting for approval can be.",
    )


@bp.post("/backers/<int:backer_id>/approve")
def approve_backer(backer_id: int):
    """List a confirmed backer on the public page (secretariat)."""
    backer = _load_backer(backer_id)
    form = ApproveBackerForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.approve_backer(actor=current_user, backer=backer)
    except services.PublicationError:
        db.session.rollback()
        return _undecidable(backer)
    db.session.commit()
    flash(f"Backer approved: {backer.organisation_name}", "success")
    return redirect_to(url_for("publication.backers", consultation_id=backer.consultation_id))


@bp.route("/backers/<int:backer_id>/reject", methods=["GET", "POST"])
def reject_backer(backer_id: int):
    """Reject a confirmed backer, with a reason, after confirming (secretariat)."""
    backer = _load_backer(backer_id)
    if backer.state != BackerState.CONFIRMED:
        return _undecidable(backer)
    form = RejectBackerForm()
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                services.reject_backer(actor=current_user, backer=backer, reason=form.reason.data)
            except services.PublicationError as error:
                db.session.rollback()
                form.reason.errors = [*form.reason.errors, str(error)]
            else:
                db.session.commit()
                flash(f"Backer rejected: {backer.organisation_name}", "success")
                return redirect_to(
                    url_for("publication.backers", consultation_id=backer.consultation_id)
                )
    return render(
        "publication/reject_backer.html",
        status=status,
        form=form,
        backer=backer,
        consultation=backer.consultation,
    )
