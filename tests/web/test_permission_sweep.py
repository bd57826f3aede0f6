"""Every route as every job, on own and other people's objects: exactly what the table allows."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from crm.core.permissions import Action, may, scope_of
from crm.core.roles import Role
from crm.staff.models import Employee
from tests.web.conftest import ClientFactory, csrf_field, log_in
from web.app import create_app
from web.keys import WebConfig, WebServices

PASSWORD = "correct horse battery"
CANARY = "+79215551199"
# Every route of the app and the right it needs ("" = any logged-in employee; None = public).
ROUTE_RIGHTS: dict[tuple[str, str], str | None] = {
    ("GET", "/"): "",
    ("GET", "/login"): None,
    ("POST", "/login"): None,
    ("POST", "/logout"): "",
    ("POST", "/lang"): None,  # the language switch works on the login page too
    ("GET", "/healthz"): None,
    ("GET", "/ws"): "",
    ("GET", "/callbacks"): Action.view_callbacks,
    ("GET", "/clients"): Action.view_client,
    ("GET", "/clients/{client_id}"): Action.view_client,
    ("GET", "/journal"): Action.view_journal,
    ("GET", "/contracts"): Action.view_contracts,
    ("POST", "/clients/{client_id}/call"): Action.call_client,
    ("POST", "/clients/{client_id}/contracts"): Action.add_contract,
    ("POST", "/contracts/{contract_id}/plan"): Action.plan_payment,
    ("POST", "/contracts/{contract_id}/payments"): Action.take_payment,
    ("GET", "/clients/new"): Action.book_visit,
    ("POST", "/clients"): Action.book_visit,
    ("POST", "/clients/{client_id}/details"): Action.add_note,
    ("POST", "/clients/{client_id}/notes"): Action.add_note,
    ("POST", "/clients/{client_id}/visits"): Action.book_visit,
    ("POST", "/clients/{client_id}/walk-in"): Action.check_in_visit,
    ("GET", "/contracts/{contract_id}"): Action.view_contracts,
    ("POST", "/contracts/{contract_id}/status"): Action.change_contract_status,
    ("POST", "/contracts/{contract_id}/call-period"): Action.change_contract_status,
    ("POST", "/contracts/{contract_id}/hearings"): Action.schedule_hearing,
    ("GET", "/visits"): Action.view_visits,
    ("POST", "/visits/{visit_id}/check-in"): Action.check_in_visit,
    ("POST", "/visits/{visit_id}/outcome"): Action.close_visit,
    ("GET", "/calls"): Action.view_calls,
    ("POST", "/calls/{call_id}/comment"): Action.comment_call,
    ("GET", "/courts"): Action.view_hearings,
    ("POST", "/hearings/{hearing_id}/result"): Action.record_hearing_result,
    ("GET", "/finance"): Action.view_finance,
    ("POST", "/finance/expenses"): Action.record_expense,
    ("GET", "/lawyers"): Action.view_lawyers,
    ("GET", "/lawyers/{lawyer_id}"): Action.view_lawyers,
    ("POST", "/lawyers/{lawyer_id}/payouts"): Action.pay_out,
    ("GET", "/plan"): Action.view_plan,
    ("GET", "/staff"): Action.manage_staff,
    ("POST", "/staff"): Action.manage_staff,
    ("POST", "/staff/classes"): Action.manage_staff,
    ("POST", "/staff/{employee_id}"): Action.manage_staff,
    ("POST", "/staff/{employee_id}/deactivate"): Action.manage_staff,
    ("GET", "/reminders"): "",
    ("POST", "/reminders/due"): "",
    ("POST", "/reminders/{reminder_id}/dismiss"): "",
    ("POST", "/clients/{client_id}/reminders"): Action.set_reminder,
    ("GET", "/recordings/{call_id}"): Action.view_transcript,
    ("GET", "/recordings/{call_id}/audio"): Action.listen_recording,
    ("GET", "/recordings/{call_id}/export"): Action.export_recording,
    ("GET", "/transcripts/search"): Action.search_transcripts,
    ("GET", "/listening-queue"): Action.view_listening_queue,
    ("GET", "/call-statistics"): Action.view_call_statistics,
    ("GET", "/reports"): Action.view_statistics,
    ("GET", "/reports/export"): Action.export_reports,
}


def test_every_route_is_in_the_sweep(web_services: WebServices) -> None:
    app = create_app(WebConfig(), web_services)
    routes = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path") or info.get("prefix")
        if route.method in {"HEAD"} or path == "/static":
            continue
        routes.add((route.method, path))
    assert routes == set(ROUTE_RIGHTS), "add new routes to ROUTE_RIGHTS with the right they need"


@pytest.mark.parametrize("role", list(Role))
async def test_each_job_gets_exactly_its_rights_on_own_and_others_objects(
    role: Role, new_client: ClientFactory, web_services: WebServices, lawyer: Employee
) -> None:
    me = await web_services.staff.create_employee(
        f"who-{role.value}".replace("_", "-"),
        "Проверяемый Сотрудник",
        role,
        PASSWORD,
        sip_extension="1099",
    )
    objects = {}
    for owner, label in ((me, "own"), (lawyer, "other")):
        client = await web_services.clients.add_client(
            f"Клиент {label}", [CANARY if label == "own" else "+79215551188"], lawyer_id=owner.id
        )
        contract = await web_services.contracts.add_contract(
            client_id=client.id, lawyer_id=owner.id, number=f"S-{label}", amount="1000", essence="x"
        )
        objects[label] = (owner, client, contract)
    browser = await new_client()
    await log_in(browser, me.login, PASSWORD)
    token = csrf_field(await (await browser.get("/")).text())
    due = (date.today() + timedelta(days=5)).strftime("%d.%m.%Y")

    for label, (owner, client, contract) in objects.items():
        requests = {
            Action.view_client: ("GET", f"/clients/{client.id}", None),
            Action.call_client: ("POST", f"/clients/{client.id}/call", {}),
            Action.add_contract: (
                "POST",
                f"/clients/{client.id}/contracts",
                {"number": f"N-{label}-{role.value}", "amount": "10", "essence": "y"},
            ),
            Action.plan_payment: (
                "POST",
                f"/contracts/{contract.id}/plan",
                {"due_on": due, "amount": "10"},
            ),
            Action.take_payment: ("POST", f"/contracts/{contract.id}/payments", {"amount": "10"}),
        }
        for action, (method, path, data) in requests.items():
            expected = may(role, action, owner_id=owner.id, employee_id=me.id)
            if method == "GET":
                response = await browser.get(path, allow_redirects=False)
            else:
                response = await browser.post(
                    path, data={"csrf_token": token, **(data or {})}, allow_redirects=False
                )
            allowed = response.status in {200, 303}
            assert allowed == expected, (role, label, action, response.status)
            if response.status == 200:
                _assert_no_canary(await response.text())

    for action, path in (
        (Action.view_callbacks, "/callbacks"),
        (Action.view_journal, "/journal"),
        (Action.view_contracts, "/contracts"),
        (Action.view_client, "/clients?q=Клиент"),
        (Action.view_statistics, "/reports"),
        (Action.export_reports, "/reports/export?kind=funnel&format=csv"),
    ):
        response = await browser.get(path, allow_redirects=False)
        expected = scope_of(role, action) is not None
        assert (response.status == 200) == expected, (role, path, response.status)
        if response.status == 200:
            _assert_no_canary(await response.text())
    _assert_no_canary(await (await browser.get("/")).text())


def _assert_no_canary(page: str) -> None:
    digits = re.sub(r"\D", "", page)
    for form in ("9215551199", "79215551199", "89215551199", "5551199"):
        assert form not in digits, form
