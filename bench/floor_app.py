"""The least a signed-in comment POST can do with Consult's stack: the floor under its figure.

    gunicorn -c python:consult.gunicorn_pages bench.floor_app:app   (FLOOR_DATABASE=path)

POST /notes: the same libraries as Consult, each used the plain way, and nothing else: Flask's signed
session cookie; Flask-Login loading the person by the session's token (one ORM select);
Flask-WTF checking the form token and the fields; one ORM row inserted and committed on SQLite
(WAL, synchronous NORMAL, as Consult's); and a Jinja fragment answering with a fresh form (a
new form token field and submission key). No permission check, no ask or version loaded, no
audit event, live event or search index row, no rate limit: what Consult's POST does on top
of this is its own cost (bench/post_floor.py measures both with a bare Flask page).

POST /asks/<id>/notes is the same with the duties of Consult's comment POST added, each done
the plain way: the ask loaded with its consultation and versions (one ORM select, joined) and
the consultation's state checked; the comment's Markdown rendered and cleaned by Consult's own
renderer (consult.text.render_comment) and stored with it; and, by Core, its row in a full-
text index (FTS5), an audit event, a live event and the page cache's revision. Still no
savepoint, rate limit, session expiry or security headers, and a one-line form; and a form sent
again (a submission key used before) is not looked for: the bench never sends one.

GET /sign-in/<token> signs the bench in as that person (the bench's only way in: this is not
an app). The database is made when the module is first imported, with one person, and one ask
in an open consultation with one draft.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime

from flask import Flask, abort, redirect, render_template
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import FlaskForm
from jinja2 import DictLoader
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, event, insert, select, text
from sqlalchemy.dialects.sqlite import insert as upsert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, joinedload, mapped_column, relationship
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from consult.text import COMMENT_RENDERER_VERSION, render_comment

TOKEN = "floor-bench-person"


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()


class Person(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    session_token: Mapped[str] = mapped_column(String(64), unique=True)

    def get_id(self) -> str:
        return self.session_token


class Note(db.Model):
    __table_args__ = (UniqueConstraint("author_id", "submission_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    submission_key: Mapped[str | None] = mapped_column(String(64))


class Consultation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20))


class Ask(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id"))
    title: Mapped[str] = mapped_column(String(200))
    consultation: Mapped[Consultation] = relationship()
    versions: Mapped[list[Version]] = relationship(order_by="Version.number")


class Version(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id"), index=True)
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text)


class Comment(db.Model):
    __table_args__ = (UniqueConstraint("author_id", "submission_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    body_html_version: Mapped[int]
    submission_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class AuditEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    actor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    action: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    after: Mapped[str] = mapped_column(Text)


class LiveEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    created_at: Mapped[datetime]


class Revision(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


AUDIT = insert(AuditEvent.__table__)
LIVE = insert(LiveEvent.__table__)
SEARCH = text("INSERT INTO search_fts (rowid, body) VALUES (:id, :body)")


class NoteForm(FlaskForm):
    body = TextAreaField("Comment", validators=[DataRequired(), Length(max=5000)])
    submission_key = HiddenField()
    paragraph = HiddenField()
    placement = HiddenField()


FORM = """<form method="post" action="/notes" hx-post="/notes" hx-swap="outerHTML">
{% if message %}<p role="status">{{ message }}</p>{% endif %}
{{ form.csrf_token }}{{ form.submission_key(value=key) }}
<label for="body">{{ form.body.label.text }}</label>
{{ form.body(rows=5) }}
{% for error in form.body.errors %}<p class="error">{{ error }}</p>{% endfor %}
<button>Post comment</button>
</form>"""


@event.listens_for(Engine, "connect")
def _pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(32),
    SQLALCHEMY_DATABASE_URI=f"sqlite:///{os.environ.get('FLOOR_DATABASE', '/tmp/floor.db')}",
)
app.jinja_loader = DictLoader({"form.html": FORM})  # compiled once, as Consult's templates
db.init_app(app)
login_manager.init_app(app)


@login_manager.user_loader
def load_person(token: str) -> Person | None:
    return db.session.scalar(select(Person).where(Person.session_token == token))


with app.app_context():
    db.create_all()
    if db.session.scalar(select(Person)) is None:
        db.session.execute(
            text("CREATE VIRTUAL TABLE search_fts USING fts5(body, tokenize='porter')")
        )
        db.session.add(Person(session_token=TOKEN))
        consultation = Consultation(state="open")
        ask = Ask(consultation=consultation, title="An ask")
        ask.versions.append(Version(number=1, body="The draft."))
        db.session.add(ask)
        db.session.commit()


@app.get("/sign-in/<token>")
def sign_in(token: str):
    person = load_person(token)
    if person is None:
        abort(404)
    login_user(person)
    return redirect("/notes/new")


@app.get("/notes/new")
@login_required
def new():
    return render_template("form.html", form=NoteForm(formdata=None), key=secrets.token_hex(16))


@app.post("/notes")
@login_required
def create():
    form = NoteForm()
    if not form.validate_on_submit():
        return render_template("form.html", form=form, key=form.submission_key.data), 422
    db.session.add(
        Note(
            author_id=current_user.id, body=form.body.data, submission_key=form.submission_key.data
        )
    )
    db.session.commit()
    fresh = NoteForm(formdata=None)
    return render_template(
        "form.html", form=fresh, key=secrets.token_hex(16), message="Your comment has been posted"
    )


@app.post("/asks/<int:ask_id>/notes")
@login_required
def create_with_duties(ask_id: int):
    ask = db.session.get(
        Ask, ask_id, options=[joinedload(Ask.consultation), joinedload(Ask.versions)]
    )
    if ask is None or ask.consultation.state != "open" or not ask.versions:
        abort(404)
    form = NoteForm()
    if not form.validate_on_submit():
        return render_template("form.html", form=form, key=form.submission_key.data), 422
    now = datetime.now(UTC).replace(tzinfo=None)
    comment = Comment(
        ask_id=ask.id,
        version_id=ask.versions[-1].id,
        author_id=current_user.id,
        body=form.body.data,
        body_html=str(render_comment(form.body.data)),
        body_html_version=COMMENT_RENDERER_VERSION,
        submission_key=form.submission_key.data,
        created_at=now,
    )
    db.session.add(comment)
    db.session.flush()
    db.session.execute(SEARCH, {"id": comment.id, "body": comment.body})
    after = json.dumps({"version_id": comment.version_id, "body": comment.body})
    db.session.execute(
        AUDIT,
        {
            "created_at": now,
            "actor_id": current_user.id,
            "action": "comment.create",
            "object_id": comment.id,
            "after": after,
        },
    )
    db.session.execute(
        LIVE,
        {"ask_id": ask.id, "name": "comment-added", "object_id": comment.id, "created_at": now},
    )
    db.session.execute(
        upsert(Revision.__table__)
        .values(id=1, token=secrets.token_hex(16))
        .on_conflict_do_update(index_elements=["id"], set_={"token": secrets.token_hex(16)})
    )
    db.session.commit()
    fresh = NoteForm(formdata=None)
    return render_template(
        "form.html", form=fresh, key=secrets.token_hex(16), message="Your comment has been posted"
    )
