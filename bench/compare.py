"""How long comparing two versions of an ask takes when one paragraph is long and rewritten
throughout (issue 11: a 20,000-character paragraph took 6.6 s before the diff's work was
bounded, consult.text.MAX_DIFF_WORK).

    .venv/bin/python bench/compare.py [--characters 2000 20000] [--runs 5]

Each comparison is fetched through the test client as a member (the whole request: the
database read, the diff, the render), and so is a bare Flask page on the same app in the same
run, so the ratio says what the comparison costs beyond any request on this machine at this
moment. Also prints the diff alone (consult.text.paragraph_diff) for the same texts. Prints one
row per paragraph length: the request's and the diff's median milliseconds, and the ratio.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consult import create_app  # noqa: E402
from consult.extensions import db  # noqa: E402
from consult.models import Role  # noqa: E402
from consult.text import paragraph_diff  # noqa: E402
from tests.helpers import signed_in_session  # noqa: E402

VOCABULARY = (
    "councils climate funding net zero housing transport local plan energy heat retrofit "
    "budget people act now we support the aim of this ask and its wording"
).split()


def paragraph(seed: int, characters: int) -> str:
    """A paragraph of about `characters` characters of words drawn at random."""
    generator = random.Random(seed)
    words: list[str] = []
    length = 0
    while length < characters:
        word = generator.choice(VOCABULARY)
        words.append(word)
        length += len(word) + 1
    return " ".join(words) + "."


def median_ms(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--characters", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from tests import factories

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
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
            reader = factories.user(Role.MEMBER)
            asks = {}
            for characters in args.characters:
                old, new = paragraph(1, characters), paragraph(2, characters)
                body = "Introduction.\n\n{}\n\nConclusion."
                asks[characters] = (
                    factories.ask(versions=(body.format(old), body.format(new))).id,
                    old,
                    new,
                )
            db.session.commit()
            client = app.test_client()
            with client.session_transaction() as session:
                session.update(signed_in_session(reader))  # with the session's times

            def get(url: str):
                def action():
                    response = client.get(url)
                    assert response.status_code == 200, response.status_code

                return action

            bare = median_ms(get("/bench-bare"), max(args.runs, 50))
            print(f"bare Flask page: {bare:.2f} ms; median of {args.runs} runs")
            print(f"{'characters':>10} {'page ms':>9} {'x bare page':>12} {'diff ms':>9}")
            for characters, (ask_id, old, new) in asks.items():
                page = median_ms(get(f"/asks/{ask_id}/compare?from=1&to=2"), args.runs)
                diff = median_ms(lambda old=old, new=new: paragraph_diff(old, new), args.runs)
                print(
                    f"{characters:>10} {page:>9.1f} {page / bare:>12.0f} {diff:>9.1f}", flush=True
                )
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
