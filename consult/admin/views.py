"""Secretariat pages: organisations, people and the audit log.

Every route here is for the secretariat only: anonymous visitors are sent to sign in, and
anyone else gets 403 (checked once, before every request to this blueprint).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, request, url_for
from flask_login import current_user

from consult import mail as mail_queue
from consult import permissions
from consult.admin import personal_data, sentences, services
from consult.admin.forms import (
    ROLE_HINTS,
    AuditFilterForm,
    ChangeRoleForm,
    InviteForm,
    OrganisationFilterForm,
    OrganisationForm,
    PeopleFilterForm,
)
from consult.auth import services as accounts
from consult.auth.services import AccountError
from consult.errors import error_page
from consult.extensions import db
from consult.htmx import redirect_to, render
from consult.loading import load, require
from consult.models import AuditEvent, EmailState, Organisation, OutgoingEmail, Role, User
from consult.pagination import newest_first, newest_first_params, paginate, pagination_params

bp = Blueprint("admin", __name__, url_prefix="/admin")

ORGANISATIONS_PER_PAGE = 25
PEOPLE_PER_PAGE = 25
EVENTS_PER_PAGE = 50


@bp.before_request
def require_secretariat() -> None:
    """The secretariat only: anonymous visitors are sent to sign in, anyone else gets 403."""
    require(permissions.can_administer)


@bp.context_processor
def admin_helpers() -> dict[str, Any]:
    """Labels and small helpers for the admin templates."""
    return {
        "role_items": [{"hint": {"text": ROLE_HINTS[role]}} for role in Role],
        "person_status": services.person_status,
        "can_be_delegate": permissions.can_be_delegate,
        "can_erase_person": permissions.can_erase_person,
        "audit_object_url": audit_object_url,
        "audit_keys": audit_keys,
        "audit_value": audit_value,
        "redacted_keys": personal_data.redacted_keys,
    }


def audit_object_url(event: AuditEvent) -> str | None:
    """The admin page of an audit event's object, when there is one."""
    if event.object_id is None:
        return None
    if event.object_type == Organisation.__tablename__:
        return url_for("admin.organisation", organisation_id=event.object_id)
    if event.object_type == User.__tablename__:
        return url_for("admin.person", user_id=event.object_id)
    return None


def audit_keys(event: AuditEvent) -> list[str]:
    """The fields named in an event's before or after values, in order of first mention."""
    keys: dict[str, None] = {}
    for values in (event.before, event.after):
        if isinstance(values, dict):
            keys.update(dict.fromkeys(str(key) for key in values))
    return list(keys)


def audit_value(
    values: dict[str, Any] | None, key: str, hidden: frozenset[str] = frozenset()
) -> str:
    """One before or after value as plain text (Jinja escapes it); a key in `hidden` (an
    erased person's name or email address) reads "(erased)"."""
    if not isinstance(values, dict) or key not in values:
        return ""
    if key in hidden:
        return "(erased)"
    value = values[key]
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# Organisations ----------------------------------------------------------------------------


