"""The client card: the permission table enforced per object, every view and refusal journaled."""

from __future__ import annotations

from crm.core.roles import Role
from crm.journal.models import JournalOutcome
from crm.staff.models import Employee
from tests.web.conftest import LAWYER_LOGIN, LAWYER_PASSWORD, ClientFactory, csrf_field, log_in
from web.keys import WebServices

PHONE = "+79215557788"


async def test_lawyer_opens_own_client_and_is_refused_another(
    new_client: ClientFactory, web_services: WebServices, lawyer: Employee
) -> None:
    own = await web_services.clients.add_client(
        "Волкова Ирина Сергеевна", [PHONE], lawyer_id=lawyer.id
    )
    other = await web_services.clients.add_client("Зайцев Олег Петрович", [])
    browser = await new_client()
    await log_in(browser, LAWYER_LOGIN, LAWYER_PASSWORD)

    page = await browser.get(f"/clients/{own.id}")
    text = await page.text()
    assert page.status == 200 and "Волкова Ирина Сергеевна" in text
    assert own.first_contact_on.strftime("%d.%m.%Y") in text
    assert "5557788" not in text.replace(" ", "").replace("-", "")

    refused = await browser.get(f"/clients/{other.id}")
    assert refused.status == 403

    entries = await web_services.journal.entries(employee_id=lawyer.id)
    seen = {(e.object_id, e.outcome) for e in entries if e.action == "view_client"}
    assert (str(own.id), JournalOutcome.allowed) in seen
    assert (str(other.id), JournalOutcome.denied) in seen


async def test_calling_another_lawyers_client_is_refused_and_journaled(
    new_client: ClientFactory, web_services: WebServices, lawyer: Employee
) -> None:
    other = await web_services.clients.add_client("Зайцев Олег Петрович", [])
    browser = await new_client()
    await log_in(browser, LAWYER_LOGIN, LAWYER_PASSWORD)
    page = await (await browser.get("/")).text()
    response = await browser.post(
        f"/clients/{other.id}/call", data={"csrf_token": csrf_field(page)}, allow_redirects=False
    )
    assert response.status == 403
    entries = await web_services.journal.entries(employee_id=lawyer.id)
    assert any(e.action == "call_client" and e.outcome == JournalOutcome.denied for e in entries)


async def test_administrator_has_no_client_cards(
    new_client: ClientFactory, web_services: WebServices
) -> None:
    await web_services.staff.create_employee(
        "boss-admin", "Админ Админов", Role.administrator, "correct horse battery"
    )
    client = await web_services.clients.add_client("Зайцев Олег Петрович", [])
    browser = await new_client()
    await log_in(browser, "boss-admin", "correct horse battery")
    assert (await browser.get(f"/clients/{client.id}")).status == 403


async def test_search_ignores_case_and_yo_and_finds_codes(
    new_client: ClientFactory, web_services: WebServices, lawyer: Employee
) -> None:
    await web_services.staff.create_employee(
        "operator1", "Оператор Один", Role.operator, "correct horse battery"
    )
    pyotr = await web_services.clients.add_client("Фёдоров Пётр Ильич", [], lawyer_id=lawyer.id)
    anna = await web_services.clients.add_client("Федорова Анна", [])
    browser = await new_client()
    await log_in(browser, "operator1", "correct horse battery")
    for query in ("федоров", "ФЁДОРОВ", "Федоров"):
        text = await (await browser.get("/clients", params={"q": query})).text()
        assert "Фёдоров Пётр Ильич" in text and "Федорова Анна" in text, query
    text = await (await browser.get("/clients", params={"q": anna.code})).text()
    assert "Федорова Анна" in text and "Фёдоров Пётр" not in text
    text = await (await browser.get("/clients", params={"q": "<script>"})).text()
    assert "<script>" not in text.split("<main>")[1] and "Ничего не найдено" in text
    # A lawyer finds only their own clients.
    mine = await new_client()
    await log_in(mine, LAWYER_LOGIN, LAWYER_PASSWORD)
    text = await (await mine.get("/clients", params={"q": "федоров"})).text()
    assert "Фёдоров Пётр Ильич" in text and "Федорова Анна" not in text
    assert f"/clients/{pyotr.id}" in text


async def test_journal_for_the_director_only_with_a_filter_by_employee(
    new_client: ClientFactory, web_services: WebServices, lawyer: Employee
) -> None:
    director = await web_services.staff.create_employee(
        "director1", "Директор Первый", Role.director, "correct horse battery"
    )
    other = await web_services.clients.add_client("Зайцев Олег Петрович", [])
    lawyer_browser = await new_client()
    await log_in(lawyer_browser, LAWYER_LOGIN, LAWYER_PASSWORD)
    assert (await lawyer_browser.get(f"/clients/{other.id}")).status == 403
    assert (await lawyer_browser.get("/journal")).status == 403

    boss = await new_client()
    await log_in(boss, "director1", "correct horse battery")
    await boss.get(f"/clients/{other.id}")
    page = await (await boss.get("/journal", params={"employee": str(lawyer.id)})).text()
    assert "открыл карточку клиента" in page and "отказано" in page and "открыл журнал" in page
    assert "Директор Первый" not in page.split("<tbody>")[1]  # filtered to the lawyer
    everyone = await (await boss.get("/journal")).text()
    assert "Директор Первый" in everyone.split("<tbody>")[1]
    assert (await boss.get("/journal", params={"employee": "x"})).status == 400
    assert director.id != lawyer.id
