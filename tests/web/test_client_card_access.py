"""The client card: the permission table enforced per object, every view and refusal journaled."""

from __future__ import annotations

from crm.models import Employee, JournalOutcome
from crm.roles import Role
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
    await web_services.employees.create_employee(
        "boss-admin", "Админ Админов", Role.administrator, "correct horse battery"
    )
    client = await web_services.clients.add_client("Зайцев Олег Петрович", [])
    browser = await new_client()
    await log_in(browser, "boss-admin", "correct horse battery")
    assert (await browser.get(f"/clients/{client.id}")).status == 403
