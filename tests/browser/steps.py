"""Steps people take in the browser that several workspace test modules share."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from playwright.async_api import Locator, Page

from crm.core.formatting import FIRM_TIMEZONE
from crm.core.roles import Role
from crm.staff.models import Employee
from lexcrm.services import Services
from tests.browser.conftest import Firm, Tab, text_of
from web.auth import SESSION_COOKIE


def firm_now() -> datetime:
    """Now on the firm's (Moscow) clock, to the minute, as the forms take it."""
    return datetime.now(FIRM_TIMEZONE).replace(second=0, microsecond=0)


def firm_today() -> date:
    return firm_now().date()


def tomorrow() -> date:
    return firm_today() + timedelta(days=1)


async def log_in_as(tab: Tab, core: Services, firm: Firm, role: Role) -> Employee:
    """The employee of this job is logged in and sees their start page.

    The session is opened as the login form opens it (test_login.py tests the form): that
    spares the argon2 check, half a second of CPU on a busy machine, for each person.
    """
    me = firm.staff[role]
    token, _csrf = await core.sessions.start(me.id)
    await tab.page.context.add_cookies(
        [
            {
                "name": SESSION_COOKIE,
                "value": token,
                "domain": "127.0.0.1",
                "path": "/",
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    response = await tab.goto("/")
    assert response.status == 200
    assert await heading(tab.page) == f"Рабочее место: {role.title_ru}"
    return me


async def heading(page: Page) -> str:
    return text_of(await page.get_by_role("heading", level=1).inner_text())


async def open_section(tab: Tab, title: str) -> None:
    """Opens a tab of the navigation bar by its title, as a person clicks it."""
    nav = tab.page.get_by_role("navigation", name="Разделы")
    await tab.submit(nav.get_by_role("link", name=title, exact=True))


def form_with(page: Page, button: str) -> Locator:
    """The form that a button of exactly this name submits."""
    return page.locator("form").filter(has=page.get_by_role("button", name=button, exact=True))


async def row_texts(table: Locator) -> list[str]:
    """The body rows of a table as a person reads them."""
    return [text_of(row) for row in await table.locator("tbody tr").all_inner_texts()]


async def table_cells(table: Locator) -> list[list[str]]:
    """The body rows of a table, each as the texts of its cells."""
    return [
        [text_of(cell) for cell in await row.locator("td").all_inner_texts()]
        for row in await table.locator("tbody tr").all()
    ]


async def row_with(page: Page | Locator, text: str) -> str:
    """The one table row that mentions `text`."""
    return text_of(await page.get_by_role("row").filter(has_text=text).inner_text())


async def figure(page: Page, element_id: str) -> str:
    """A figure of a summary (a total, a balance) by its element id."""
    return text_of(await page.locator(f"#{element_id}").inner_text())


async def shown_error(page: Page) -> str:
    """What the server answered a refused form with: the page's alert, or its whole text
    when it answered with a bare message page."""
    alert = page.get_by_role("alert")
    if await alert.count():
        return text_of(await alert.inner_text())
    return text_of(await page.locator("body").inner_text())


def money(rubles: int) -> str:
    """How a page shows a sum of whole roubles once spaces are read as spaces: 50 000,00 ₽."""
    grouped = f"{rubles:,}".replace(",", " ")
    return f"{grouped},00 ₽"
