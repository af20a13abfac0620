"""How long asking for a password reset takes for an address with an account and for one
without (issue 11: the difference told which addresses have accounts).

    .venv/bin/python bench/password_reset.py [--runs 200] [--database-url URL]

Each request goes through the test client (the whole request: the form, the database work,
the redirect), alternating the two kinds, beside a bare Flask page on the same app in the
same run. Emails are queued as in production (MAIL_SERVER set, sent by a background thread
that here finds no server), so the request's own work is what is timed. Prints the median of
each, its ratio to the bare page, and the ratio of the two kinds (the aim: close to 1).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consult import create_app  # noqa: E402
from consult.extensions import db  # noqa: E402
from consult.models import Organisation, OrganisationKind, Role, User  # noqa: E402


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

    client = app.test_client()
    times: dict[str, list[float]] = {"bare": [], "account": [], "no account": []}
    for n in range(args.runs):
        for kind, email in (("account", "ada@example.org"), ("no account", f"n{n}@example.org")):
            start = time.perf_counter()
            response = client.post("/password-reset", data={"email": email})
            times[kind].append(time.perf_counter() - start)
            assert response.status_code == 303, response.status_code
        start = time.perf_counter()
        client.get("/bare")
        times["bare"].append(time.perf_counter() - start)

    medians = {kind: statistics.median(values) for kind, values in times.items()}
    for kind, median in medians.items():
        print(f"{kind:>11}: {median * 1000:7.2f} ms  ({median / medians['bare']:5.1f} x bare)")
    print(f"account / no account: {medians['account'] / medians['no account']:.2f}")


if __name__ == "__main__":
    main()
