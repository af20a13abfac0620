"""The local source rules of `make lint` (.ci/source_rules.py) find what they are for, and
find nothing in Consult as it is."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _rules():
    spec = importlib.util.spec_from_file_location("source_rules", ROOT / ".ci" / "source_rules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_consult_breaks_no_rule():
    assert _rules().check() == []


def test_each_rule_finds_its_fault(tmp_path):
    (tmp_path / "consult").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "consult" / "bad.py").write_text(
        "from flask import redirect, render_template_string, request\n"
        "from markupsafe import Markup\n"
        "def page():\n"
        "    name = request.args['name']\n"
        "    Markup(name)\n"
        "    render_template_string('{{ x }}')\n"
        "    return redirect(request.args.get('next'))\n"
    )
    (tmp_path / "templates" / "bad.html").write_text("<p>{{ comment.body | safe }}</p>\n")
    findings = _rules().check(tmp_path)
    assert findings == [
        "consult/bad.py:5 (page): Markup() on text not known to be safe",
        "consult/bad.py:6 (page): render_template_string",
        "consult/bad.py:7 (page): a redirect to request data",
        "templates/bad.html:1: |safe",
    ]
