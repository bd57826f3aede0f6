"""Renders a page template with what every page needs: the user, the CSRF token, the language."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from web.i18n import current_language
from web.keys import TEMPLATES, USER_KEY, CurrentUser


def current_user(request: web.Request) -> CurrentUser | None:
    return request.get(USER_KEY)


def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    user = current_user(request)
    page = request.app[TEMPLATES].get_template(template)
    text = page.render(
        user=user,
        csrf_token=user.session.csrf_token if user else "",
        lang=current_language(),
        # Where the language switch comes back to: a page answering a POST has no GET twin.
        this_page=request.path_qs if request.method == "GET" else "/",
        **(context or {}),
    )
    response = web.Response(text=text, content_type="text/html", status=status)
    # Pages show client data: keep them out of shared caches and the browser's disk cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = current_language()
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
    )
    return response
