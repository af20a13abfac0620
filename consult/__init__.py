"""Consult: where a coalition agrees the wording of a joint manifesto."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from consult import config as config_module
from consult.extensions import csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


class DatabaseIdConverter(IntegerConverter):
    """<int:...> limited to what an INTEGER column holds (PostgreSQL's is 32-bit)."""

    def __init__(
        self,
        map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = 2**31 - 1,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, errors, CLI."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    # Ids in URLs are database integers: a larger number is a 404, never a database error.
    app.url_map.converters["int"] = DatabaseIdConverter
    app.config.from_mapping(config_module.from_environment(Path(app.instance_path)))
    if test_config:
        app.config.from_mapping(test_config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = config_module.engine_options(app.config)
    logging.basicConfig(level=logging.INFO)
    # Behind a reverse proxy, the client's address, scheme and host come from X-Forwarded-*
    # (request.remote_addr is then the client's), believing only the trusted proxies' hops.
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies > 0:
        # Flask documents wrapping wsgi_app in middleware; mypy sees it as assigning a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )

    _configure_templates(app)
    _configure_extensions(app)
    _register_blueprints(app)

    from consult import assets, cli, errors, page_cache, security
    from consult.auth import sessions

    assets.register(app)
    page_cache.register(app)
    errors.register(app)
    security.register(app)
    sessions.register(app)
    cli.register(app)
    return app


def _configure_templates(app: Flask) -> None:
    app.jinja_options = {**app.jinja_options, "trim_blocks": True, "lstrip_blocks": True}
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    WTFormsHelpers(app)
    from consult import filters

    filters.register(app)


def _configure_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from consult.auth.views import load_user, unauthorised

    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorised)

    # The search index's mapper events: registered once, whatever writes the rows.
    import consult.search.index  # noqa: F401
    from consult.live.broker import for_app

    app.extensions["consult_broker"] = for_app(app)  # Redis, else the database (LIVE_BROKER)
    from consult.live.limits import OpenStreams

    app.extensions["consult_open_streams"] = OpenStreams()  # this process's, by person
    from consult.live.standing import SessionWatch

    # Their sessions, checked in one query per heartbeat for all of them.
    app.extensions["consult_session_watch"] = SessionWatch(app)


def _register_blueprints(app: Flask) -> None:
    from consult.admin.views import bp as admin_bp
    from consult.agreements.views import bp as agreements_bp
    from consult.amendments.views import bp as amendments_bp
    from consult.archive.views import bp as archive_bp
    from consult.asks.views import bp as asks_bp
    from consult.auth.views import bp as auth_bp
    from consult.comments.views import bp as comments_bp
    from consult.consultations.views import bp as consultations_bp
    from consult.dispositions.views import bp as dispositions_bp
    from consult.exports.views import bp as exports_bp
    from consult.live.views import bp as live_bp
    from consult.notes.views import bp as notes_bp
    from consult.notifications.views import bp as notifications_bp
    from consult.pages.views import bp as pages_bp
    from consult.positions.views import bp as positions_bp
    from consult.publication.views import bp as publication_bp
    from consult.reports.views import bp as reports_bp
    from consult.search.views import bp as search_bp
    from consult.signoff.views import bp as signoff_bp

    for blueprint in (
        auth_bp,
        consultations_bp,
        asks_bp,
        comments_bp,
        positions_bp,
        dispositions_bp,
        amendments_bp,
        notes_bp,
        agreements_bp,
        reports_bp,
        exports_bp,
        archive_bp,
        signoff_bp,
        notifications_bp,
        publication_bp,
        search_bp,
        live_bp,
        admin_bp,
        pages_bp,
    ):
        app.register_blueprint(blueprint)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL, foreign keys and a busy timeout on every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_begin_before_savepoint(connection, name) -> None:
    """Open SQLite's transaction before a savepoint that would otherwise be the first write.

    Python's sqlite3 module begins a transaction only before INSERT, UPDATE or DELETE; a
    SAVEPOINT sent outside one starts a transaction of its own, and its RELEASE commits it,
    so an outer rollback would leave that work saved.
    """
    dbapi_connection = connection.connection.dbapi_connection
    if type(dbapi_connection).__module__.startswith("sqlite3") and not (
        dbapi_connection.in_transaction
    ):
        connection.exec_driver_sql("BEGIN")
