"""A lawyer concludes a contract and plans a payment on the card; the cashier takes the payment."""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.async_api import Locator, Page

from crm.core.formatting import FIRM_TIMEZONE
from crm.core.roles import Role
from lexcrm.services import Services
from tests.browser.conftest import Firm, Tab, text_of
from tests.browser.test_login import log_in

# Planned a little ahead of the firm's day, so the line is "upcoming" until paid.
DUE = datetime.now(FIRM_TIMEZONE).date() + timedelta(days=10)
# Markup that runs a script if a page pastes it in unescaped: in a table cell, or in the
# textarea or input value a refused form comes back with.
INJECTION = '"></textarea><script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
# The number field takes 50 characters at most: a short attack on its value attribute.
NUMBER_INJECTION = '"><img src=x onerror="window.__pwned=1">'


def form_with(page: Page, button: str) -> Locator:
    """The form that a button of this name submits."""
    return page.locator("form").filter(has=page.get_by_role("button", name=button))


async def open_card(tab: Tab, name: str) -> None:
    """From the workspace to a client's card by the client's name, as a person clicks."""
    await tab.submit(tab.page.get_by_role("link", name=name))
    assert text_of(await tab.page.get_by_role("heading", level=1).inner_text()).startswith(name)


async def contract_row(page: Page, number: str) -> str:
    return text_of(await page.get_by_role("row").filter(has_text=number).inner_text())


async def plan_line(page: Page) -> str:
    return text_of(await page.get_by_role("row").filter(has_text="План поступлений").inner_text())


async def assert_not_injected(page: Page) -> None:
    """The INJECTION made no element and ran nothing (the Tab also fails on a CSP refusal)."""
    injected = await page.evaluate(
        """() => [...document.querySelectorAll("img, script")]
            .filter((element) => element.outerHTML.includes("__pwned")).length"""
    )
    assert injected == 0
    assert await page.evaluate("typeof window.__pwned") == "undefined"


async def test_lawyer_concludes_a_contract_and_plans_a_payment(tab: Tab, firm: Firm) -> None:
    page = tab.page
    lawyer = firm.staff[Role.lawyer]
    await log_in(tab, lawyer.login)
    await open_card(tab, firm.client.full_name)
    assert await page.get_by_text("Договоров нет.").is_visible()

    contract = form_with(page, "Заключить договор")
    await contract.get_by_label("Номер").fill("Д-2026/17")
    await contract.get_by_label("Сумма").fill("150 000")
    await contract.get_by_label("Суть").fill("Раздел совместно нажитого имущества")
    response = await tab.submit(contract.get_by_role("button", name="Заключить договор"))
    assert response.status == 200
    row = await contract_row(page, "Д-2026/17")
    assert "150 000,00 ₽" in row
    assert "Раздел совместно нажитого имущества" in row
    assert lawyer.full_name in row
    assert "первичный" in row
    assert (await plan_line(page)).startswith("План поступлений: нет Поступило: ничего")

    plan = form_with(page, "Запланировать платёж")
    await plan.get_by_placeholder("ДД.ММ.ГГГГ").fill(DUE.strftime("%d.%m.%Y"))
    await plan.get_by_placeholder("сумма").fill("50 000")
    response = await tab.submit(plan.get_by_role("button", name="Запланировать платёж"))
    assert response.status == 200
    assert f"{DUE:%d.%m.%Y} — 50 000,00 ₽ (ожидается)" in await plan_line(page)
    # A lawyer plans; only the cashier takes money.
    assert await page.get_by_role("button", name="Принять оплату").count() == 0


async def test_bad_contract_input_is_refused_on_the_form_and_html_stays_text(
    tab: Tab, firm: Firm
) -> None:
    page = tab.page
    await log_in(tab, firm.staff[Role.lawyer].login)
    await open_card(tab, firm.client.full_name)
    contract = form_with(page, "Заключить договор")
    number, amount, essence = (
        contract.get_by_label("Номер"),
        contract.get_by_label("Сумма"),
        contract.get_by_label("Суть"),
    )
    submit = contract.get_by_role("button", name="Заключить договор")

    # Empty sum: the browser itself refuses to send the form and says why.
    await number.fill("Д-1")
    await essence.fill(INJECTION)
    url = page.url
    await submit.click()
    assert await amount.evaluate("input => input.validity.valueMissing")
    assert await amount.evaluate("input => input.validationMessage")
    assert page.url == url

    # Not a number, or only spaces: the server refuses, says so, and keeps what was typed.
    for typed in ("abc", "   "):
        await amount.fill(typed)
        response = await tab.submit(submit)
        assert response.status == 400
        alert = text_of(
            await form_with(page, "Заключить договор").get_by_role("alert").inner_text()
        )
        assert alert.startswith("Сумма"), alert
        assert await number.input_value() == "Д-1"
        assert await essence.input_value() == INJECTION
        await assert_not_injected(page)
    assert await page.get_by_text("Договоров нет.").is_visible()

    # A number of markup is refused too, and comes back as the text it is.
    await amount.fill("1 000")
    await number.fill(NUMBER_INJECTION)
    response = await tab.submit(submit)
    assert response.status == 400
    alert = text_of(await form_with(page, "Заключить договор").get_by_role("alert").inner_text())
    assert alert.startswith("Номер договора"), alert
    assert await number.input_value() == NUMBER_INJECTION
    await assert_not_injected(page)

    # Markup in the essence is kept as the text it is, never turned into an element.
    await number.fill("Д-1")
    await tab.submit(submit)
    assert INJECTION in await contract_row(page, "Д-1")
    await assert_not_injected(page)


async def test_cashier_takes_a_payment_and_the_plan_line_is_paid(
    tab: Tab, firm: Firm, core: Services
) -> None:
    lawyer = firm.staff[Role.lawyer]
    contract = await core.contracts.add_contract(
        client_id=firm.client.id,
        lawyer_id=lawyer.id,
        number="Д-2026/17",
        amount="150 000",
        essence="Раздел совместно нажитого имущества",
    )
    await core.finance.plan_payment(
        contract.id, due_on=DUE, amount="50 000", by_employee_id=lawyer.id
    )
    page = tab.page
    await log_in(tab, firm.staff[Role.cashier].login)
    # The cashier finds the client by name through the search page.
    await tab.goto("/clients")
    search = page.get_by_placeholder("ФИО или код клиента")
    await search.fill("смирнова")
    await tab.submit_with_enter(search)
    await open_card(tab, firm.client.full_name)
    assert f"{DUE:%d.%m.%Y} — 50 000,00 ₽ (ожидается)" in await plan_line(page)
    assert await page.get_by_role("button", name="Заключить договор").count() == 0
    assert await page.get_by_role("button", name="Запланировать платёж").count() == 0

    payment = form_with(page, "Принять оплату")
    await payment.get_by_placeholder("сумма").fill("50 000")
    response = await tab.submit(payment.get_by_role("button", name="Принять оплату"))
    assert response.status == 200
    line = await plan_line(page)
    assert f"{DUE:%d.%m.%Y} — 50 000,00 ₽ (оплачен)" in line
    today = datetime.now(FIRM_TIMEZONE).date()
    assert f"Поступило: {today:%d.%m.%Y} — 50 000,00 ₽" in line
