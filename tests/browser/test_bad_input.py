"""Bad input typed into the real forms of the workspaces: a Russian message, nothing changed."""

from __future__ import annotations

from crm.core.roles import Role
from lexcrm.services import Services
from tests.browser.conftest import Firm, Tab
from tests.browser.steps import (
    figure,
    form_with,
    log_in_as,
    money,
    open_section,
    row_texts,
    shown_error,
    tomorrow,
)

HUGE_NOTE = ("Клиент рассказал подробно о разделе имущества. " * 250)[:10_000]


async def test_impossible_visit_date_and_time_are_refused(
    tab: Tab, firm: Firm, core: Services
) -> None:
    page = tab.page
    await log_in_as(tab, core, firm, Role.reception)
    card = f"/clients/{firm.client.id}"
    for day, at, message in (
        ("32.13.2026", "11:00", "Дата «32.13.2026»: ожидается ДД.ММ.ГГГГ"),
        (f"{tomorrow():%d.%m.%Y}", "25:99", "Время «25:99»: ожидается ЧЧ:ММ"),
    ):
        await tab.goto(card)
        booking = form_with(page, "Записать")
        await booking.get_by_label("Дата").fill(day)
        await booking.get_by_label("Время").fill(at)
        response = await tab.submit(booking.get_by_role("button", name="Записать", exact=True))
        assert response.status == 400
        assert await shown_error(page) == message
    await tab.goto(card)
    assert await page.get_by_text("Визитов не было.").is_visible()
    await open_section(tab, "Визиты")
    assert await page.get_by_text("Визитов за этот период нет.").is_visible()


async def test_a_note_over_the_limit_is_refused_by_the_server(
    tab: Tab, firm: Firm, core: Services
) -> None:
    page = tab.page
    await log_in_as(tab, core, firm, Role.reception)
    await tab.goto(f"/clients/{firm.client.id}")
    note = form_with(page, "Добавить заметку")
    text = note.get_by_label("Заметка")
    # The form's own limit is what a browser enforces; without it the server still refuses.
    await text.evaluate("area => area.removeAttribute('maxlength')")
    await text.fill(HUGE_NOTE)
    response = await tab.submit(note.get_by_role("button", name="Добавить заметку"))
    assert response.status == 400
    assert await shown_error(page) == "Поле «Заметка» длиннее 5000 символов"
    await tab.goto(f"/clients/{firm.client.id}")
    assert await page.get_by_text("Заметок нет.").is_visible()


async def test_a_pasted_note_over_the_limit_gets_a_message_not_a_cut(
    tab: Tab, firm: Firm, core: Services
) -> None:
    page = tab.page
    await log_in_as(tab, core, firm, Role.reception)
    await tab.goto(f"/clients/{firm.client.id}")
    note = form_with(page, "Добавить заметку")
    await note.get_by_label("Заметка").fill(HUGE_NOTE)
    response = await tab.submit(note.get_by_role("button", name="Добавить заметку"))
    assert response.status == 400
    assert "5000" in await shown_error(page)


async def test_bad_sums_at_the_cash_desk_are_refused(tab: Tab, firm: Firm, core: Services) -> None:
    lawyer = firm.staff[Role.lawyer]
    senior = await core.staff.add_lawyer_class("Старший", "30")
    await core.staff.update_employee(
        lawyer.id, lawyer_class_id=senior.id, head_id=None, sip_extension=None
    )
    contract = await core.contracts.add_contract(
        client_id=firm.client.id,
        lawyer_id=lawyer.id,
        number="Д-2026/40",
        amount="150 000",
        essence="Раздел имущества",
    )
    await core.finance.receive_payment(
        contract.id, amount="10 000", cashier_id=firm.staff[Role.cashier].id
    )
    page = tab.page
    await log_in_as(tab, core, firm, Role.cashier)
    await open_section(tab, "Расходы и поступления")
    expense = form_with(page, "Записать расход")
    amount = expense.get_by_label("Сумма")
    await expense.get_by_label("Кому").fill("ООО «Канцлер»")
    await expense.get_by_label("За что").fill("Бумага")
    # Empty: the browser itself keeps the form and says the field is to be filled.
    url = page.url
    await expense.get_by_role("button", name="Записать расход").click()
    assert await amount.evaluate("input => input.validity.valueMissing")
    assert page.url == url
    # Only spaces get past the browser: the server refuses them.
    await amount.fill("   ")
    response = await tab.submit(expense.get_by_role("button", name="Записать расход"))
    assert response.status == 400
    assert await shown_error(page) == "Сумма: введите число, например 150 000,00"
    await tab.goto("/finance")
    assert await figure(page, "expense-total") == money(0)
    assert await figure(page, "cash-remaining") == money(10_000)
    assert await page.get_by_text("Расходов нет.").is_visible()

    await tab.goto(f"/lawyers/{lawyer.id}")
    assert await figure(page, "balance") == money(3_000)
    payout = form_with(page, "Выдать")
    await payout.get_by_label("Выдать").fill("5 000")
    response = await tab.submit(payout.get_by_role("button", name="Выдать"))
    assert response.status == 400
    assert await shown_error(page) == "Сумма больше остатка начислений юриста"
    await tab.goto(f"/lawyers/{lawyer.id}")
    assert await figure(page, "balance") == money(3_000)
    assert await row_texts(page.locator("table").last) == ["Выплат нет."]
