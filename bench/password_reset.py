"""How long asking for a password reset takes for an address with an account and for one
without (issue 11: the difference told which addresses have accounts).

    .venv/bin/python bench/password_reset.py [--runs 200] [--database-url URL]

Each request goes to the app served by werkzeug on 127.0.0.1 and is timed as a stranger
would time it: from sending the form to having the whole answer (the redirect). The two
kinds alternate, beside a bare Flask page on the same server in the same run; after each,
the bench waits until the work done after the answer (the lookup, and for the account a
link and a queued email) is finished, so every request finds the server idle. Emails are
queued as in production (MAIL_SERVER set, sent by a background thread that here finds no
server). Prints the median of each, its ratio to the bare page, and the ratio of the two
kinds (the aim: close to 1).
"""

from __future__ import annotations

import argparse
import http.client
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from consult import create_app  # noqa: E402
from consult.extensions import db  # noqa: E402
from consult.mail import wait_for_sent_mail  # noqa: E402
from consult.models import AuditEvent, Organisation, OrganisationKind, Role, User  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{folder / 'bench.db'}",
            "RATELIMIT_ENABLED": False,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": 9,  # nothing listens: the background sender fails and retries later
            "PUBLIC_URL": "http://consult.test",
        }
    )

    @app.get("/bare")
    def bare() -> str:
        return "ok"

    with app.app_context():
        db.create_all()
        organisation = Organisation(name="Bench council", kind=list(OrganisationKind)[0])
        db.session.add(organisation)
        db.session.add(
            User(email="ada@example.org", name="Ada", organisation=organisation, role=Role.MEMBER)
        )
        db.session.commit()
        db.session.get(User, 1).password_hash = "x"  # an active account that has a password
        db.session.commit()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("consult.mail").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def timed(method: str, path: str, body: str = "") -> float:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        start = time.perf_counter()
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - start
        connection.close()
        assert response.status in (200, 303), response.status
        return elapsed

    def requests_recorded() -> int:
        with app.app_context():
            return db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "user.request_password_reset")
            )

    times: dict[str, list[float]] = {"bare": [], "account": [], "no account": []}
    for n in range(args.runs):
        kinds = [("account", "ada@example.org"), ("no account", f"n{n}@example.org")]
        for kind, email in kinds if n % 2 else reversed(kinds):
            recorded = requests_recorded()
            times[kind].append(timed("POST", "/password-reset", f"email={email}"))
            while requests_recorded() == recorded:  # the work after the answer
                time.sleep(0.001)
            wait_for_sent_mail()  # and the sender's try at the email, if one was queued
        times["bare"].append(timed("GET", "/bare"))
    server.shutdown()

    medians = {kind: statistics.median(values) for kind, values in times.items()}
    for kind, median in medians.items():
        print(f"{kind:>11}: {median * 1000:7.2f} ms  ({median / medians['bare']:5.1f} x bare)")
    print(f"account / no account: {medians['account'] / medians['no account']:.2f}")


if __name__ == "__main__":
    main()
