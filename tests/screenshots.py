"""The README's screenshots, made from the demo so they stay true: `make screenshots`.

Loads the demo into a temporary SQLite database, serves it on a free port of 127.0.0.1 and,
with Debian's Chromium, takes at 1280 px:
- the ask page of the open consultation's funding ask, as a delegate, with its positions,
  its open amendment, a paragraph's threads open in its margin and its discussion
  (static/screenshots/ask-page.png), and the same page
  on a 375 px phone screen (static/screenshots/ask-page-375.png);
- the manifesto view of the published consultation (static/screenshots/manifesto.png);
- the first page of that consultation's agreed text as PDF, downloaded without signing in
  and drawn with pypdfium2 (static/screenshots/agreed-text-pdf.png).

    make screenshots   (or: .venv/bin/python -m tests.screenshots [--out DIR])
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consult import create_app  # noqa: E402
from consult.extensions import db  # noqa: E402
from consult.models import Ask, Consultation  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "blueprint-demo-2026"
DELEGATE = "amira.khan@eastmere.example"
FUNDING_ASK = "Reform and devolve funding streams"


def _demo_app(folder: Path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'screenshots.sqlite3'}",
            "SECRET_KEY": "screenshots",
            "MAIL_OUTBOX": str(folder / "outbox"),
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["consult", "seed-demo"])
        if result.exit_code != 0:
            raise SystemExit(f"Could not load the demo:\n{result.output}")
        ask = db.session.scalar(db.select(Ask).where(Ask.title == FUNDING_ASK))
        published = db.session.scalar(
            db.select(Consultation).where(Consultation.published_at.is_not(None))
        )
        if ask is None or published is None:
            raise SystemExit("The demo has no funding ask or no published consultation.")
        return app, ask.id, published.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "static" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    import pypdfium2
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        app, ask_id, published_id = _demo_app(Path(folder))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(f"{base}/sign-in")
                page.get_by_label("Email address").fill(DELEGATE)
                page.get_by_label("Password", exact=True).fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                expect(page).not_to_have_url(f"{base}/sign-in")

                page.goto(f"{base}/asks/{ask_id}")
                page.wait_for_load_state("load")
                expect(page.locator(".app-amendment").first).to_be_visible()
                # The second paragraph's threads open in its margin.
                margin = page.get_by_role("complementary", name="Discussion of paragraph 2")
                margin.get_by_text("Show the threads").click()
                expect(margin.locator(".app-margin__thread").first).to_be_visible()
                page.mouse.move(0, 0)
                page.evaluate("document.activeElement.blur()")
                page.screenshot(path=out / "ask-page.png", full_page=True)
                # The same page on a phone: 375 px wide, its first screens.
                page.set_viewport_size({"width": 375, "height": 812})
                page.reload()
                page.wait_for_load_state("load")
                page.screenshot(path=out / "ask-page-375.png", full_page=False)
                page.set_viewport_size({"width": 1280, "height": 900})

                page.goto(f"{base}/consultations/{published_id}/manifesto")
                page.wait_for_load_state("load")
                expect(page.locator("#manifesto-text")).to_be_visible()
                page.screenshot(path=out / "manifesto.png", full_page=True)

                anonymous = browser.new_context()
                response = anonymous.request.get(f"{base}/consultations/{published_id}/agreed.pdf")
                if not response.ok:
                    raise SystemExit(f"The PDF download answered {response.status}")
                pdf = pypdfium2.PdfDocument(response.body())
                pdf[0].render(scale=1.5).to_pil().save(out / "agreed-text-pdf.png")
                pdf.close()
                browser.close()
        finally:
            server.shutdown()
            thread.join(timeout=5)
            # The live events' watcher polls the database from a thread of its own: stopped
            # first, or it opens the file again while the folder is being removed ("Directory
            # not empty", seen once in CI).
            app.extensions["consult_broker"].close()
            with app.app_context():
                db.engine.dispose()
    for name in ("ask-page.png", "ask-page-375.png", "manifesto.png", "agreed-text-pdf.png"):
        print(out / name)


if __name__ == "__main__":
    main()
