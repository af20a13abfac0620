"""The dashboard, consultation pages, and the secretariat's management of consultations."""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_login import current_user

from consult import permissions
from consult.asks import visits
from consult.comments import queries as comment_queries
from consult.consultations import services
from consult.consultations.forms import ConsultationForm, ParticipantsForm
from consult.extensions import db
from consult.htmx import redirect_to, render
from consult.loading import load, require
from consult.models import Ask, Consultation, Organisation
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
    open_consultations = services.open_consultations()
    asks = [ask for consultation in open_consultations for ask in consultation.asks]
    return render(
        "consultations/dashboard.html",
        open_consultations=open_consultations,
        activity=services.discussion_activity(asks, current_user),
        news=visits.since_last_visit(asks, current_user),
        upcoming=services.upcoming_consultations() if secretariat else [],
        ended=services.recent_ended_consultations(),
    )


@bp.get("/consultations")
def manage():
    """Every consultation, newest first, for the secretariat to manage."""
    require(permissions.can_administer)
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
    require(permissions.can_administer)
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
    consultation = load(
        Consultation,
        consultation_id,
        permissions.can_read_consultation,
        options=[services.asks_and_versions()],
    )
    # Members and observers are not shown asks the secretariat has not published yet.
    asks = [ask for ask in consultation.asks if permissions.can_read_ask(current_user, ask)]
    see_participants = permissions.can_see_participants(current_user)
    participants = services.participating_organisations(consultation) if see_participants else None
    return render(
        "consultations/show.html",
        consultation=consultation,
        participants=participants,
        grid=_grid(consultation, participants, asks),
        asks=asks,
        groups=services.themed_groups(asks),
        rule=services.consensus_rule(consultation),
        summary_html=render_markdown(consultation.summary or ""),
        unresolved=(
            comment_queries.unresolved_count(consultation.id)
            if permissions.can_moderate(current_user)
            else None
        ),
    )


def _grid(consultation: Consultation, participants: list[Organisation] | None, asks: list[Ask]):
    """The participation grid of the asks the reader may read: every organisation taking
    part for the secretariat, the member's own organisation (if it takes part) for a member,
    none for anyone else."""
    if participants is None or not asks:
        return None
    if permissions.can_administer(current_user):
        rows = participants
    else:
        rows = [o for o in participants if o.id == current_user.organisation_id]
    if not rows:
        return None
    return services.participation_grid(consultation, rows, current_user, asks)


@bp.route("/consultations/<int:consultation_id>/edit", methods=["GET", "POST"])
def edit(consultation_id: int):
    """Change a consultation's title, summary, dates or consensus rule."""
    require(permissions.can_administer)
    consultation = load(Consultation, consultation_id)
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


@bp.route("/consultations/<int:consultation_id>/organisations", methods=["GET", "POST"])
def participants(consultation_id: int):
    """Choose which member organisations take part in a consultation (its quorum counts them)."""
    consultation = load(Consultation, consultation_id, permissions.can_change_participants)
    eligible = services.member_organisations()
    taking_part = services.participating_organisations(consultation)
    form = ParticipantsForm(
        data={"organisations": [org.id for org in taking_part]} if request.method == "GET" else None
    )
    form.set_organisations(eligible)
    if form.validate_on_submit():
        try:
            changed = services.set_participants(
                actor=current_user,
                consultation=consultation,
                organisations=services.organisations_with_ids(form.organisations.data or []),
            )
            db.session.commit()
        except services.ConsultationError as error:
            db.session.rollback()
            form.organisations.errors.append(str(error))
        else:
            flash(
                "Organisations taking part saved" if changed else "Nothing was changed",
                "success" if changed else "info",
            )
            return redirect_to(url_for("consultations.show", consultation_id=consultation.id))
    eligible_ids = {org.id for org in eligible}
    return render(
        "consultations/participants.html",
        form=form,
        consultation=consultation,
        eligible=eligible,
        no_longer_eligible=[org for org in taking_part if org.id not in eligible_ids],
        status=422 if form.errors else 200,
    )
