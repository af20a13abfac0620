"""Full page or fragment, decided in one place; small htmx response helpers."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    """True for a request made by htmx that wants a fragment, not a history restore."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    template: str, block: str | None = None, *, status: int = 200, **context: Any
) -> Response:
    """Render the named block for an htmx request, the whole page otherwise."""
    if block is not None and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def trigger(response: Response, event: str, detail: Any = None) -> Response:
    """Add an HX-Trigger event for other parts of the page to react to."""
    existing = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
    existing[event] = detail if detail is not None else True
    response.headers["HX-Trigger"] = json.dumps(existing)
    return response


def redirect_to(location: str) -> Response:
    """Post/redirect/get: HX-Redirect for htmx, a 303 otherwise."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return make_response("", 303, {"Location": location})
