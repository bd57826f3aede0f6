"""Each job's main flow through its workspace, clicked through the pages as people do."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from crm.contracts.models import Contract
from crm.core.formatting import FIRM_TIMEZONE
from crm.core.roles import Role
from lexcrm.services import Services
from tests.browser.conftest import WALK_IN_PHONE, Firm, Tab, TabOpener, text_of
from tests.browser.steps import (
    figure,
    firm_now,
    firm_today,
    form_with,
    heading,
    log_in_as,
    money,
    open_section,
    row_texts,
    row_with,
    tomorrow,
)
from tests.browser.test_contracts import open_card
from tests.browser.test_login import log_in


async def booked_today(
    core: Services, firm: Firm, client_id: int, *, lawyer_id: int | None
) -> datetime:
    """The operator booked this client for now: a visit of today, whatever the hour."""
    at = firm_now()
    await core.visits.book(
        client_id, booked_by_id=firm.staff[Role.operator].id, scheduled_at=at, lawyer_id=lawyer_id
    )
    return at


async def signed_contract(core: Services, firm: Firm, number: str = "Д-2026/40") -> Contract:
    return await core.contracts.add_contract(
        client_id=firm.client.id,
        lawyer_id=firm.staff[Role.lawyer].id,
        number=number,
        amount="150 000",
        essence="Раздел совместно нажитого имущества",
    )


async def test_operator_books_a_visit_and_finds_it_in_the_visits_tab(
    tab: Tab, firm: Firm, core: Services
) -> None:
    page = tab.page
    operator = await log_in_as(tab, core, firm, Role.operator)
    lawyer = firm.staff[Role.lawyer]
    await open_section(tab, "Клиенты")
    search = page.get_by_placeholder("ФИО или код клиента")
    await search.fill("Смирнова")
    await tab.submit_with_enter(search)
    await open_card(tab, firm.client.full_name)
    assert await page.get_by_text("Визитов не было.").is_visible()

    day = tomorrow()
    booking = form_with(page, "Записать")
    assert "Записать на визит" in text_of(await booking.inner_text())
    await booking.get_by_label("Дата").fill(f"{day:%d.%m.%Y}")
    await booking.get_by_label("Время").fill("11:30")
    await booking.get_by_label("Юрист").select_option(label=lawyer.full_name)
    await booking.get_by_label("Комментарий").fill("Придёт с выпиской из ЕГРН")
    response = await tab.submit(booking.get_by_role("button", name="Записать", exact=True))
    assert response.status == 200
    visit = await row_with(page, "Придёт с выпиской из ЕГРН")
    assert visit == (
        f"{day:%d.%m.%Y} 11:30 {lawyer.full_name} {operator.full_name} записан "
        "Придёт с выпиской из ЕГРН"
    )

    # The visits tab opens on today: tomorrow's visit shows once the dates are chosen.
    await open_section(tab, "Визиты")
    assert await page.get_by_text("Визитов за этот период нет.").is_visible()
    filters = page.get_by_role("search")
    await filters.get_by_label("Период").select_option(label="даты ниже")
    await filters.get_by_label("С", exact=True).fill(f"{day:%d.%m.%Y}")
    await filters.get_by_label("По", exact=True).fill(f"{day:%d.%m.%Y}")
    await tab.submit(filters.get_by_role("button", name="Показать"))
    rows = await row_texts(page.locator("table.visits"))
    assert rows == [
        f"{day:%d.%m.%Y} 11:30 {firm.client.full_name} {lawyer.full_name} "
        f"{operator.full_name} Придёт с выпиской из ЕГРН записан"
    ]


async def test_this_week_on_the_visits_tab_lists_the_rest_of_the_week(
    tab: Tab, firm: Firm, core: Services
) -> None:
    today = firm_today()
    sunday = today + timedelta(days=6 - today.weekday())
    # On a Sunday the rest of the week is this evening (booking allows half an hour past,
    # and after midnight "this week" is the next one).
    at = time(23, 45) if sunday == today else time(12, 0)
    await core.visits.book(
        firm.client.id,
        booked_by_id=firm.staff[Role.operator].id,
        scheduled_at=datetime.combine(sunday, at, tzinfo=FIRM_TIMEZONE),
        lawyer_id=firm.staff[Role.lawyer].id,
    )
    page = tab.page
    await log_in_as(tab, core, firm, Role.operator)
    await tab.goto("/visits")
    filters = page.get_by_role("search")
    await filters.get_by_label("Период").select_option(label="эта неделя")
    await tab.submit(filters.get_by_role("button", name="Показать"))
    rows = await row_texts(page.locator("main table"))
    assert any(row.startswith(f"{sunday:%d.%m.%Y} {at:%H:%M}") for row in rows), rows


async def test_reception_checks_a_booked_client_in_with_a_lawyer(
    tab: Tab, firm: Firm, core: Services
) -> None:
    await booked_today(core, firm, firm.lead.id, lawyer_id=None)
    page = tab.page
    await log_in_as(tab, core, firm, Role.reception)
    lawyer = firm.staff[Role.lawyer]
    panel = page.locator("#panel-visits")
    visit = panel.get_by_role("row").filter(has_text=firm.lead.full_name)
    assert f"{firm.lead.full_name} — записан" in text_of(await visit.inner_text())
    # Reception can check the client in right here, too; this test goes through /visits.
    assert await visit.get_by_role("button", name="Пришёл").count() == 1

    await tab.submit(panel.get_by_role("link", name="Все визиты"))
    row = page.get_by_role("row").filter(has_text=firm.lead.full_name)
    assert f"{firm.lead.full_name} — {firm.staff[Role.operator].full_name} записан" in text_of(
        await row.inner_text()
    )
    # The lead has no lawyer yet: reception hands them to one as they come in.
    await row.get_by_label("Юрист").select_option(label=lawyer.full_name)
    response = await tab.submit(row.get_by_role("button", name="Пришёл"))
    assert response.status == 200
    assert page.url.endswith("/visits")
    shown = text_of(await row.inner_text())
    assert f"{firm.lead.full_name} {lawyer.full_name}" in shown
    assert "пришёл" in shown
    assert await row.get_by_role("button", name="Пришёл").count() == 0

    await tab.submit(row.get_by_role("link", name=firm.lead.full_name))
    card = text_of(await page.locator("dl").first.inner_text())
    assert "Статус был в офисе" in card
    assert f"Юрист {lawyer.full_name}" in card
    assert "пришёл" in await row_with(page, lawyer.full_name)


async def test_reception_registers_a_walk_in_client_without_showing_the_number(
    tab: Tab, firm: Firm, core: Services
) -> None:
    page = tab.page
    await log_in_as(tab, core, firm, Role.reception)
    await tab.submit(page.get_by_role("link", name="Внести клиента"))
    assert await heading(page) == "Новый клиент"
    await page.get_by_label("ФИО").fill("Орлова Вера Николаевна")
    await page.get_by_label("Телефон").fill(WALK_IN_PHONE)
    await page.get_by_label("Тематика").fill("Наследство")
    # The Tab checks the card it lands on for the number typed (one of the canaries).
    response = await tab.submit(page.get_by_role("button", name="Внести клиента"))
    assert response.status == 200
    assert "/clients/" in page.url and not page.url.endswith("/new")
    assert (await heading(page)).startswith("Орлова Вера Николаевна")
    card = text_of(await page.locator("dl").first.inner_text())
    assert "Тематика Наследство" in card
    assert "Статус обращение" in card
    assert await page.get_by_text("Визитов не было.").is_visible()

    await tab.goto("/clients?q=орлова")
    assert "Орлова Вера Николаевна" in await row_with(page, "Наследство")


async def test_reception_marks_a_walk_in_arrived_on_the_card(
    tab: Tab, firm: Firm, core: Services
) -> None:
    page = tab.page
    await log_in_as(tab, core, firm, Role.reception)
    home = text_of(await page.locator("#panel-new-client").inner_text())
    assert "отметьте приход в его карточке" in home
    await tab.goto(f"/clients/{firm.lead.id}")
    arrival = form_with(page, "Пришёл")
    assert await arrival.count() == 1
    await arrival.get_by_label("Юрист").select_option(label=firm.staff[Role.lawyer].full_name)
    await tab.submit(arrival.get_by_role("button", name="Пришёл"))
    assert "без записи пришёл" in await row_with(page, "без записи")


async def test_lawyer_meets_todays_clients_notes_and_closes_their_visits(
    tab: Tab, firm: Firm, core: Services
) -> None:
    lawyer, reception = firm.staff[Role.lawyer], firm.staff[Role.reception]
    at = await booked_today(core, firm, firm.client.id, lawyer_id=lawyer.id)
    await booked_today(core, firm, firm.lead.id, lawyer_id=lawyer.id)
    for row in await core.visits.visits(day_from=firm_today(), day_to=firm_today()):
        await core.visits.check_in(row.visit.id, reception_id=reception.id)
    page = tab.page
    await log_in_as(tab, core, firm, Role.lawyer)
    panel = page.locator("#panel-visits")
    assert await panel.get_by_role("heading", name="Визиты сегодня").is_visible()
    assert await row_with(panel, firm.client.full_name) == (
        f"{at:%H:%M} {firm.client.full_name} {lawyer.full_name} пришёл"
    )

    await tab.submit(panel.get_by_role("link", name=firm.client.full_name))
    note = form_with(page, "Добавить заметку")
    await note.get_by_label("Заметка").fill(
        "Суть: раздел квартиры после развода.\nДоговорились: копии документов к пятнице."
    )
    response = await tab.submit(note.get_by_role("button", name="Добавить заметку"))
    assert response.status == 200
    shown = text_of(await page.locator(".note").first.inner_text())
    assert shown.endswith(
        f"· {lawyer.full_name} Суть: раздел квартиры после развода. "
        "Договорились: копии документов к пятнице."
    )
    assert await page.get_by_text("Заметок нет.").count() == 0

    contract = form_with(page, "Заключить договор")
    await contract.get_by_label("Номер").fill("Д-2026/31")
    await contract.get_by_label("Сумма").fill("120 000")
    await contract.get_by_label("Суть").fill("Раздел квартиры")
    await tab.submit(contract.get_by_role("button", name="Заключить договор"))
    assert "Статус заключён договор" in text_of(await page.locator("dl").first.inner_text())

    # The contract closed the visit it was concluded at; the other client left without one.
    await open_section(tab, "Визиты")
    concluded = page.get_by_role("row").filter(has_text=firm.client.full_name)
    assert text_of(await concluded.inner_text()).endswith("заключил договор")
    assert await concluded.get_by_role("button").count() == 0
    left = page.get_by_role("row").filter(has_text=firm.lead.full_name)
    await left.get_by_label("Итог").select_option(label="без договора")
    response = await tab.submit(left.get_by_role("button", name="Записать итог"))
    assert response.status == 200
    assert text_of(await left.inner_text()).endswith("без договора")
    assert await left.get_by_role("button").count() == 0


async def test_cashier_takes_a_payment_records_an_expense_and_pays_the_lawyer(
    tab: Tab, firm: Firm, core: Services
) -> None:
    lawyer = firm.staff[Role.lawyer]
    senior = await core.staff.add_lawyer_class("Старший", "30")
    await core.staff.update_employee(
        lawyer.id, lawyer_class_id=senior.id, head_id=None, sip_extension=None
    )
    contract = await signed_contract(core, firm)
    page = tab.page
    await log_in_as(tab, core, firm, Role.cashier)
    await open_section(tab, "Расходы и поступления")
    assert await figure(page, "income-total") == money(0)
    assert await figure(page, "cash-remaining") == money(0)

    await open_section(tab, "Договоры")
    await tab.submit(page.get_by_role("link", name=contract.number))
    assert await heading(page) == f"Договор № {contract.number}"
    payment = form_with(page, "Принять оплату")
    await payment.get_by_label("Сумма оплаты").fill("50 000")
    response = await tab.submit(payment.get_by_role("button", name="Принять оплату"))
    assert response.status == 200
    assert f"Поступило: {firm_today():%d.%m.%Y} — {money(50_000)}" in text_of(
        await page.locator("body").inner_text()
    )

    await tab.goto("/finance")
    assert await figure(page, "income-total") == money(50_000)
    assert await row_with(page, contract.number) == (
        f"{firm_today():%d.%m.%Y} {money(50_000)} {contract.number} {firm.client.full_name}"
    )
    expense = form_with(page, "Записать расход")
    await expense.get_by_label("Сумма").fill("3 500")
    await expense.get_by_label("Кому").fill("ООО «Канцлер»")
    await expense.get_by_label("За что").fill("Бумага и картриджи")
    response = await tab.submit(expense.get_by_role("button", name="Записать расход"))
    assert response.status == 200
    assert await figure(page, "expense-total") == money(3_500)
    assert await figure(page, "cash-remaining") == money(46_500)
    assert await row_with(page, "Канцлер") == (
        f"{firm_today():%d.%m.%Y} {money(3_500)} ООО «Канцлер» Бумага и картриджи"
    )

    await open_section(tab, "Юристы")
    assert await row_with(page, lawyer.full_name) == (
        f"{lawyer.full_name} Старший (30,00 %) 1 {money(15_000)} {money(0)} {money(15_000)}"
    )
    await tab.submit(page.get_by_role("link", name=lawyer.full_name))
    assert await figure(page, "balance") == money(15_000)
    payout = form_with(page, "Выдать")
    await payout.get_by_label("Выдать").fill("10 000")
    await payout.get_by_label("Комментарий").fill("аванс за ноябрь")
    response = await tab.submit(payout.get_by_role("button", name="Выдать"))
    assert response.status == 200
    assert await figure(page, "balance") == money(5_000)
    assert await row_with(page, "аванс за ноябрь") == (
        f"{firm_today():%d.%m.%Y} {money(10_000)} аванс за ноябрь"
    )

    await tab.goto("/finance")
    assert await figure(page, "payout-total") == money(10_000)
    assert await figure(page, "cash-remaining") == money(36_500)


async def test_court_representative_schedules_a_hearing_and_records_a_result(
    tab: Tab, firm: Firm, core: Services
) -> None:
    representative = firm.staff[Role.court_representative]
    contract = await signed_contract(core, firm)
    past = firm_now() - timedelta(days=1)
    await core.courts.schedule(
        contract.id,
        court="Приморский районный суд",
        case_number="2-1187/2026",
        starts_at=past,
        representative_id=representative.id,
        by_employee_id=firm.staff[Role.lawyer].id,
    )
    page = tab.page
    await log_in_as(tab, core, firm, Role.court_representative)
    panel = page.locator("#panel-hearings")
    await tab.submit(panel.get_by_role("link", name=firm.client.full_name))
    assert await heading(page) == f"Договор № {contract.number}"

    day = firm_today() + timedelta(days=20)
    hearing = form_with(page, "Назначить")
    await hearing.get_by_label("Суд").fill("Санкт-Петербургский городской суд")
    await hearing.get_by_label("№ дела").fill("33-5120/2026")
    await hearing.get_by_label("Дата").fill(f"{day:%d.%m.%Y}")
    await hearing.get_by_label("Время").fill("10:30")
    response = await tab.submit(hearing.get_by_role("button", name="Назначить"))
    assert response.status == 200
    assert await row_with(page, "33-5120/2026") == (
        f"{day:%d.%m.%Y} 10:30 Санкт-Петербургский городской суд 33-5120/2026 "
        f"{representative.full_name} —"
    )

    # The courts tab starts today: the coming hearing, not yesterday's.
    await open_section(tab, "Суды")
    rows = await row_texts(page.locator("table.hearings"))
    assert rows == [
        f"{day:%d.%m.%Y} 10:30 Санкт-Петербургский городской суд 33-5120/2026 "
        f"{contract.number} {firm.client.full_name} {representative.full_name} —"
    ]
    assert await page.get_by_placeholder("результат заседания").count() == 0

    filters = page.get_by_role("search")
    await filters.get_by_label("С", exact=True).fill(f"{past:%d.%m.%Y}")
    await tab.submit(filters.get_by_role("button", name="Показать"))
    held = page.get_by_role("row").filter(has_text="2-1187/2026")
    await held.get_by_placeholder("результат заседания").fill("Иск удовлетворён частично")
    # Only a hearing that has taken place gets a result.
    coming = page.get_by_role("row").filter(has_text="33-5120/2026")
    assert await coming.get_by_placeholder("результат заседания").count() == 0
    response = await tab.submit(held.get_by_role("button", name="Записать"))
    assert response.status == 200
    # Back on the calendar from today, which no longer shows yesterday's hearing: the start
    # page's fortnight back does.
    await open_section(tab, "Рабочее место")
    assert await row_with(page.locator("#panel-hearings"), "2-1187/2026") == (
        f"{past:%d.%m.%Y %H:%M} Приморский районный суд 2-1187/2026 {firm.client.full_name} "
        "Иск удовлетворён частично"
    )


async def test_court_representative_schedules_the_first_hearing_of_a_contract(
    tab: Tab, firm: Firm, core: Services
) -> None:
    contract = await signed_contract(core, firm)
    page = tab.page
    await log_in_as(tab, core, firm, Role.court_representative)
    response = await tab.goto(f"/contracts/{contract.id}")
    assert response.status == 200
    assert await form_with(page, "Назначить").count() == 1


async def test_administrator_sets_up_staff_and_switches_an_employee_off(
    open_tab: TabOpener, firm: Firm, core: Services
) -> None:
    operator_tab = await open_tab()
    await log_in_as(operator_tab, core, firm, Role.operator)
    tab = await open_tab()
    page = tab.page
    await log_in_as(tab, core, firm, Role.administrator)
    await open_section(tab, "Сотрудники")
    staff = page.locator("table.staff")
    before = await row_texts(staff)
    assert len(before) == len(firm.staff)

    new = form_with(page, "Создать")

    async def create(login: str, password: str) -> int:
        await new.get_by_label("ФИО").fill("Зайцев Роман Олегович")
        await new.get_by_label("Логин").fill(login)
        await new.get_by_label("Должность").select_option(label="Юрист")
        await new.get_by_label("Пароль").fill(password)
        return (await tab.submit(new.get_by_role("button", name="Создать"))).status

    assert await create("zaitsev", "корот") == 400
    alert = text_of(await page.get_by_role("alert").inner_text())
    assert alert == "Пароль должен быть не короче 10 символов"
    assert await row_texts(staff) == before
    assert await create(firm.staff[Role.lawyer].login, "новый пароль юриста") == 400
    assert text_of(await page.get_by_role("alert").inner_text()) == "Этот логин уже занят"
    assert await row_texts(staff) == before

    assert await create("zaitsev", "новый пароль юриста") == 200
    assert page.url.endswith("/staff")
    assert await page.get_by_role("alert").count() == 0
    assert len(await row_texts(staff)) == len(before) + 1
    assert (await row_with(page, "zaitsev")).startswith("Зайцев Роман Олегович zaitsev Юрист")

    classes = form_with(page, "Добавить класс")
    await classes.get_by_label("Класс").fill("Старший")
    await classes.get_by_label("Доля от оплат").fill("30")
    await tab.submit(classes.get_by_role("button", name="Добавить класс"))
    assert await page.get_by_role("listitem").filter(has_text="Старший").inner_text() == (
        "Старший — 30,00 %"
    )

    lawyer = firm.staff[Role.lawyer]
    row = page.get_by_role("row").filter(has_text=lawyer.login)
    await row.get_by_label("Класс").select_option(label="Старший")
    await tab.submit(row.get_by_role("button", name="Сохранить"))
    chosen = row.get_by_label("Класс").locator("option:checked")
    assert await chosen.inner_text() == "Старший"

    operator = firm.staff[Role.operator]
    row = page.get_by_role("row").filter(has_text=operator.login)
    await tab.submit(row.get_by_role("button", name="Отключить"))
    assert "(отключён)" in text_of(await row.inner_text())
    assert await row.get_by_role("button", name="Отключить").count() == 0

    # The operator's open session ends, and their password no longer lets them in.
    await operator_tab.goto("/")
    assert operator_tab.page.url.endswith("/login")
    response = await log_in(operator_tab, operator.login)
    assert response.status == 401
    assert "Неверный логин или пароль" in text_of(
        await operator_tab.page.get_by_role("alert").inner_text()
    )
    # The employee just created can log in.
    response = await log_in(operator_tab, "zaitsev", "новый пароль юриста")
    assert response.status == 200
    assert await heading(operator_tab.page) == "Рабочее место: Юрист"
