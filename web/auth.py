"""Login, logout, server-side sessions and CSRF protection of the web interface."""

from __future__ import annotations

import hmac
import re
import secrets

from aiohttp import web
from aiohttp.typedefs import Handler

from crm.staff.passwords import MAX_PASSWORD_LENGTH
from web.i18n import gettext as _
from web.keys import CONFIG, PUBLIC_ROUTES, SERVICES, USER_KEY, CurrentUser
from web.render import current_user, render

SESSION_COOKIE = "lexcrm_session"
# Before login there is no server-side session to keep a CSRF token in, so the login form
# uses a double-submit cookie instead.
LOGIN_CSRF_COOKIE = "lexcrm_login_csrf"
LOGIN_PATHS = frozenset({"/login"})
MAX_LOGIN_LENGTH = 64
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolves the session cookie to an employee; anonymous requests go to the login page."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        resolved = await request.app[SERVICES].sessions.resolve(
            token, idle_minutes=request.app[CONFIG].session_idle_minutes
        )
        if resolved is not None:
            employee, session = resolved
            request[USER_KEY] = CurrentUser(employee=employee, session=session)
    public = request.match_info.route.name in request.app[PUBLIC_ROUTES]
    if current_user(request) is None and not public:
        raise web.HTTPSeeOther(location="/login")
    return await handler(request)


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every state-changing request of a logged-in user must carry the session's CSRF token."""
    user = current_user(request)
    # The login form has its own double-submit check: a browser that still holds a valid
    # session must be able to log in again (and that old session is then ended).
    if (
        request.method not in {"GET", "HEAD", "OPTIONS"}
        and user is not None
        and request.path not in LOGIN_PATHS
    ):
        form = await request.post()
        sent = str(form.get("csrf_token", "")) or request.headers.get("X-CSRF-Token", "")
        if not tokens_match(sent, user.session.csrf_token):
            raise web.HTTPForbidden(text=_("Запрос отклонён: устаревшая форма, обновите страницу."))
    return await handler(request)


def tokens_match(sent: str, expected: str) -> bool:
    # compare_digest refuses str with non-ASCII characters (TypeError): compare bytes.
    return hmac.compare_digest(sent.encode(), expected.encode())


async def login_form(request: web.Request) -> web.StreamResponse:
    if current_user(request) is not None:
        raise web.HTTPSeeOther(location="/")
    return _login_page(request, error=None, login="")


def _login_page(
    request: web.Request, *, error: str | None, login: str, status: int = 200
) -> web.Response:
    # The browser's token is kept while it has one: a second login page (another tab, or
    # the redirect of the browser's own /favicon.ico request) must not void the first form.
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not _TOKEN.fullmatch(csrf):
        csrf = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", {"error": error, "login": login, "login_csrf": csrf}, status=status
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="Strict",
        secure=request.app[CONFIG].secure_cookies,
    )
    return response


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    login = str(form.get("login", "")).strip()
    password = str(form.get("password", ""))
    shown_login = login[:MAX_LOGIN_LENGTH]  # what the form shows back
    sent_csrf = str(form.get("csrf_token", ""))
    cookie_csrf = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent_csrf or not tokens_match(sent_csrf, cookie_csrf):
        return _login_page(
            request, error=_("Форма устарела, попробуйте ещё раз."), login=shown_login, status=400
        )
    if not login or not password:
        return _login_page(
            request, error=_("Введите логин и пароль."), login=shown_login, status=400
        )
    services = request.app[SERVICES]
    employee = None
    # Too long to be anyone's login or password: refused without hashing 100 KB with argon2.
    if len(login) <= MAX_LOGIN_LENGTH and len(password) <= MAX_PASSWORD_LENGTH:
        employee = await services.staff.authenticate(login, password)
    if employee is None:
        return _login_page(
            request, error=_("Неверный логин или пароль."), login=shown_login, status=401
        )
    # A new session id at every login: a token planted before login is worthless after it.
    old_token = request.cookies.get(SESSION_COOKIE)
    if old_token:
        await services.sessions.end(old_token)
    token, _csrf = await services.sessions.start(employee.id)
    response = web.HTTPSeeOther(location="/")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=request.app[CONFIG].secure_cookies,
        path="/",
    )
    response.del_cookie(LOGIN_CSRF_COOKIE)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await request.app[SERVICES].sessions.end(token)
    response = web.HTTPSeeOther(location="/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
