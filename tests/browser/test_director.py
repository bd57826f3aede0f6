"""The director's view: every tab opens, lists narrow to one employee, the funnel shows the flow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from crm.core.roles import Role
from crm.staff.models import Employee
from lexcrm.services import Services
from tests.browser.conftest import Firm, Tab, text_of
from tests.browser.steps import firm_now, heading, log_in_as, open_section, row_texts, table_cells


@dataclass(frozen=True)
class ListTab:
    """A list tab of the director's, its employee filter, and what marks a row as whose."""

    title: str
    filter_label: str
    table: str  # the list's table: the first of the page unless it has several


# The director's list tabs and the label of their filter by employee.
FILTERED_TABS = (
    ListTab("Клиенты", "Юрист", "main table.list"),
    ListTab("Договоры", "Юрист", "main table.list"),
    ListTab("Визиты", "Сотрудник", "table.visits"),
    ListTab("Звонки КЦ", "Сотрудник", "main table.list"),
    ListTab("Исходящие", "Сотрудник", "main table.list"),
    ListTab("Расходы и поступления", "Сотрудник", "main table.list"),
    ListTab("План поступлений", "Юрист", "main table.list"),
    ListTab("Суды", "Защитник", "table.hearings"),
    ListTab("Журнал", "Сотрудник", "main table.list"),
)


async def colleague(core: Services, login: str, full_name: str, role: Role) -> Employee:
    """A second lawyer or representative, who never logs in here: written without a password
    hash of their own, since argon2 costs half a second of CPU on a busy machine."""
    async with core.sessionmaker() as session:
        employee = Employee(
            login=login, full_name=full_name, role=role, password_hash="-", is_active=True
        )
        session.add(employee)
        await session.commit()
    return employee


async def two_lawyers_work(core: Services, firm: Firm) -> tuple[Employee, Employee]:
    """Each of two lawyers has a client with a visit today, a contract with a payment and a
    plan line, and a hearing tomorrow with a representative of their own."""
    first, cashier = firm.staff[Role.lawyer], firm.staff[Role.cashier]
    second = await colleague(core, "orlov", "Орлов Кирилл Андреевич", Role.lawyer)
    other_representative = await colleague(
        core, "kovalev", "Ковалёв Глеб Романович", Role.court_representative
    )
    other_client = await core.clients.add_client(
        "Белова Ирина Петровна", [], topic="Наследство", lawyer_id=second.id
    )
    now = firm_now()
    for number, client, lawyer, representative in (
        ("Д-2026/51", firm.client, first, firm.staff[Role.court_representative]),
        ("Д-2026/52", other_client, second, other_representative),
    ):
        await core.visits.book(
            client.id,
            booked_by_id=firm.staff[Role.operator].id,
            scheduled_at=now,
            lawyer_id=lawyer.id,
        )
        contract = await core.contracts.add_contract(
            client_id=client.id,
            lawyer_id=lawyer.id,
            number=number,
            amount="100 000",
            essence="Представительство в суде",
        )
        await core.finance.plan_payment(
            contract.id, due_on=now.date(), amount="20 000", by_employee_id=lawyer.id
        )
        await core.finance.receive_payment(contract.id, amount="20 000", cashier_id=cashier.id)
        await core.courts.schedule(
            contract.id,
            court="Куйбышевский районный суд",
            case_number=f"2-{number[-2:]}/2026",
            starts_at=now + timedelta(days=1),
            representative_id=representative.id,
            by_employee_id=lawyer.id,
        )
    return first, second


async def test_every_tab_of_the_director_opens_with_a_heading(
    tab: Tab, firm: Firm, core: Services
) -> None:
    page = tab.page
    await log_in_as(tab, core, firm, Role.director)
    nav = page.get_by_role("navigation", name="Разделы")
    titles = [text_of(title) for title in await nav.get_by_role("link").all_inner_texts()]
    assert titles[0] == "Рабочее место"
    assert {"Клиенты", "Договоры", "Визиты", "Расходы и поступления", "Статистика"} <= set(titles)
    assert "Сотрудники" not in titles  # the administrator's, not the director's
    for title in titles:
        await open_section(tab, title)
        assert await heading(page), title
        current = nav.locator("[aria-current=page]")
        assert await current.all_inner_texts() == [title]
        for listed in (listed for listed in FILTERED_TABS if listed.title == title):
            # A select's name is its label and its chosen option: "Юрист все".
            choice = page.locator("main form[method=get]").get_by_label(listed.filter_label)
            assert await choice.count() == 1, f"{title}: no «{listed.filter_label}» filter"


async def test_the_director_narrows_each_list_to_one_employee(
    tab: Tab, firm: Firm, core: Services
) -> None:
    first, second = await two_lawyers_work(core, firm)
    representative = firm.staff[Role.court_representative].full_name
    page = tab.page
    await log_in_as(tab, core, firm, Role.director)
    # What marks a row as the first lawyer's, and as the second's, in each list.
    marks = {
        "Клиенты": (first.full_name, second.full_name),
        "Договоры": (first.full_name, second.full_name),
        "Визиты": (first.full_name, second.full_name),
        "Расходы и поступления": (firm.client.full_name, "Белова Ирина Петровна"),
        "План поступлений": (first.full_name, second.full_name),
        "Суды": (representative, "Ковалёв Глеб Романович"),
    }
    for listed in FILTERED_TABS:
        if listed.title not in marks:
            continue
        mine, theirs = marks[listed.title]
        await open_section(tab, listed.title)
        table = page.locator(listed.table).first
        everyone = await row_texts(table)
        assert any(mine in row for row in everyone), (listed.title, everyone)
        assert any(theirs in row for row in everyone), (listed.title, everyone)
        filters = page.locator("main form[method=get]")
        pick = representative if listed.title == "Суды" else first.full_name
        await filters.get_by_label(listed.filter_label).select_option(label=pick)
        await tab.submit(filters.get_by_role("button", name="Показать"))
        narrowed = await row_texts(table)
        assert narrowed, listed.title
        assert all(mine in row for row in narrowed), (listed.title, narrowed)
        assert not any(theirs in row for row in narrowed), (listed.title, narrowed)


async def test_the_director_sees_the_flow_in_the_sales_funnel(
    tab: Tab, firm: Firm, core: Services
) -> None:
    # The flow the workspace tests click through, done here by the same services: the
    # client is booked, comes, concludes a contract and pays; the lead only called.
    lawyer = firm.staff[Role.lawyer]
    visit = await core.visits.book(
        firm.client.id,
        booked_by_id=firm.staff[Role.operator].id,
        scheduled_at=firm_now(),
        lawyer_id=lawyer.id,
    )
    await core.visits.check_in(visit.id, reception_id=firm.staff[Role.reception].id)
    contract = await core.contracts.add_contract(
        client_id=firm.client.id,
        lawyer_id=lawyer.id,
        number="Д-2026/60",
        amount="90 000",
        essence="Раздел имущества",
    )
    await core.finance.receive_payment(
        contract.id, amount="30 000", cashier_id=firm.staff[Role.cashier].id
    )
    page = tab.page
    await log_in_as(tab, core, firm, Role.director)
    await open_section(tab, "Статистика")
    assert await heading(page) == "Статистика"
    funnel = await table_cells(page.locator("#funnel table"))
    assert [(stage, clients) for stage, clients, *_shares in funnel] == [
        ("Обращения", "2"),
        ("Записаны на визит", "1"),
        ("Пришли в офис", "1"),
        ("Заключили договор", "1"),
        ("Первая оплата", "1"),
    ]
