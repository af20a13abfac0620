"""Local source rules, run by `make lint` beside ruff, mypy and bandit (issue 11). They are the
few checks the issue asks of semgrep, written over Python's own AST and the templates' text
(no extra tool to install):

1. `Markup(...)` only where the text is known safe: each use is listed below, by file and
   function, with why it is safe. A new use fails until it is reviewed and listed.
2. No `|safe` (or `| safe`) in templates: Markup from the code is the only way in.
3. No `render_template_string`: templates are files, never built from data.
4. No redirect to request data: `redirect(...)` / `redirect_to(...)` never takes an
   expression that reads `request` directly (a "next" address goes through the sign-in
   view's own check first).

    python .ci/source_rules.py      (exit 1 and a list of findings when a rule is broken)
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (file, function) -> why the text given to Markup is safe.
MARKUP_ALLOWED = {
    ("consult/text.py", "render_markdown"): "markdown-it with raw HTML off, then nh3",
    ("consult/text.py", "render_comment"): "the comment subset, then nh3",
    ("consult/text.py", "word_diff"): "every word escaped before <ins>/<del> are added",
    ("consult/text.py", "_with_breaks"): "escaped diff text; only our own tags",
    ("consult/exports/html.py", "wording_html"): "render_markdown's output, headings renamed",
    ("consult/search/services.py", "highlight"): "escaped snippet, markers made <mark>",
    ("consult/models/discussion.py", "body_markup"): (
        "render_comment's output, stored when the comment was written (Comment.rendered)"
    ),
    ("consult/models/discussion.py", "resolution_markup"): (
        "render_comment's output, stored when the response was written (Comment.rendered)"
    ),
}
SAFE_FILTER = re.compile(r"\|\s*safe\b")


def _functions(tree: ast.AST):
    """(function name, node) for every node, innermost function first."""
    stack: list[tuple[str, ast.AST]] = []

    def visit(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, child.name)
            else:
                stack.append((name, child))
                visit(child, name)

    visit(tree, "<module>")
    return stack


def _called(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _reads_request(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "request" for n in ast.walk(node))


def check(root: Path = ROOT) -> list[str]:
    findings = []
    for path in sorted((root / "consult").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), relative)
        for function, node in _functions(tree):
            if not isinstance(node, ast.Call):
                continue
            called = _called(node)
            where = f"{relative}:{node.lineno} ({function})"
            if called == "Markup" and (relative, function) not in MARKUP_ALLOWED:
                findings.append(f"{where}: Markup() on text not known to be safe")
            if called == "render_template_string":
                findings.append(f"{where}: render_template_string")
            if called in ("redirect", "redirect_to") and any(
                _reads_request(arg) for arg in [*node.args, *(k.value for k in node.keywords)]
            ):
                findings.append(f"{where}: a redirect to request data")
    for path in sorted((root / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SAFE_FILTER.search(line):
                findings.append(f"{path.relative_to(root).as_posix()}:{number}: |safe")
    return findings


def main() -> int:
    findings = check()
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} source rule finding(s)", file=sys.stderr)
        return 1
    print("source rules: no findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
