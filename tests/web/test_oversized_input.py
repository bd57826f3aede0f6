"""Absurdly long login form fields get a clear answer, never a 500, and wrong ones never pass."""

from __future__ import annotations

import pytest

from crm.core.roles import Role
from crm.staff.models import Employee
from crm.staff.passwords import MAX_PASSWORD_LENGTH
from crm.staff.services import StaffService
from tests.web.conftest import (
    LAWYER_LOGIN,
    LAWYER_NAME,
    LAWYER_PASSWORD,
    Client,
    cookie,
    log_in,
    submit_login,
)
from web.auth import SESSION_COOKIE


async def _assert_server_still_works(client: Client) -> None:
    health = await client.get("/healthz", allow_redirects=False)
    assert health.status == 200
    await log_in(client)
    home = await client.get("/", allow_redirects=False)
    assert home.status == 200
    assert LAWYER_NAME in await home.text()


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("л" * 10_000, LAWYER_PASSWORD),
        ("x" * 10_000, LAWYER_PASSWORD),
        (LAWYER_LOGIN, "p" * 100_000),
        (LAWYER_LOGIN, "я" * 100_000),
    ],
    ids=["cyrillic-login", "ascii-login", "ascii-password", "cyrillic-password"],
)
async def test_huge_field_gets_a_clear_error_page(
    client: Client, lawyer: Employee, login: str, password: str
) -> None:
    response = await submit_login(client, login, password)
    assert response.status in {400, 401}
    assert response.content_type == "text/html"
    page = await response.text()
    assert "Вход" in page
    assert 'role="alert"' in page
    # The page does not echo ten thousand characters back.
    assert len(page) < 5_000
    assert SESSION_COOKIE not in response.cookies
    assert cookie(client, SESSION_COOKIE) is None
    await _assert_server_still_works(client)


async def test_long_but_allowed_password_can_log_in(
    client: Client, employees: StaffService
) -> None:
    # StaffService accepts passwords up to MAX_PASSWORD_LENGTH characters.
    password = "длинный пароль " * 20
    assert 256 < len(password) <= MAX_PASSWORD_LENGTH
    await employees.create_employee("longpass", "Длиннов Пароль", Role.lawyer, password)
    response = await submit_login(client, "longpass", password)
    assert response.status == 303, await response.text()


async def test_password_with_extra_characters_is_refused(
    client: Client, employees: StaffService
) -> None:
    password = "z" * 256
    await employees.create_employee("exact", "Точнов Пароль", Role.lawyer, password)
    response = await submit_login(client, "exact", password + "не тот хвост")
    assert response.status == 401
    assert SESSION_COOKIE not in response.cookies


async def test_login_with_extra_characters_is_refused(
    client: Client, employees: StaffService
) -> None:
    login = "a" * 64
    await employees.create_employee(login, "Логинов Длинный", Role.lawyer, LAWYER_PASSWORD)
    response = await submit_login(client, login + "b", LAWYER_PASSWORD)
    assert response.status == 401
    assert SESSION_COOKIE not in response.cookies
