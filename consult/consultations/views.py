"""The dashboard, consultation pages, and the secretariat's management of consultations."""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_login import current_user

from consult import permissions
from consult.consultations import services
from consult.consultations.forms import ConsultationForm
from consult.errors import refuse
from consult.extensions import db
from consult.htmx import redirect_to, render
from consult.models import Consultation
from consult.pagination import paginate, pagination_params
from consult.text import render_markdown

bp = Blueprint("consultations", __name__)

PER_PAGE = 20


@bp.get("/")
def index():
    """The public landing page for visitors; the dashboard of open consultations otherwise."""
    if not current_user.is_authenticated:
        page = paginate(services.published_consultations_query(), per_page=PER_PAGE)
        return render("consultations/landing.html", page=page, pagination=pagination_params(page))
    secretariat = permissions.can_administer(current_user)
    return render(
        "consultations/dashboard.html",
        open_consultations=services.open_consultations(),
        upcoming=services.upcoming_consultations() if secretariat else [],
        ended=services.recent_ended_consultations(),
    )


@bp.get("/consultations")
def manage():
    """Every consultation, newest first, for the secretariat to manage."""
    if not permissions.can_administer(current_user):
        refuse()
    page = paginate(services.all_consultations_query(), per_page=PER_PAGE)
    return render(
        "consultations/manage.html",
        page=page,
        pagination=pagination_params(page),
        ask_counts=services.ask_counts(list(page.items)),
    )


@bp.route("/consultations/new", methods=["GET", "POST"])
def create():
    """Create a consultation: its title, summary, dates and consensus rule."""
    if not permissions.can_administer(current_user):
        refuse()
    form = ConsultationForm()
    if request.method == "POST":
        if not form.validate():
            return render("consultations/form.html", status=422, form=form, consultation=None)
        consultation = services.create_consultation(actor=current_user, **form.values())
        db.session.commit()
        flash(f"Consultation created: {consultation.title}", "success")
        return redirect_to(url_for("consultations.show", consultation_id=consultation.id))
    return render("consultations/form.html", form=form, consultation=None)


@bp.get("/consultations/<int:consultation_id>")
def show(consultation_id: int):
    """A consultation: its summary, dates, consensus rule and asks, grouped by theme."""
    consultation = db.get_or_404(
        Consultation,
        consultation_id,
        options=[services.asks_and_versions()],
    )
    if not permissions.can_read_consultation(current_user, consultation):
        refuse()
    return render(
        "consultations/show.html",
        consultation=consultation,
        groups=services.themed_groups(consultation.asks),
        rule=services.consensus_rule(consultation),
        summary_html=render_markdown(consultation.summary or ""),
    )


@bp.route("/consultations/<int:consultation_id>/edit", methods=["GET", "POST"])
def edit(consultation_id: int):
    """Change a consultation's title, summary, dates or consensus rule."""
    if not permissions.can_administer(current_user):
        refuse()
    consultation = db.get_or_404(Consultation, consultation_id)
    if request.method == "POST":
        form = ConsultationForm()
        if not form.validate():
            return render(
                "consultations/form.html", status=422, form=form, consultation=consultation
            )
        changed = services.update_consultation(
            actor=current_user, consultation=consultation, **form.values()
        )
        db.session.commit()
        flash("Consultation updated" if changed else "No changes were made", "success")
        return redirect_to(url_for("consultations.show", consultation_id=consultation.id))
    form = ConsultationForm.for_consultation(consultation)
    return render("consultations/form.html", form=form, consultation=consultation)
