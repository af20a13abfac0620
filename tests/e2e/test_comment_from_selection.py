"""Comment from a selection in a real browser: a delegate selects words of a paragraph that
contain a curly apostrophe and run across emphasis, "Comment on this" opens the paragraph's
form with the words as its quote, the comment posts, and its thread, opened from its link,
marks the quoted words in the paragraph. axe finds nothing wrong with the selection's buttons
showing, the form open, or the quoted words marked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from consult.extensions import db
from consult.models import Participant, Role
from tests import factories
from tests.factories import PASSWORD
from tests.helpers import LiveServer, assert_accessible

WORDING = (
    "Every council should publish a plan.\n\n"
    "We ask that the UK’s **fair share** of the cost – not more – is met by 2040.\n\n"
    "- Homes\n- Transport"
)
SELECTED = "UK’s fair share of the cost – not"


@pytest.fixture
def ask_id(live_server: LiveServer) -> int:
    with live_server.app.app_context():
        green = factories.organisation("Green Futures")
        factories.user(
            Role.MEMBER, green, email="gina@green.example", name="Gina Green", is_delegate=True
        )
        secretariat = factories.user(
            Role.SECRETARIAT, factories.organisation("Coalition"), email="sam@coalition.example"
        )
        consultation = factories.consultation("Net zero by 2040")
        consultation.participants = [Participant(organisation=green)]
        ask = factories.ask(
            consultation, title="Pay a fair share", versions=(WORDING,), author=secretariat
        )
        db.session.commit()
        return ask.id


def sign_in(browser: Browser, server: LiveServer, email: str) -> Page:
    context = browser.new_context()
    context.set_default_timeout(5000)
    page = context.new_page()
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    return page


# Select the words: a Range from one text node of the paragraph to another (across the
# <strong>), then, as a mouse would, the button comes up (or not, as with the keyboard:
# the page then has only the selectionchange event to go by).
SELECT_WORDS = """([anchor, first, last, mouse]) => {
  const text = document.querySelector(`.app-paragraph__text[data-paragraph="${anchor}"]`)
  const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT)
  const nodes = []
  for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push(node)
  const start = nodes.find((node) => node.data.includes(first))
  const end = nodes.find((node) => node.data.includes(last))
  const range = document.createRange()
  range.setStart(start, start.data.indexOf(first))
  range.setEnd(end, end.data.indexOf(last) + last.length)
  const selection = window.getSelection()
  selection.removeAllRanges()
  selection.addRange(range)
  if (mouse) document.dispatchEvent(new MouseEvent('mouseup', { bubbles: true }))
  return selection.toString()
}"""


def test_comment_on_words_selected_with_a_curly_apostrophe(
    browser: Browser, live_server: LiveServer, ask_id: int
):
    page = sign_in(browser, live_server, "gina@green.example")
    try:
        page.goto(f"{live_server.url}/asks/{ask_id}")
        paragraph = page.locator(".app-paragraph").nth(1)
        expect(paragraph.locator(".app-paragraph__number")).to_have_text("¶Paragraph 2")
        anchor = paragraph.get_attribute("id")
        tools = page.get_by_role("group", name="Selected words")
        expect(tools).to_have_count(0)

        selected = page.evaluate(SELECT_WORDS, [anchor, "UK’s", "not", True])
        assert selected == SELECTED
        comment = tools.get_by_role("button", name="Comment on this")
        expect(comment).to_be_visible()
        expect(tools.get_by_role("button", name="Propose new wording")).to_be_visible()
        expect(paragraph.locator(".app-selection-tools")).to_be_visible()  # beside its words
        assert_accessible(page)

        # Escape puts the buttons away; selecting again, without a mouse, brings them back,
        # next in the tab order after the paragraph's words; the keyboard presses them.
        page.keyboard.press("Escape")
        expect(comment).to_be_hidden()
        page.evaluate(SELECT_WORDS, [anchor, "UK’s", "not", False])
        expect(comment).to_be_visible()
        assert page.evaluate(
            """(anchor) => document.querySelector(`#${anchor} .app-paragraph__text`)
                .nextElementSibling.matches('.app-selection-tools')""",
            anchor,
        )
        comment.focus()

        page.keyboard.press("Enter")
        form = page.locator(f"#paragraph-form-{anchor} form")
        expect(form.get_by_label("Quote a phrase from this paragraph (optional)")).to_have_value(
            SELECTED
        )
        body = form.locator("textarea[name=body]")
        expect(body).to_be_focused()
        expect(comment).to_be_hidden()
        assert_accessible(page)

        body.fill("Who decides what is fair?")
        form.get_by_role("button", name="Post comment").click()
        done = page.locator(f"#paragraph-form-{anchor}").get_by_text("Your comment has been posted")
        expect(done).to_be_visible()
        thread = page.locator(".app-comment").filter(has_text="Who decides what is fair?")
        expect(thread.locator(".app-quote")).to_contain_text(SELECTED)

        # Its thread, opened from its link, marks the quoted words in the paragraph.
        page.locator(f"#paragraph-form-{anchor}").get_by_role(
            "link", name="View your comment"
        ).click()
        expect(page).to_have_url(re.compile(r"thread=\d+#comment-\d+$"))
        marks = page.locator(f"#{anchor} mark.app-quote-mark")
        expect(marks).to_have_text(["UK’s ", "fair share", " of the cost – not"])
        expect(page.locator("mark")).to_have_count(3)
        assert_accessible(page)

        # "Propose new wording" opens the amendment form on the paragraph of the words.
        page.goto(f"{live_server.url}/asks/{ask_id}")
        page.evaluate(SELECT_WORDS, [anchor, "UK’s", "not", True])
        tools.get_by_role("button", name="Propose new wording").click()
        expect(page).to_have_url(re.compile(r"/amendments/new\?paragraph=p-\w+&quote=UK"))
        expect(page.get_by_role("radio", name=re.compile(r"^Paragraph 2"))).to_be_checked()
    finally:
        page.context.close()
