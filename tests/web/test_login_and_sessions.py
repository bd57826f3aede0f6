"""Login, logout, server-side sessions and CSRF of the web interface, over real HTTP."""

from __future__ import annotations

import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.auth.models import WebSession
from crm.auth.services import WebSessionService
from crm.core.roles import Role
from crm.staff.models import Employee
from crm.staff.services import StaffService
from tests.web.conftest import (
    IDLE_MINUTES,
    LAWYER_LOGIN,
    LAWYER_NAME,
    LAWYER_PASSWORD,
    Client,
    ClientFactory,
    ManualClock,
    cookie,
    csrf_field,
    log_in,
    login_form_csrf,
    plant_cookie,
    submit_login,
)
from web.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from web.keys import USER_KEY

WRONG_CREDENTIALS = "Неверный логин или пароль."
STALE_FORM = "Форма устарела, попробуйте ещё раз."


async def _count_sessions(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(WebSession))).scalar_one()


async def _assert_anonymous(client: Client) -> None:
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login"


async def _assert_logged_in_as(client: Client, full_name: str) -> str:
    """Asserts `/` is the employee's workspace; returns the page."""
    response = await client.get("/", allow_redirects=False)
    assert response.status == 200
    page = await response.text()
    assert full_name in page
    return page


# --- first on purpose: aiohttp warns once per process about a str request key -------------


async def test_first_logged_in_request_of_the_process_works(
    client: Client, lawyer: Employee
) -> None:
    """aiohttp 3.14 warns (NotAppKeyWarning) the first time a request is given a plain str
    key; with warnings as errors that first logged-in page is a 500. Keys must be
    web.RequestKey, which also makes this test fail when another test ran first."""
    await log_in(client)
    response = await client.get("/", allow_redirects=False)
    assert response.status == 200, await response.text()
    assert isinstance(USER_KEY, web.RequestKey)


# --- anonymous access ---------------------------------------------------------------------


async def test_anonymous_home_redirects_to_login(client: Client) -> None:
    await _assert_anonymous(client)


