"""Logging in and out through the real login form, as each job in the firm."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Response

from crm.core.roles import Role
from tests.browser.conftest import PASSWORD, Firm, Tab, text_of
from web.auth import SESSION_COOKIE


async def log_in(tab: Tab, login: str, password: str = PASSWORD) -> Response:
    """Opens the login page and submits the form, as a person would."""
    await tab.goto("/login")
    page = tab.page
    await page.get_by_label("Логин").fill(login)
    await page.get_by_label("Пароль").fill(password)
    return await tab.submit(page.get_by_role("button", name="Войти"))


@pytest.mark.parametrize("role", list(Role))
async def test_each_job_logs_in_to_its_workspace_and_out(role: Role, tab: Tab, firm: Firm) -> None:
    me = firm.staff[role]
    page = tab.page
    response = await log_in(tab, me.login)
    assert response.status == 200
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", page.url)
    heading = text_of(await page.get_by_role("heading", level=1).inner_text())
    assert heading == f"Рабочее место: {role.title_ru}"
    header = text_of(await page.locator("header").inner_text())
    assert f"{me.full_name} · {role.title_ru}" in header
    cookies = {cookie["name"]: cookie.get("value", "") for cookie in await page.context.cookies()}
    session = cookies[SESSION_COOKIE]
    assert session

    await tab.submit(page.get_by_role("button", name="Выйти"))
    assert page.url.endswith("/login")
    await tab.goto("/")
    assert page.url.endswith("/login")
    # The server ended the session: the old cookie, put back, opens nothing.
    await page.context.add_cookies([{"name": SESSION_COOKIE, "value": session, "url": page.url}])
    await tab.goto("/")
    assert page.url.endswith("/login")
    assert await page.get_by_role("button", name="Войти").is_visible()
    assert me.full_name not in await page.content()


async def test_wrong_password_is_refused_with_a_russian_message(tab: Tab, firm: Firm) -> None:
    lawyer = firm.staff[Role.lawyer]
    page = tab.page
    response = await log_in(tab, lawyer.login, "не тот пароль")
    assert response.status == 401
    assert page.url.endswith("/login")
    alert = page.get_by_role("alert")
    assert "неверный логин или пароль" in text_of(await alert.inner_text()).lower()
    assert await alert.is_visible()
    # The login comes back for a second try, the password does not.
    assert await page.get_by_label("Логин").input_value() == lawyer.login
    assert await page.get_by_label("Пароль").input_value() == ""
    assert SESSION_COOKIE not in {c["name"] for c in await page.context.cookies()}

    await page.get_by_label("Пароль").fill(PASSWORD)
    await tab.submit(page.get_by_role("button", name="Войти"))
    assert text_of(await page.get_by_role("heading", level=1).inner_text()).endswith("Юрист")
