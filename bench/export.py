"""How long each download of the agreed text takes, and how large it is, for a big
consultation: 10 asks, 5 versions each and 1,000 comments per ask, every ask agreed on its
v5 with accepted amendments credited and organisations endorsing.

    .venv/bin/python bench/export.py [--asks 10] [--versions 5] [--comments 1000] [--runs 3]
                                     [--database-url URL]

Each format is fetched through the test client as the secretariat (the whole request: the
database read, the render, the response), and so is a bare Flask page on the same app in the
same run, so the ratio says what the export costs beyond any request on this machine at this
moment. Prints one row per format: median seconds, size, and the ratio to the bare page.
The issue's bar: every format under 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consult import create_app  # noqa: E402
from consult.auth.sessions import SEEN_AT, SIGNED_IN_AT  # noqa: E402
from consult.extensions import db  # noqa: E402
from consult.models import (  # noqa: E402
    Comment,
    Decision,
    Endorsement,
    Participant,
    Role,
    Stance,
    utcnow,
)

FORMATS = ("md", "html", "docx", "pdf")
PARAGRAPHS = [
    "We call on every party to commit to long-term, consolidated funding that councils can "
    "plan around and combine to meet local needs, so that *local authorities* can act at "
    "the scale and pace required.",
    "Short-term, competitive bidding pots should give way to settlements of at least five "
    "years, which councils can plan around and combine to meet local needs.",
    "- Retrofit existing homes street by street\n- Make new housing zero carbon\n"
    "- Decarbonise local transport and heat",
    "Councils know their communities, their housing, their transport and their local "
    "economies, and are uniquely well placed to drive carbon emissions reductions and to "
    "develop climate resilient services.",
]


def wording(ask: int, version: int) -> str:
    return "\n\n".join(
        f"{text} (Ask {ask}, v{version}.)" if not text.startswith("-") else text
        for text in PARAGRAPHS * 2
    )


def seed(asks: int, versions: int, comments: int) -> tuple[int, str]:
    """The consultation, every ask agreed on its last version; returns its id and the
    secretariat's session token."""
    from consult.agreements.services import declare_agreed
    from consult.amendments import services as amendments
    from consult.asks.services import publish_version
    from consult.mail import unsent
    from consult.positions.services import set_position
    from consult.text import paragraphs
    from tests import factories

    secretariat = factories.user(Role.SECRETARIAT, factories.organisation("Secretariat"))
    organisations = [factories.organisation(f"Organisation {n}") for n in range(1, 10)]
    delegates = [factories.user(Role.MEMBER, org, is_delegate=True) for org in organisations]
    consultation = factories.consultation("A big consultation")
    consultation.participants = [Participant(organisation=org) for org in organisations]
    db.session.commit()
    with unsent():
        for a in range(1, asks + 1):
            ask = factories.ask(
                consultation, title=f"Ask {a}", versions=(), author=secretariat, theme="Theme"
            )
            publish_version(actor=secretariat, ask=ask, body=wording(a, 1), change_note="")
            db.session.commit()
            for v in range(2, versions + 1):
                # Each later version accepts one amendment to its first paragraph.
                current = ask.current_version
                first = paragraphs(current.body)[0]
                amendment, _ = amendments.propose(
                    actor=delegates[v % len(delegates)],
                    ask=ask,
                    paragraph=first.anchor,
                    wording=wording(a, v).split("\n\n")[0],
                    rationale="Clearer.",
                )
                amendments.accept(
                    actor=secretariat, ask=ask, amendments=[amendment], change_note="Round."
                )
                db.session.commit()
            version = ask.current_version
            now = utcnow()
            db.session.execute(
                insert(Comment),
                [
                    {
                        "ask_id": ask.id,
                        "version_id": version.id,
                        "author_id": delegates[n % len(delegates)].id,
                        "organisation_id": delegates[n % len(delegates)].organisation_id,
                        "body": f"Comment {n}: we *support* this, with one change.",
                        # A bulk insert bypasses the events that render a comment's HTML.
                        **Comment.rendered(f"Comment {n}: we *support* this, with one change."),
                        "state": "visible",
                        "created_at": now,
                    }
                    for n in range(comments)
                ],
            )
            for delegate in delegates:
                set_position(actor=delegate, ask=ask, stance=Stance.SUPPORT, reason="")
            db.session.commit()
            declare_agreed(actor=secretariat, ask=ask, reason="", based_on=versions)
            db.session.commit()
    db.session.add_all(
        Endorsement(
            consultation=consultation,
            organisation=org,
            decision=Decision.ENDORSE,
            list_publicly=n % 3 != 0,
            set_by=delegates[n],
        )
        for n, org in enumerate(organisations)
    )
    db.session.commit()
    return consultation.id, secretariat.session_token


def median_get(client, url: str, runs: int) -> tuple[float, int]:
    response = client.get(url)  # warm caches (templates, fonts)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(times), len(response.data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=10)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database-url",
        default=None,
        help="a scratch database whose tables the bench creates and drops "
        "(default: a temporary SQLite file)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "MAIL_OUTBOX": str(Path(folder) / "outbox"),
                "RATELIMIT_ENABLED": False,
                "ARGON2_TIME_COST": 1,
                "ARGON2_MEMORY_COST": 1024,
            }
        )
        app.add_url_rule("/bench-bare", "bench_bare", lambda: "ok")
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            consultation_id, token = seed(args.asks, args.versions, args.comments)
            print(
                f"database: {url.split(':')[0]}; {args.asks} asks x {args.versions} versions, "
                f"{args.comments} comments per ask (seeded in {time.perf_counter() - started:.0f} s); "
                f"median of {args.runs} runs"
            )
            client = app.test_client()
            with client.session_transaction() as session:
                now = int(time.time())  # signed in now, as signing in does
                session.update({"_user_id": token, "_fresh": True, SIGNED_IN_AT: now, SEEN_AT: now})
            bare, _ = median_get(client, "/bench-bare", max(args.runs, 50))
            print(f"bare Flask page: {bare * 1000:.2f} ms")
            print(f"{'format':>6} {'seconds':>8} {'KiB':>8} {'x bare page':>12}  under 5 s")
            worst = 0.0
            for fmt in FORMATS:
                seconds, size = median_get(
                    client, f"/consultations/{consultation_id}/agreed.{fmt}", args.runs
                )
                worst = max(worst, seconds)
                print(
                    f"{fmt:>6} {seconds:>8.3f} {size / 1024:>8.1f} {seconds / bare:>12.0f}  "
                    f"{'yes' if seconds < 5 else 'NO'}",
                    flush=True,
                )
            print(f"slowest: {worst:.3f} s")
            db.session.remove()
            if args.database_url:
                db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