async def test_anonymous_unknown_page_redirects_to_login(client: Client) -> None:
    response = await client.get("/clients/1", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login"


async def test_login_page_is_russian_uncached_and_carries_a_csrf_field(client: Client) -> None:
    response = await client.get("/login", allow_redirects=False)
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    assert "Вход" in page
    assert '<html lang="ru">' in page
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    token = csrf_field(page)
    assert len(token) >= 24
    # Double-submit: the same token goes to an HttpOnly cookie.
    login_cookie = response.cookies[LOGIN_CSRF_COOKIE]
    assert login_cookie.value == token
    assert login_cookie["httponly"] is True
    assert SESSION_COOKIE not in response.cookies


async def test_a_second_login_page_keeps_the_first_form_valid(new_client: ClientFactory) -> None:
    # Another tab, or the redirect of the browser's /favicon.ico request, loads the login
    # page again: the form already on screen must still log in.
    browser = await new_client()
    first = await login_form_csrf(browser)
    assert await login_form_csrf(browser) == first
    other_browser = await new_client()
    assert await login_form_csrf(other_browser) != first


async def test_healthz_answers_json_without_login(client: Client) -> None:
    response = await client.get("/healthz", allow_redirects=False)
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {"status": "ok"}


async def test_static_files_are_served_without_login(client: Client) -> None:
    response = await client.get("/static/style.css", allow_redirects=False)
    assert response.status == 200
    assert response.content_type == "text/css"


# --- logging in ---------------------------------------------------------------------------


async def test_login_with_right_password_opens_the_workspace(
    client: Client, lawyer: Employee
) -> None:
    response = await submit_login(client, LAWYER_LOGIN, LAWYER_PASSWORD)
    assert response.status == 303
    assert response.headers["Location"] == "/"
    session_cookie = response.cookies[SESSION_COOKIE]
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"] == "Lax"
    assert session_cookie["path"] == "/"
    assert len(session_cookie.value) >= 43
    # The login form's CSRF cookie is spent.
    assert cookie(client, LOGIN_CSRF_COOKIE) is None

    page = await _assert_logged_in_as(client, LAWYER_NAME)
    assert "Юрист" in page
    assert "Рабочее место: Юрист" in page
    assert "<title>Юрист — lexcrm</title>" in page


async def test_login_is_case_insensitive(client: Client, lawyer: Employee) -> None:
    await log_in(client, login=f"  {LAWYER_LOGIN.upper()} ")
    await _assert_logged_in_as(client, LAWYER_NAME)


async def test_logged_in_user_is_sent_from_login_page_to_workspace(
    client: Client, lawyer: Employee
) -> None:
    await log_in(client)
    response = await client.get("/login", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/"


async def test_wrong_password_is_refused_without_a_session(
    client: Client, lawyer: Employee, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await submit_login(client, LAWYER_LOGIN, "не тот пароль совсем")
    assert response.status == 401
    page = await response.text()
    assert WRONG_CREDENTIALS in page
    assert SESSION_COOKIE not in response.cookies
    assert cookie(client, SESSION_COOKIE) is None
    # The form is shown again, ready for another try, with the login kept.
    assert f'value="{LAWYER_LOGIN}"' in page
    assert cookie(client, LOGIN_CSRF_COOKIE) == csrf_field(page)
    assert await _count_sessions(sessionmaker) == 0
    await _assert_anonymous(client)


async def test_unknown_login_gets_the_same_message(
    client: Client, lawyer: Employee, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await submit_login(client, "nobody", LAWYER_PASSWORD)
    assert response.status == 401
    assert WRONG_CREDENTIALS in await response.text()
    assert SESSION_COOKIE not in response.cookies
    assert await _count_sessions(sessionmaker) == 0


@pytest.mark.parametrize(
    ("login", "password"),
    [("", LAWYER_PASSWORD), (LAWYER_LOGIN, ""), ("", ""), ("   ", LAWYER_PASSWORD)],
    ids=["no-login", "no-password", "nothing", "blank-login"],
)
async def test_empty_fields_are_a_bad_request(
    client: Client,
    lawyer: Employee,
    sessionmaker: async_sessionmaker[AsyncSession],
    login: str,
    password: str,
) -> None:
    response = await submit_login(client, login, password)
    assert response.status == 400
    assert "Введите логин и пароль." in await response.text()
    assert SESSION_COOKIE not in response.cookies
    assert await _count_sessions(sessionmaker) == 0


async def test_deactivated_employee_cannot_log_in(
    client: Client, lawyer: Employee, employees: StaffService
) -> None:
    await employees.deactivate(lawyer.id)
    response = await submit_login(client, LAWYER_LOGIN, LAWYER_PASSWORD)
    assert response.status == 401
    assert WRONG_CREDENTIALS in await response.text()
    assert SESSION_COOKIE not in response.cookies


# --- CSRF of the login form ---------------------------------------------------------------


async def _post_login(client: Client, data: dict[str, str]) -> None:
    """Posts the login form as given; asserts it is refused as stale, with no session."""
    response = await client.post("/login", data=data, allow_redirects=False)
    assert response.status == 400
    assert STALE_FORM in await response.text()
    assert SESSION_COOKIE not in response.cookies
    await _assert_anonymous(client)


async def test_login_without_csrf_cookie_is_refused(client: Client, lawyer: Employee) -> None:
    token = await login_form_csrf(client)
    client.session.cookie_jar.clear()
    await _post_login(
        client, {"csrf_token": token, "login": LAWYER_LOGIN, "password": LAWYER_PASSWORD}
    )


async def test_login_without_csrf_field_is_refused(client: Client, lawyer: Employee) -> None:
    await login_form_csrf(client)
    await _post_login(client, {"login": LAWYER_LOGIN, "password": LAWYER_PASSWORD})


async def test_login_with_empty_csrf_field_and_no_cookie_is_refused(
    client: Client, lawyer: Employee
) -> None:
    await _post_login(
        client, {"csrf_token": "", "login": LAWYER_LOGIN, "password": LAWYER_PASSWORD}
    )


async def test_login_with_mismatching_csrf_is_refused(client: Client, lawyer: Employee) -> None:
    token = await login_form_csrf(client)
    await _post_login(
        client,
        {"csrf_token": token + "x", "login": LAWYER_LOGIN, "password": LAWYER_PASSWORD},
    )


async def test_login_csrf_token_of_another_browser_is_refused(
    client: Client, new_client: ClientFactory, lawyer: Employee
) -> None:
    attacker = await new_client()
    attackers_token = await login_form_csrf(attacker)
    await login_form_csrf(client)
    await _post_login(
        client,
        {"csrf_token": attackers_token, "login": LAWYER_LOGIN, "password": LAWYER_PASSWORD},
    )


async def test_login_with_non_ascii_csrf_field_is_refused_not_a_crash(
    client: Client, lawyer: Employee
) -> None:
    # hmac.compare_digest raises TypeError on non-ASCII str: that must not become a 500.
    await login_form_csrf(client)
    await _post_login(
        client, {"csrf_token": "жжж", "login": LAWYER_LOGIN, "password": LAWYER_PASSWORD}
    )


# --- a new session at every login ---------------------------------------------------------


async def test_every_login_gets_a_new_session_token(
    new_client: ClientFactory, lawyer: Employee, sessions: WebSessionService
) -> None:
    first, second = await new_client(), await new_client()
    first_token = await log_in(first)
    second_token = await log_in(second)
    assert first_token != second_token
    # Two browsers, two independent sessions.
    assert await sessions.resolve(first_token, IDLE_MINUTES) is not None
    assert await sessions.resolve(second_token, IDLE_MINUTES) is not None


async def test_login_replaces_a_stale_session_cookie(
    client: Client, lawyer: Employee, sessions: WebSessionService
) -> None:
    old_token, _ = await sessions.start(lawyer.id)
    await sessions.end(old_token)
    plant_cookie(client, SESSION_COOKIE, old_token)
    new_token = await log_in(client)
    assert new_token != old_token
    await _assert_logged_in_as(client, LAWYER_NAME)


async def test_login_ends_a_valid_session_planted_before_it(
    client: Client,
    employees: StaffService,
    lawyer: Employee,
    sessions: WebSessionService,
) -> None:
    """Session fixation: the browser holds a valid token it did not get from this login
    (planted by an attacker, or left by another tab). Logging in must give a new token
    and end the old one."""
    intruder = await employees.create_employee(
        "intruder", "Чужой Человек", Role.operator, "пароль чужого человека"
    )
    planted, _ = await sessions.start(intruder.id)
    # The login form was opened before the token was planted (or in another tab).
    token = await login_form_csrf(client)
    plant_cookie(client, SESSION_COOKIE, planted)
    response = await client.post(
        "/login",
        data={"csrf_token": token, "login": LAWYER_LOGIN, "password": LAWYER_PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    new_token = response.cookies[SESSION_COOKIE].value
    assert new_token != planted
    assert await sessions.resolve(planted, IDLE_MINUTES) is None
    await _assert_logged_in_as(client, LAWYER_NAME)


# --- logging out --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [{}, {"csrf_token": ""}, {"csrf_token": "not the session's token"}],
    ids=["no-field", "empty-field", "wrong-token"],
)
async def test_logout_without_the_sessions_csrf_token_is_forbidden(
    client: Client, lawyer: Employee, sessions: WebSessionService, data: dict[str, str]
) -> None:
    token = await log_in(client)
    response = await client.post("/logout", data=data, allow_redirects=False)
    assert response.status == 403
    assert "Запрос отклонён" in await response.text()
    assert await sessions.resolve(token, IDLE_MINUTES) is not None
    await _assert_logged_in_as(client, LAWYER_NAME)


async def test_logout_with_the_login_forms_csrf_token_is_forbidden(
    client: Client, lawyer: Employee
) -> None:
    # The login form's token (readable from any login page) is not the session's token.
    login_token = await login_form_csrf(client)
    await log_in(client)
    response = await client.post("/logout", data={"csrf_token": login_token}, allow_redirects=False)
    assert response.status == 403
    await _assert_logged_in_as(client, LAWYER_NAME)


async def test_logout_with_non_ascii_csrf_token_is_forbidden_not_a_crash(
    client: Client, lawyer: Employee, sessions: WebSessionService
) -> None:
    token = await log_in(client)
    response = await client.post("/logout", data={"csrf_token": "жжж"}, allow_redirects=False)
    assert response.status == 403
    assert await sessions.resolve(token, IDLE_MINUTES) is not None


async def test_logout_with_the_pages_csrf_token_ends_the_session(
    client: Client, new_client: ClientFactory, lawyer: Employee, sessions: WebSessionService
) -> None:
    token = await log_in(client)
    page = await _assert_logged_in_as(client, LAWYER_NAME)
    response = await client.post(
        "/logout", data={"csrf_token": csrf_field(page)}, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == "/login"
    assert cookie(client, SESSION_COOKIE) is None
    await _assert_anonymous(client)
    assert await sessions.resolve(token, IDLE_MINUTES) is None
    # The old token is dead on the server, not just forgotten by this browser.
    replay = await new_client()
    plant_cookie(replay, SESSION_COOKIE, token)
    await _assert_anonymous(replay)


async def test_logout_accepts_the_csrf_header(
    client: Client, lawyer: Employee, sessions: WebSessionService
) -> None:
    token = await log_in(client)
    page = await _assert_logged_in_as(client, LAWYER_NAME)
    response = await client.post(
        "/logout", headers={"X-CSRF-Token": csrf_field(page)}, allow_redirects=False
    )
    assert response.status == 303
    assert await sessions.resolve(token, IDLE_MINUTES) is None


async def test_get_logout_changes_nothing(
    client: Client, lawyer: Employee, sessions: WebSessionService
) -> None:
    token = await log_in(client)
    response = await client.get("/logout", allow_redirects=False)
    assert response.status == 405
    assert await sessions.resolve(token, IDLE_MINUTES) is not None
    await _assert_logged_in_as(client, LAWYER_NAME)


async def test_anonymous_logout_goes_to_login(client: Client) -> None:
    response = await client.post("/logout", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login"


# --- sessions ending without logout -------------------------------------------------------


async def test_deactivated_employees_session_stops_working_at_once(
    client: Client, lawyer: Employee, employees: StaffService, sessions: WebSessionService
) -> None:
    token = await log_in(client)
    await _assert_logged_in_as(client, LAWYER_NAME)
    await employees.deactivate(lawyer.id)
    await _assert_anonymous(client)
    assert await sessions.resolve(token, IDLE_MINUTES) is None


async def test_new_password_ends_open_sessions(
    client: Client, lawyer: Employee, employees: StaffService
) -> None:
    await log_in(client)
    await employees.set_password(lawyer.id, "совсем новый пароль")
    await _assert_anonymous(client)


async def test_idle_session_expires(
    client: Client, lawyer: Employee, clock: ManualClock, sessions: WebSessionService
) -> None:
    token = await log_in(client)
    clock.advance(IDLE_MINUTES + 1)
    await _assert_anonymous(client)
    # Expired for good: turning the clock back does not revive it.
    clock.advance(-(IDLE_MINUTES + 1))
    await _assert_anonymous(client)
    assert await sessions.resolve(token, IDLE_MINUTES) is None


async def test_activity_keeps_the_session_alive(
    client: Client, lawyer: Employee, clock: ManualClock
) -> None:
    await log_in(client)
    for _ in range(4):
        clock.advance(IDLE_MINUTES - 1)
        await _assert_logged_in_as(client, LAWYER_NAME)
    # Longer in total than the idle period, but never idle that long: still logged in.
    clock.advance(IDLE_MINUTES + 1)
    await _assert_anonymous(client)


# --- escaping -----------------------------------------------------------------------------


async def test_full_name_is_escaped_on_the_page(client: Client, employees: StaffService) -> None:
    await employees.create_employee(
        "xss", "<script>alert(1)</script>", Role.cashier, "пароль для проверки xss"
    )
    await log_in(client, "xss", "пароль для проверки xss")
    response = await client.get("/", allow_redirects=False)
    assert response.status == 200
    page = await response.text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page
    assert "Кассир" in page


async def test_echoed_login_is_escaped_on_the_login_page(client: Client) -> None:
    response = await submit_login(client, '"><script>alert(1)</script>', "какой-то пароль")
    assert response.status == 401
    page = await response.text()
    assert "<script>" not in page
    assert "&#34;&gt;&lt;script&gt;" in page
