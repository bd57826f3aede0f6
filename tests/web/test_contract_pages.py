"""Contracts on the web: a lawyer adds one on the card, the director filters all of them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.contracts.models import Contract
from crm.core.roles import Role
from crm.staff.models import Employee
from tests.web.conftest import LAWYER_LOGIN, LAWYER_PASSWORD, ClientFactory, csrf_field, log_in
from web.keys import WebServices


async def _contracts(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Contract)) or 0)


async def test_lawyer_adds_a_contract_and_bad_input_changes_nothing(
    new_client: ClientFactory,
    web_services: WebServices,
    lawyer: Employee,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    client = await web_services.clients.add_client("Белова Ольга", [], lawyer_id=lawyer.id)
    browser = await new_client()
    await log_in(browser, LAWYER_LOGIN, LAWYER_PASSWORD)
    page = await (await browser.get(f"/clients/{client.id}")).text()
    token = csrf_field(page)

    bad = await browser.post(
        f"/clients/{client.id}/contracts",
        data={"csrf_token": token, "number": "Д-1", "amount": "десять", "essence": "<b>x</b>"},
    )
    text = await bad.text()
    assert bad.status == 400 and "Сумма: введите число" in text
    assert "&lt;b&gt;x&lt;/b&gt;" in text  # the form comes back with what was typed, escaped
    assert await _contracts(sessionmaker) == 0

    good = await browser.post(
        f"/clients/{client.id}/contracts",
        data={"csrf_token": token, "number": "Д-1", "amount": "1 250 000,50", "essence": "Иск"},
    )
    text = await good.text()
    assert good.status == 200 and "Д-1" in text
    assert "1\u202f250\u202f000,50\u00a0₽" in text
    assert await _contracts(sessionmaker) == 1

    no_token = await browser.post(
        f"/clients/{client.id}/contracts", data={"number": "Д-2", "amount": "1", "essence": "x"}
    )
    assert no_token.status == 403 and await _contracts(sessionmaker) == 1


async def test_director_sees_all_contracts_lawyer_own_operator_none(
    new_client: ClientFactory, web_services: WebServices, lawyer: Employee
) -> None:
    other_lawyer = await web_services.staff.create_employee(
        "lawyer2", "Юрист Второй", Role.lawyer, "correct horse battery"
    )
    await web_services.staff.create_employee(
        "director1", "Директор", Role.director, "correct horse battery"
    )
    await web_services.staff.create_employee(
        "operator1", "Оператор", Role.operator, "correct horse battery"
    )
    mine = await web_services.clients.add_client("Мой Клиент", [], lawyer_id=lawyer.id)
    theirs = await web_services.clients.add_client("Чужой Клиент", [], lawyer_id=other_lawyer.id)
    await web_services.contracts.add_contract(
        client_id=mine.id, lawyer_id=lawyer.id, number="A-100", amount="1000", essence="x"
    )
    await web_services.contracts.add_contract(
        client_id=theirs.id, lawyer_id=other_lawyer.id, number="B-200", amount="2000", essence="y"
    )
    boss = await new_client()
    await log_in(boss, "director1", "correct horse battery")
    text = await (await boss.get("/contracts")).text()
    assert "A-100" in text and "B-200" in text
    text = await (await boss.get("/contracts", params={"number": "20"})).text()
    assert "B-200" in text and "A-100" not in text
    text = await (await boss.get("/contracts", params={"employee": str(lawyer.id)})).text()
    assert "A-100" in text and "B-200" not in text
    assert (await boss.get("/contracts", params={"from": "32.13.2026"})).status == 400

    own = await new_client()
    await log_in(own, LAWYER_LOGIN, LAWYER_PASSWORD)
    text = await (await own.get("/contracts", params={"employee": str(other_lawyer.id)})).text()
    assert "A-100" in text and "B-200" not in text  # the filter cannot widen own scope

    operator = await new_client()
    await log_in(operator, "operator1", "correct horse battery")
    assert (await operator.get("/contracts")).status == 403


async def test_lawyer_plans_a_payment_and_the_cashier_takes_it(
    new_client: ClientFactory, web_services: WebServices, lawyer: Employee
) -> None:
    await web_services.staff.create_employee(
        "cashier1", "Кассир Первый", Role.cashier, "correct horse battery"
    )
    client = await web_services.clients.add_client("Плательщик Иван", [], lawyer_id=lawyer.id)
    contract = await web_services.contracts.add_contract(
        client_id=client.id, lawyer_id=lawyer.id, number="П-1", amount="100 000", essence="x"
    )
    due = (date.today() + timedelta(days=10)).strftime("%d.%m.%Y")

    own = await new_client()
    await log_in(own, LAWYER_LOGIN, LAWYER_PASSWORD)
    token = csrf_field(await (await own.get(f"/clients/{client.id}")).text())
    planned = await own.post(
        f"/contracts/{contract.id}/plan",
        data={"csrf_token": token, "due_on": due, "amount": "40 000"},
    )
    assert planned.status == 200 and "ожидается" in await planned.text()
    bad = await own.post(
        f"/contracts/{contract.id}/plan",
        data={"csrf_token": token, "due_on": "завтра", "amount": "1"},
    )
    assert bad.status == 400
    refused = await own.post(
        f"/contracts/{contract.id}/payments", data={"csrf_token": token, "amount": "40 000"}
    )
    assert refused.status == 403  # lawyers do not take money

    cashier = await new_client()
    await log_in(cashier, "cashier1", "correct horse battery")
    token = csrf_field(await (await cashier.get(f"/clients/{client.id}")).text())
    paid = await cashier.post(
        f"/contracts/{contract.id}/payments", data={"csrf_token": token, "amount": "40 000"}
    )
    text = await paid.text()
    assert paid.status == 200 and "оплачен" in text and "40\u202f000,00\u00a0₽" in text
    refused = await cashier.post(
        f"/contracts/{contract.id}/plan",
        data={"csrf_token": token, "due_on": due, "amount": "1 000"},
    )
    assert refused.status == 403  # the plan is the lawyer's
