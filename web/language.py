"""The RU | EN switch: POST /lang keeps the chosen language in a cookie and goes back."""

from __future__ import annotations

from aiohttp import web

from web.auth import LOGIN_CSRF_COOKIE, tokens_match
from web.i18n import LANG_COOKIE, LANGUAGES
from web.i18n import gettext as _
from web.keys import CONFIG
from web.render import current_user

ONE_YEAR = 365 * 24 * 3600


def local_target(target: str) -> str:
    """`target` if it is a path on this site, else the start page: never an open redirect."""
    if (
        not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(ord(char) < 32 for char in target)
    ):
        return "/"
    return target


async def choose_language(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    # A logged-in employee's token was checked by the CSRF middleware; before login the
    # switch sits on the login page and carries that form's double-submit token.
    if current_user(request) is None:
        sent = str(form.get("csrf_token", ""))
        if not sent or not tokens_match(sent, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
            raise web.HTTPForbidden(text=_("Запрос отклонён: устаревшая форма, обновите страницу."))
    language = str(form.get("lang", ""))
    if language not in LANGUAGES:
        raise web.HTTPBadRequest(text=_("Неизвестный язык"))
    response = web.HTTPSeeOther(location=local_target(str(form.get("next", "/"))[:2000]))
    response.set_cookie(
        LANG_COOKIE,
        language,
        max_age=ONE_YEAR,
        httponly=True,
        samesite="Lax",
        secure=request.app[CONFIG].secure_cookies,
        path="/",
    )
    raise response
