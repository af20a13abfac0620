"""Hypothesis fuzzes the Markdown pipeline (issue 11's suite, at least 500 examples a run):
whatever the source — random text mixed with HTML, event handlers, `javascript:`/`data:`
links, htmx attributes, SVG and broken markup — the HTML that reaches a page holds only the
allow-listed tags and attributes, no link but http(s)/mailto, and every class is one the
pipeline adds itself."""

from __future__ import annotations

from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult.text import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    COMMENT_TAGS,
    render_comment,
    render_markdown,
)

PIECES = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle/></svg>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    '<div hx-get="/admin" hx-trigger="load">',
    '<p hx-on:click="alert(1)">',
    '<span data-hx-post="/x">',
    "<iframe src=//evil>",
    "<style>*{x:expression(alert(1))}</style>",
    '"><script>',
    "<a href='http://ok.example' onclick=alert(1)>ok</a>",
    "<math><mi xlink:href=javascript:alert(1)>",
    "<<script>script>",
    "<scr<script>ipt>",
    "&lt;script&gt;",
    "<!--",
    "-->",
    "<![CDATA[",
    "`<script>`",
    "```\n<script>\n```",
    "> <b onmouseover=alert(1)>",
    "* <u>",
    "1. <form action=//evil><input>",
    '[a](http://ok.example "t" onmouseover=alert(1))',
    "<details open ontoggle=alert(1)>",
    "\u202e",
    "\x0b",
    "\n\n",
    "**",
    "_",
]
source = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(max_size=20)), min_size=1, max_size=12
).map("".join)

OWN_CLASSES = {
    "govuk-body",
    "govuk-list",
    "govuk-list--bullet",
    "govuk-list--number",
    "govuk-heading-m",
    "govuk-heading-s",
    "govuk-inset-text",
    "govuk-section-break",
    "govuk-section-break--m",
    "govuk-section-break--visible",
    "govuk-link",
    "app-code",
}
SAFE_SCHEMES = ("http://", "https://", "mailto:")


def _check(html: str, tags: set[str]) -> None:
    soup = BeautifulSoup(html, "html.parser")
    for element in soup.find_all(True):
        assert element.name in tags, element
        allowed = ALLOWED_ATTRIBUTES.get(element.name, set()) | {"class", "rel"}
        for name, value in element.attrs.items():
            assert name in allowed, (element.name, name)
            if name == "class":
                assert set(value) <= OWN_CLASSES, value
            if name == "href":
                assert value.startswith(SAFE_SCHEMES) or not value or value.startswith("#"), value
    # Whatever was not allowed is text now: "<script" can only appear escaped.
    assert "<script" not in html.lower()


FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(source)
def test_the_wording_pipeline_emits_only_allowed_markup(text):
    _check(str(render_markdown(text)), ALLOWED_TAGS)


@FUZZ
@given(source)
def test_the_comment_pipeline_emits_only_allowed_markup(text):
    _check(str(render_comment(text)), COMMENT_TAGS)
