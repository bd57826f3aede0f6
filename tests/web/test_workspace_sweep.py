"""The workspace routes as every job, on own and other people's visits, calls, hearings,
contracts and lawyers: allowed exactly where the permission table says, and no number shown."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.core.permissions import Action, may, scope_of
from crm.core.roles import Role
from crm.staff.models import Employee
from tests.web.conftest import LAWYER_PASSWORD, ClientFactory, csrf_field, log_in
from web.keys import WebServices

PASSWORD = "correct horse battery"
CANARIES = ("+79215551177", "+79215551166")


@pytest.mark.parametrize("role", list(Role))
async def test_each_job_gets_exactly_its_workspace_rights(
    role: Role,
    new_client: ClientFactory,
    web_services: WebServices,
    sessionmaker: async_sessionmaker[AsyncSession],
    lawyer: Employee,
) -> None:
    services = web_services
    me = await services.staff.create_employee(
        "me-" + role.value.replace("_", "-"), "Проверяемый Сотрудник", role, PASSWORD, "1098"
    )
    other_rep = await services.staff.create_employee(
        "other-rep", "Другой Защитник", Role.court_representative, PASSWORD
    )
    cashier = await services.staff.create_employee(
        "sweep-cashier", "Кассир Сверки", Role.cashier, PASSWORD
    )
    share = await services.staff.add_lawyer_class("Сверка", "10")
    await services.staff.update_employee(
        lawyer.id, lawyer_class_id=share.id, head_id=None, sip_extension=None
    )
    if role is Role.lawyer:
        await services.staff.update_employee(
            me.id, lawyer_class_id=share.id, head_id=None, sip_extension="1098"
        )
    now = datetime.now(UTC)
    objects = {}
    for label, canary in zip(("own", "other"), CANARIES, strict=True):
        # The client is "own" to a lawyer by assignment, to a representative by a hearing.
        owner = me if label == "own" and role is not Role.court_representative else lawyer
        client = await services.clients.add_client(
            f"Клиент {label}", [canary], lawyer_id=owner.id, topic="наследство"
        )
        contract = await services.contracts.add_contract(
            client_id=client.id,
            lawyer_id=owner.id,
            number=f"W-{label}",
            amount="10000",
            essence="суть",
        )
        representative = me if label == "own" and role is Role.court_representative else other_rep
        hearing = await services.courts.schedule(
            contract.id,
            court="Городской суд",
            case_number=f"2-{label}/2026",
            starts_at=now - timedelta(hours=2),
            representative_id=representative.id,
            by_employee_id=representative.id,
        )
        await services.finance.receive_payment(contract.id, amount="1000", cashier_id=cashier.id)
        visit_lawyer = owner.id if owner.role is Role.lawyer else None
        arriving = await services.visits.book(
            client.id,
            booked_by_id=me.id,
            scheduled_at=now + timedelta(hours=1),
            lawyer_id=visit_lawyer,
        )
        closing = await services.visits.book(
            client.id,
            booked_by_id=me.id,
            scheduled_at=now + timedelta(hours=2),
            lawyer_id=visit_lawyer,
        )
        async with sessionmaker() as session:
            call = Call(
                linkedid=f"sweep-{label}",
                direction=CallDirection.outbound,
                client_id=client.id,
                employee_id=me.id if label == "own" else lawyer.id,
                started_at=now - timedelta(minutes=5),
                answered_at=now - timedelta(minutes=4),
                ended_at=now - timedelta(minutes=1),
            )
            session.add(call)
            await session.commit()
        client_owner = me.id if label == "own" else lawyer.id
        lawyer_target = (me if role is Role.lawyer else None) if label == "own" else lawyer
        objects[label] = (
            client,
            client_owner,
            contract,
            hearing,
            arriving,
            closing,
            call,
            lawyer_target,
        )

    browser = await new_client()
    await log_in(browser, me.login, PASSWORD)
    token = csrf_field(await (await browser.get("/")).text())
    tomorrow = (now + timedelta(days=1)).strftime("%d.%m.%Y")

    for label, (
        client,
        client_owner,
        contract,
        hearing,
        arriving,
        closing,
        call,
        lawyer_target,
    ) in objects.items():
        checks = [
            # Walk-in rights do not depend on whose client it is (reception: all).
            (
                Action.check_in_visit,
                None,
                "POST",
                f"/clients/{client.id}/walk-in",
                {"lawyer": str(lawyer.id)},
            ),
            (
                Action.change_contract_status,
                client_owner,
                "POST",
                f"/contracts/{contract.id}/call-period",
                {"days": "14"},
            ),
            (
                Action.book_visit,
                client_owner,
                "POST",
                f"/clients/{client.id}/visits",
                {"day": tomorrow, "time": "10:00"},
            ),
            (Action.add_note, client_owner, "POST", f"/clients/{client.id}/notes", {"text": "x"}),
            (
                Action.add_note,
                client_owner,
                "POST",
                f"/clients/{client.id}/details",
                {"full_name": f"Клиент {label}", "topic": "наследство"},
            ),
            (Action.view_contracts, client_owner, "GET", f"/contracts/{contract.id}", None),
            (
                Action.change_contract_status,
                client_owner,
                "POST",
                f"/contracts/{contract.id}/status",
                {"status": "active"},
            ),
            (
                Action.schedule_hearing,
                client_owner,
                "POST",
                f"/contracts/{contract.id}/hearings",
                {
                    "court": "Суд",
                    "case_number": "2-1/2026",
                    "day": tomorrow,
                    "time": "11:00",
                    "representative": str(other_rep.id),
                },
            ),
            (
                Action.record_hearing_result,
                hearing.representative_id,
                "POST",
                f"/hearings/{hearing.id}/result",
                {"result": "отложено"},
            ),
            (
                Action.check_in_visit,
                arriving.lawyer_id,
                "POST",
                f"/visits/{arriving.id}/check-in",
                {"lawyer": str(lawyer.id)},
            ),
            (
                Action.close_visit,
                closing.lawyer_id,
                "POST",
                f"/visits/{closing.id}/outcome",
                {"outcome": "no_show"},
            ),
            (
                Action.comment_call,
                call.employee_id,
                "POST",
                f"/calls/{call.id}/comment",
                {"comment": "договорились"},
            ),
        ]
        if lawyer_target is not None:
            checks += [
                (
                    Action.view_lawyers,
                    lawyer_target.id,
                    "GET",
                    f"/lawyers/{lawyer_target.id}",
                    None,
                ),
                (
                    Action.pay_out,
                    lawyer_target.id,
                    "POST",
                    f"/lawyers/{lawyer_target.id}/payouts",
                    {"amount": "1"},
                ),
            ]
        for action, owner_id, method, path, data in checks:
            expected = may(role, action, owner_id=owner_id, employee_id=me.id)
            if method == "GET":
                response = await browser.get(path, allow_redirects=False)
            else:
                response = await browser.post(
                    path, data={"csrf_token": token, **(data or {})}, allow_redirects=False
                )
            body = await response.text()
            assert (response.status in {200, 303}) == expected, (
                role,
                label,
                action,
                path,
                response.status,
                body[:300],
            )
            _assert_no_canary(body)

    for action, path in (
        (Action.view_visits, "/visits?period=week"),
        (Action.view_calls, "/calls?direction=outbound&period=week"),
        (Action.view_calls, "/calls?direction=inbound"),
        (Action.view_hearings, "/courts?period=year"),
        (Action.view_finance, "/finance"),
        (Action.view_lawyers, "/lawyers"),
        (Action.view_plan, "/plan?period=year"),
        (Action.manage_staff, "/staff"),
        (Action.book_visit, "/clients/new"),
        (Action.view_client, "/clients"),
        (Action.view_contracts, "/contracts"),
    ):
        response = await browser.get(path, allow_redirects=False)
        expected = scope_of(role, action) is not None
        assert (response.status == 200) == expected, (role, path, response.status)
        _assert_no_canary(await response.text())

    posts = (
        (Action.book_visit, "/clients", {"full_name": "Новый Клиент", "phone": "+74951234567"}),
        (
            Action.record_expense,
            "/finance/expenses",
            {"amount": "500", "payee": "Почта", "purpose": "марки"},
        ),
        (Action.manage_staff, "/staff/classes", {"name": "Новый класс", "percent": "5"}),
        (Action.manage_staff, f"/staff/{other_rep.id}", {"sip_extension": "1097"}),
        (
            Action.manage_staff,
            "/staff",
            {
                "full_name": "Новый Сотрудник",
                "login": "newbie",
                "role": "operator",
                "password": PASSWORD,
            },
        ),
        (Action.manage_staff, f"/staff/{other_rep.id}/deactivate", {}),
    )
    for action, path, data in posts:
        response = await browser.post(
            path, data={"csrf_token": token, **data}, allow_redirects=False
        )
        expected = scope_of(role, action) is not None
        assert (response.status in {200, 303}) == expected, (role, path, response.status)
    home = await browser.get("/")
    assert home.status == 200
    _assert_no_canary(await home.text())


def _assert_no_canary(page: str) -> None:
    digits = re.sub(r"\D", "", page)
    for number in CANARIES:
        national = number.removeprefix("+7")
        for form in (national, "7" + national, "8" + national):
            assert form not in digits, form


async def test_a_court_representative_finds_the_clients_of_their_cases_only(
    new_client: ClientFactory, web_services: WebServices, lawyer: Employee
) -> None:
    services = web_services
    representative = await services.staff.create_employee(
        "rep", "Защитник Один", Role.court_representative, PASSWORD
    )
    mine = await services.clients.add_client("Сидоров Мой", [], lawyer_id=lawyer.id)
    theirs = await services.clients.add_client("Сидоров Чужой", [], lawyer_id=lawyer.id)
    contract = await services.contracts.add_contract(
        client_id=mine.id, lawyer_id=lawyer.id, number="R-1", amount="1", essence="дело"
    )
    await services.courts.schedule(
        contract.id,
        court="Районный суд",
        case_number="2-7/2026",
        starts_at=datetime.now(UTC) + timedelta(days=3),
        representative_id=representative.id,
        by_employee_id=representative.id,
    )
    browser = await new_client()
    await log_in(browser, "rep", PASSWORD)
    page = await (await browser.get("/clients", params={"q": "сидоров"})).text()
    assert "Сидоров Мой" in page and "Сидоров Чужой" not in page
    page = await (await browser.get("/clients", params={"q": theirs.code})).text()
    assert "Сидоров Чужой" not in page
    assert (await browser.get(f"/clients/{mine.id}")).status == 200
    assert (await browser.get(f"/clients/{theirs.id}")).status == 403
    assert (await browser.get(f"/contracts/{contract.id}")).status == 200


async def test_a_contracts_call_period_takes_days_or_nothing(
    new_client: ClientFactory, web_services: WebServices, lawyer: Employee
) -> None:
    client = await web_services.clients.add_client("Клиент Периода", [], lawyer_id=lawyer.id)
    contract = await web_services.contracts.add_contract(
        client_id=client.id, lawyer_id=lawyer.id, number="P-1", amount="1", essence="x"
    )
    browser = await new_client()
    await log_in(browser, lawyer.login, LAWYER_PASSWORD)
    token = csrf_field(await (await browser.get("/")).text())
    path = f"/contracts/{contract.id}/call-period"
    for bad in ("0", "366", "abc", "1e3", "-5"):
        response = await browser.post(path, data={"csrf_token": token, "days": bad})
        assert response.status == 400, bad
        assert "Период звонков" in await response.text()
    stored = await web_services.contracts.get(contract.id)
    assert stored is not None and stored.call_period_days is None
    response = await browser.post(
        path, data={"csrf_token": token, "days": "14"}, allow_redirects=False
    )
    assert response.status == 303
    stored = await web_services.contracts.get(contract.id)
    assert stored is not None and stored.call_period_days == 14
    await browser.post(path, data={"csrf_token": token, "days": ""}, allow_redirects=False)
    stored = await web_services.contracts.get(contract.id)
    assert stored is not None and stored.call_period_days is None