@bp.get("/organisations")
def organisations():
    """List organisations with how many people each has, filtered by status."""
    filters = OrganisationFilterForm(formdata=request.args)
    if not filters.validate():
        return render(
            "admin/organisations.html",
            filters=filters,
            page=None,
            counts={},
            pagination=None,
            status=400,
        )
    status = None if filters.status.data == "all" else filters.status.data
    page = paginate(services.organisations_statement(status), per_page=ORGANISATIONS_PER_PAGE)
    counts = services.people_counts([org.id for org in page.items])
    return render(
        "admin/organisations.html",
        filters=filters,
        page=page,
        counts=counts,
        pagination=pagination_params(page),
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
def create_organisation():
    """Add an organisation."""
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = services.create_organisation(
                actor=current_user,
                name=form.name.data,
                kind=form.kind.data,
                website=form.website.data,
            )
            db.session.commit()
        except services.AdminError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            flash(f"{organisation.name} added", "success")
            return redirect_to(url_for("admin.organisation", organisation_id=organisation.id))
    return render(
        "admin/organisation_form.html",
        form=form,
        organisation=None,
        status=422 if form.errors else 200,
    )


def _show_error(form: OrganisationForm, error: services.AdminError) -> None:
    """Put a service's refusal on the form field it names (the name, when none)."""
    getattr(form, error.field or "name", form.name).errors.append(str(error))


@bp.get("/organisations/<int:organisation_id>")
def organisation(organisation_id: int):
    """An organisation's details and its people."""
    organisation = load(Organisation, organisation_id)
    return render(
        "admin/organisation.html",
        organisation=organisation,
        people=services.organisation_people(organisation),
        delegates=accounts.organisation_delegates(organisation, include_deactivated=True),
    )


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
def edit_organisation(organisation_id: int):
    """Change an organisation's name, kind or website."""
    organisation = load(Organisation, organisation_id)
    # On POST only what was sent counts: a missing field is an error, not "unchanged".
    form = OrganisationForm(obj=organisation if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            changed = services.update_organisation(
                actor=current_user,
                organisation=organisation,
                name=form.name.data,
                kind=form.kind.data,
                website=form.website.data,
            )
            db.session.commit()
        except services.AdminError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            flash(
                "Organisation details saved" if changed else "Nothing was changed",
                "success" if changed else "info",
            )
            return redirect_to(url_for("admin.organisation", organisation_id=organisation.id))
    return render(
        "admin/organisation_form.html",
        form=form,
        organisation=organisation,
        status=422 if form.errors else 200,
    )


@bp.route("/organisations/<int:organisation_id>/deactivate", methods=["GET", "POST"])
def deactivate_organisation(organisation_id: int):
    """Confirm, then deactivate an organisation, signing all its people out."""
    organisation = load(Organisation, organisation_id)
    if request.method == "POST":
        try:
            signed_out = services.set_organisation_active(
                actor=current_user, organisation=organisation, active=False
            )
            db.session.commit()
        except services.AdminError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(
                f"{organisation.name} deactivated. {_people(signed_out).capitalize()} signed out.",
                "success",
            )
        return redirect_to(url_for("admin.organisation", organisation_id=organisation.id))
    return render(
        "admin/deactivate_organisation.html",
        organisation=organisation,
        active_people=services.active_people_count(organisation),
        own=organisation.id == current_user.organisation_id,
    )


@bp.post("/organisations/<int:organisation_id>/reactivate")
def reactivate_organisation(organisation_id: int):
    """Reactivate an organisation; its people can sign in again."""
    organisation = load(Organisation, organisation_id)
    try:
        services.set_organisation_active(actor=current_user, organisation=organisation, active=True)
        db.session.commit()
    except services.AdminError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(f"{organisation.name} reactivated", "success")
    return redirect_to(url_for("admin.organisation", organisation_id=organisation.id))


def _people(count: int) -> str:
    """'1 person' or 'N people'."""
    return "1 person" if count == 1 else f"{count} people"


# People -----------------------------------------------------------------------------------


@bp.get("/people")
def people():
    """List people, filtered by organisation, role and status."""
    filters = PeopleFilterForm(formdata=request.args)
    filters.set_organisations(services.all_organisations())
    if not filters.validate():
        return render("admin/people.html", filters=filters, page=None, pagination=None, status=400)
    organisation_id = int(filters.organisation_id.data) if filters.organisation_id.data else None
    page = paginate(
        services.people_statement(
            organisation_id=organisation_id,
            role=filters.role.data or None,
            status=filters.status.data or None,
        ),
        per_page=PEOPLE_PER_PAGE,
    )
    return render(
        "admin/people.html", filters=filters, page=page, pagination=pagination_params(page)
    )


@bp.route("/people/invite", methods=["GET", "POST"])
def invite_person():
    """Invite a person to an organisation: they get an email with a single-use link."""
    form = InviteForm()
    if request.method == "GET":
        form.organisation_id.data = request.args.get("organisation_id", "")
        form.role.data = Role.MEMBER.value
    form.set_organisations(services.active_organisations())
    if form.validate_on_submit():
        organisation = load(Organisation, int(form.organisation_id.data))
        try:
            person = accounts.invite(
                actor=current_user,
                email=form.email.data,
                name=form.name.data,
                organisation=organisation,
                role=Role(form.role.data),
            )
            db.session.commit()
        except AccountError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        else:
            flash(f"Invitation sent to {person.email}", "success")
            return redirect_to(url_for("admin.person", user_id=person.id))
    return render("admin/invite_person.html", form=form, status=422 if form.errors else 200)


@bp.get("/people/<int:user_id>")
def person(user_id: int):
    """A person's account: details, actions, and recent audit events."""
    person = load(User, user_id)
    events = services.events_about_or_by(person)
    return render(
        "admin/person.html",
        person=person,
        invitation=services.latest_invitation(person),
        accepted_at=services.invitation_accepted_at(person),
        events=events,
        sentences=sentences.describe(events),
        erased=personal_data.erased_in(events),
    )


@bp.post("/people/<int:user_id>/data.json")
def export_person(user_id: int):
    """Everything Consult holds about a person, as a JSON download (recorded in the audit
    log); organisation notes are counted, not included."""
    person = load(User, user_id)
    data = personal_data.export(actor=current_user, person=person)
    db.session.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    response = Response(body.encode(), mimetype="application/json")
    name = f"person-{person.id}-data.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/people/<int:user_id>/erase", methods=["GET", "POST"])
def erase_person(user_id: int):
    """Confirm, then erase a person's name and email address everywhere, keeping what
    their organisation contributed through them."""
    person = load(User, user_id)
    if request.method == "POST":
        try:
            personal_data.erase(actor=current_user, person=person)
            db.session.commit()
        except services.AdminError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(
                f"The person’s name and email address were erased: they are now “{person.name}”",
                "success",
            )
        return redirect_to(url_for("admin.person", user_id=person.id))
    return render(
        "admin/erase_person.html",
        person=person,
        own=person.id == current_user.id,
    )


@bp.post("/people/<int:user_id>/resend-invitation")
def resend_invitation(user_id: int):
    """Send a new invitation link; earlier links stop working."""
    person = load(User, user_id)
    try:
        accounts.resend_invitation(actor=current_user, user=person)
        db.session.commit()
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(f"A new invitation was sent to {person.email}", "success")
    return redirect_to(url_for("admin.person", user_id=person.id))


@bp.route("/people/<int:user_id>/role", methods=["GET", "POST"])
def change_role(user_id: int):
    """Give a person a different role; they are signed out so it takes effect at once."""
    person = load(User, user_id)
    form = ChangeRoleForm(data={"role": person.role.value} if request.method == "GET" else None)
    was_delegate = person.is_delegate
    if form.validate_on_submit():
        try:
            changed = accounts.change_role(
                actor=current_user, user=person, role=Role(form.role.data)
            )
            db.session.commit()
        except AccountError as error:
            db.session.rollback()
            form.role.errors.append(str(error))
        else:
            if changed:
                stopped = (
                    " and no longer a delegate" if was_delegate and not person.is_delegate else ""
                )
                flash(f"{person.name} is now {person.role.label.lower()}{stopped}", "success")
            else:
                flash("Nothing was changed", "info")
            return redirect_to(url_for("admin.person", user_id=person.id))
    return render(
        "admin/change_role.html", form=form, person=person, status=422 if form.errors else 200
    )


@bp.post("/people/<int:user_id>/delegate")
def set_delegate(user_id: int):
    """Name a member as their organisation's delegate, or stop them being one."""
    person = load(User, user_id)
    choice = request.form.get("delegate", "")
    if choice not in ("1", "0"):
        return error_page(
            400,
            "Choose whether to name this person as a delegate or stop them being one, "
            "from their page.",
        )
    delegate = choice == "1"
    try:
        changed = accounts.set_delegate(actor=current_user, user=person, delegate=delegate)
        db.session.commit()
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        organisation = person.organisation.name
        if not changed:
            flash("Nothing was changed", "info")
        elif delegate:
            flash(f"{person.name} is now a delegate for {organisation}", "success")
        else:
            flash(f"{person.name} is no longer a delegate for {organisation}", "success")
    return redirect_to(url_for("admin.person", user_id=person.id))


@bp.route("/people/<int:user_id>/deactivate", methods=["GET", "POST"])
def deactivate_person(user_id: int):
    """Confirm, then deactivate a person, signing them out everywhere."""
    person = load(User, user_id)
    if request.method == "POST":
        try:
            accounts.set_user_active(actor=current_user, user=person, active=False)
            db.session.commit()
        except AccountError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(f"{person.name} deactivated and signed out", "success")
        return redirect_to(url_for("admin.person", user_id=person.id))
    return render("admin/deactivate_person.html", person=person, own=person.id == current_user.id)


@bp.post("/people/<int:user_id>/reactivate")
def reactivate_person(user_id: int):
    """Reactivate a person's account."""
    person = load(User, user_id)
    try:
        accounts.set_user_active(actor=current_user, user=person, active=True)
        db.session.commit()
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(f"{person.name} reactivated", "success")
    return redirect_to(url_for("admin.person", user_id=person.id))


# Emails not sent -------------------------------------------------------------------------


@bp.get("/mail")
def mail():
    """Emails that failed or are waiting to be tried again, with their error and next try."""
    return render("admin/mail.html", emails=services.unsent_emails())


@bp.post("/mail/<int:email_id>/retry")
def retry_email(email_id: int):
    """Try one failed or retrying email again now."""
    email = load(OutgoingEmail, email_id)
    if email.state in (EmailState.QUEUED, EmailState.FAILED):
        mail_queue.retry_now(email, actor=current_user)
        db.session.commit()
        flash(f"Trying the email to {email.recipient} again now", "success")
    else:
        flash(f"The email to {email.recipient} is already {email.state.label.lower()}", "info")
    return redirect_to(url_for("admin.mail"))


# Audit log --------------------------------------------------------------------------------


@bp.get("/audit")
def audit_log():
    """The audit log, newest first, filtered by action, object, actor and dates; a page goes
    on from an event (older or newer than it) rather than by number, however long the log."""
    filters = AuditFilterForm(formdata=request.args)
    filters.set_choices(services.distinct_actions(), services.distinct_object_types())
    if not filters.validate():
        return render(
            "admin/audit_log.html", filters=filters, page=None, pagination=None, status=400
        )
    page = newest_first(
        services.audit_statement(
            action=filters.action.data or None,
            object_type=filters.object_type.data or None,
            actor_email=filters.actor.data or None,
            date_from=filters.date_from.data,
            date_to=filters.date_to.data,
            hide_sign_ins=filters.hide_sign_ins.data,
        ),
        AuditEvent,
        per_page=EVENTS_PER_PAGE,
    )
    return render(
        "admin/audit_log.html",
        filters=filters,
        page=page,
        sentences=sentences.describe(page.items),
        erased=personal_data.erased_in(page.items),
        pagination=newest_first_params(page),
    )
