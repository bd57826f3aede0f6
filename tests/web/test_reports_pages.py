"""The statistics page and report exports: who sees what, the files' figures, their safety."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.core.roles import Role
from crm.journal.models import JournalOutcome
from crm.staff.models import Employee
from crm.visits.models import Visit
from tests.support.canaries import canaries_in
from tests.web.conftest import Client, ClientFactory, log_in
from web.keys import WebServices

PASSWORD = "correct horse battery"
CANARY = "+79215551199"
OTHER_CANARY = "+78125550123"
NOVEMBER = "period=custom&from=2026-11-01&to=2026-11-30"
HYPERLINK = '=HYPERLINK("http://x")'


@dataclass
class Firm:
    director: Employee
    head: Employee
    operator: Employee
    lawyer: Employee
    cashier: Employee


@pytest.fixture
async def firm(web_services: WebServices, sessionmaker: async_sessionmaker[AsyncSession]) -> Firm:
    """November 2026: three clients (one named like a formula, one with a number in the
    name), two contracts and a payment, calls and a visit booked by the operator."""
    make = web_services.staff.create_employee
    firm = Firm(
        director=await make("boss", "Директор Борис", Role.director, PASSWORD),
        head=await make("head", "Глава Колл-центра", Role.call_centre_head, PASSWORD),
        operator=await make("olga", "Оператор Ольга", Role.operator, PASSWORD),
        lawyer=await make("petr", "Юрист Пётр", Role.lawyer, PASSWORD),
        cashier=await make("vera", "Кассир Вера", Role.cashier, PASSWORD),
    )
    clients = web_services.clients
    formula = await clients.add_client(
        HYPERLINK,
        [CANARY],
        topic="@SUM(A1)",
        source="Сайт",
        lawyer_id=firm.lawyer.id,
        first_contact_on=date(2026, 11, 3),
    )
    numbered = await clients.add_client(
        "Иванов звонить 8 (921) 555-11-99",
        [OTHER_CANARY],
        topic="Банкротство",
        source="-Радио",
        lawyer_id=firm.lawyer.id,
        first_contact_on=date(2026, 11, 4),
    )
    await clients.add_client(
        "Сидорова Анна", [], topic="Банкротство", first_contact_on=date(2026, 11, 5)
    )
    contracts = web_services.contracts
    first = await contracts.add_contract(
        client_id=formula.id,
        lawyer_id=firm.lawyer.id,
        number="-2026/1",
        amount="150 000,50",
        essence="Иск",
        signed_on=date(2026, 11, 10),
    )
    await contracts.add_contract(
        client_id=numbered.id,
        lawyer_id=firm.lawyer.id,
        number="Д-2",
        amount="20 000",
        essence="Консультация",
        signed_on=date(2026, 11, 12),
    )
    await web_services.finance.receive_payment(
        first.id, amount="50 000", cashier_id=firm.cashier.id, received_on=date(2026, 11, 11)
    )
    async with sessionmaker() as session:
        session.add_all(
            [
                Call(
                    linkedid="l-1",
                    direction=CallDirection.inbound,
                    client_id=formula.id,
                    employee_id=firm.operator.id,
                    started_at=datetime(2026, 11, 3, 9, tzinfo=UTC),
                    answered_at=datetime(2026, 11, 3, 9, 0, 5, tzinfo=UTC),
                ),
                Call(
                    linkedid="l-2",
                    direction=CallDirection.inbound,
                    started_at=datetime(2026, 11, 3, 10, tzinfo=UTC),
                ),
                Visit(
                    client_id=formula.id,
                    booked_by_id=firm.operator.id,
                    lawyer_id=firm.lawyer.id,
                    scheduled_at=datetime(2026, 11, 10, 9, tzinfo=UTC),
                    checked_in_at=datetime(2026, 11, 10, 9, 5, tzinfo=UTC),
                    created_at=datetime(2026, 11, 3, 9, 1, tzinfo=UTC),
                ),
            ]
        )
        await session.commit()
    return firm


async def _browser(new_client: ClientFactory, who: Employee) -> Client:
    browser = await new_client()
    await log_in(browser, who.login, PASSWORD)
    return browser


async def _export(browser: Client, kind: str, fmt: str, extra: str = "") -> bytes:
    response = await browser.get(f"/reports/export?{NOVEMBER}&kind={kind}&format={fmt}{extra}")
    assert response.status == 200, await response.text()
    assert "attachment" in response.headers["Content-Disposition"]
    return await response.read()


def _no_canary(content: bytes | str) -> None:
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    assert canaries_in(text, [CANARY, OTHER_CANARY]) == []


async def test_the_director_sees_funnel_money_and_charts_without_any_number(
    new_client: ClientFactory, firm: Firm
) -> None:
    browser = await _browser(new_client, firm.director)
    response = await browser.get(f"/reports?{NOVEMBER}")
    page = await response.text()
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Воронка продаж" in page and "<svg" in page
    assert 'aria-labelledby="chart-funnel-title chart-funnel-desc"' in page
    assert "Обращения: 3" in page  # the funnel chart's description
    assert "170\u202f000,50\u00a0₽" in page  # contracts concluded in November
    assert "50\u202f000,00\u00a0₽" in page  # the payment received
    assert "Оператор Ольга" in page and "Юрист Пётр" in page
    assert "@SUM(A1)" in page  # a topic is shown as text, escaped, never run
    _no_canary(page)


async def test_the_call_centre_head_sees_calls_and_the_funnel_but_no_money(
    new_client: ClientFactory, firm: Firm
) -> None:
    browser = await _browser(new_client, firm.head)
    page = await (await browser.get(f"/reports?{NOVEMBER}")).text()
    assert "Воронка по операторам" in page and "Оператор Ольга" in page
    assert "Звонки" in page
    assert "₽" not in page
    assert "Юрист Пётр" not in page  # no lawyers' figures, no lawyer filter
    _no_canary(page)

    allowed = await _export(browser, "series", "csv")
    header = allowed.decode("utf-8-sig").splitlines()[0]
    assert "Входящих звонков" in header and "Поступления" not in header
    refused = await browser.get(f"/reports/export?{NOVEMBER}&kind=contracts&format=csv")
    assert refused.status == 403


@pytest.mark.parametrize("role", [Role.lawyer, Role.operator, Role.cashier, Role.reception])
async def test_jobs_without_the_right_are_refused_and_journaled(
    role: Role, new_client: ClientFactory, web_services: WebServices, firm: Firm
) -> None:
    who = {
        Role.lawyer: firm.lawyer,
        Role.operator: firm.operator,
        Role.cashier: firm.cashier,
    }.get(role) or await web_services.staff.create_employee("rita", "Ресепшин Рита", role, PASSWORD)
    browser = await _browser(new_client, who)
    page = await browser.get(f"/reports?{NOVEMBER}")
    export = await browser.get(f"/reports/export?{NOVEMBER}&kind=funnel&format=csv")
    assert (page.status, export.status) == (403, 403)
    refusals = [
        (entry.action, entry.outcome)
        for entry in await web_services.journal.entries(employee_id=who.id)
        if entry.object_type == "report"
    ]
    assert ("view_statistics", JournalOutcome.denied) in refusals
    assert ("export_reports", JournalOutcome.denied) in refusals


async def test_the_csv_opens_in_russian_excel_with_the_right_figures(
    new_client: ClientFactory, firm: Firm
) -> None:
    browser = await _browser(new_client, firm.director)
    content = await _export(browser, "funnel", "csv")
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads Cyrillic right
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Этап;Клиентов;От предыдущего этапа;От обращений"
    assert lines[1:] == [
        "Обращения;3;;",
        "Записаны на визит;2;66,7%;66,7%",
        "Пришли в офис;2;100,0%;66,7%",
        "Заключили договор;2;100,0%;66,7%",
        "Первая оплата;1;50,0%;33,3%",
    ]
    series = (await _export(browser, "series", "csv", "&group=month")).decode("utf-8-sig")
    header, november = series.splitlines()
    cells = dict(zip(header.split(";"), november.split(";"), strict=True))
    assert (cells["С"], cells["По"]) == ("01.11.2026", "30.11.2026")
    assert cells["Поступления, ₽"] == "50000,00"
    assert cells["Сумма первичных, ₽"] == "170000,50"
    assert (cells["Входящих звонков"], cells["Пропущенных"]) == ("2", "1")


async def test_the_xlsx_holds_numbers_and_dates_and_no_formula_or_phone_number(
    new_client: ClientFactory, firm: Firm
) -> None:
    browser = await _browser(new_client, firm.director)
    content = await _export(browser, "contracts", "xlsx")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = "".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    assert "<f>" not in xml  # not one formula in the workbook
    _no_canary(xml)

    sheet = load_workbook(io.BytesIO(content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Номер договора", "Подписан", "Клиент", "Юрист", "Вид", "Статус", "Сумма, ₽"]
    first, second = rows[1], rows[2]
    assert first[0] == "'-2026/1"
    assert first[1] == datetime(2026, 11, 10)
    assert sheet.cell(row=2, column=2).number_format == "DD.MM.YYYY"
    assert first[2] == "'" + HYPERLINK
    assert first[6] == pytest.approx(150000.50)
    assert sheet.cell(row=2, column=7).data_type == "n"
    assert second[2] == "Иванов звонить [номер скрыт]"
    assert second[4:6] == ["первичный", "действует"]

    topics = load_workbook(io.BytesIO(await _export(browser, "topics", "xlsx"))).active
    labels = [row[0].value for row in topics.iter_rows(min_row=2)]
    assert "'@SUM(A1)" in labels
    sources = (await _export(browser, "sources", "csv")).decode("utf-8-sig")
    assert "'-Радио;" in sources
    funnel = load_workbook(io.BytesIO(await _export(browser, "funnel", "xlsx"))).active
    assert funnel.cell(row=3, column=3).value == pytest.approx(0.6667)
    assert funnel.cell(row=3, column=3).number_format == "0.0%"


async def test_every_export_is_journaled_with_the_report_period_and_rows(
    new_client: ClientFactory, web_services: WebServices, firm: Firm
) -> None:
    browser = await _browser(new_client, firm.director)
    await _export(browser, "contracts", "csv", f"&lawyer={firm.lawyer.id}&topic=Банкротство")
    entries = [
        entry
        for entry in await web_services.journal.entries(employee_id=firm.director.id)
        if entry.action == "export_reports" and entry.detail
    ]
    (entry,) = entries
    assert entry.object_type == "report" and entry.object_id == "contracts"
    assert entry.outcome is JournalOutcome.allowed
    assert entry.detail is not None
    assert "01.11.2026–30.11.2026" in entry.detail
    assert "строк 1" in entry.detail
    assert f"юрист #{firm.lawyer.id}" in entry.detail and "Банкротство" in entry.detail


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (f"{NOVEMBER}&kind=funnel&format=pdf", "csv или xlsx"),
        (f"{NOVEMBER}&kind=salaries&format=csv", "Неизвестный отчёт"),
        ("period=custom&from=2026-11-30&to=2026-11-01&kind=funnel&format=csv", "раньше"),
        ("period=custom&kind=funnel&format=csv", "Укажите даты"),
        ("period=year&kind=funnel&format=csv", "Неизвестный период"),
        (f"{NOVEMBER}&group=hour&kind=funnel&format=csv", "группировка"),
        (f"{NOVEMBER}&operator=x&kind=funnel&format=csv", "Оператор"),
    ],
)
async def test_nonsense_in_the_query_is_a_400_that_says_what_is_wrong(
    query: str, message: str, new_client: ClientFactory, firm: Firm
) -> None:
    browser = await _browser(new_client, firm.director)
    response = await browser.get(f"/reports/export?{query}")
    assert response.status == 400
    assert message in await response.text()


async def test_period_presets_and_groupings_render(new_client: ClientFactory, firm: Firm) -> None:
    browser = await _browser(new_client, firm.director)
    for query in ("", "period=day", "period=week", "period=month&group=week", "group=month"):
        response = await browser.get(f"/reports?{query}")
        assert response.status == 200, query
