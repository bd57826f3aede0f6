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
from web.routes import ROUTES

PASSWORD = "correct horse battery"
CANARY = "+79215551199"
# The routes any signed-in employee may open: everything else must declare its right.
FOR_EVERY_EMPLOYEE = {"home", "logout", "live", "reminders", "reminder-due", "reminder-dismiss"}


def test_the_app_serves_exactly_the_route_table(web_services: WebServices) -> None:
    app = create_app(WebConfig(), web_services)
    served = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path") or info.get("prefix")
        if route.method in {"HEAD"} or path == "/static":
            continue
        served.add((route.method, path))
    assert served == {(entry.method, entry.path) for entry in ROUTES}
    without_a_right = {entry.name for entry in ROUTES if not entry.public and not entry.checks}
    assert without_a_right == FOR_EVERY_EMPLOYEE, "a new route declares the right it needs"


@pytest.mark.parametrize("role", list(Role))
async def test_each_job_is_refused_exactly_the_routes_its_table_row_denies(
    role: Role, new_client: ClientFactory, web_services: WebServices
) -> None:
    """Every route of the table that acts on no object in its path, as this job: 403 where
    the permission table gives the job no right, anything else where it does."""
    me = await web_services.staff.create_employee(
        f"route-{role.value}".replace("_", "-"), "Проверяемый Сотрудник", role, PASSWORD
    )
    browser = await new_client()
    await log_in(browser, me.login, PASSWORD)
    token = csrf_field(await (await browser.get("/")).text())
    swept = 0
    for entry in ROUTES:
        if entry.public or entry.target is not None or entry.action is None:
            continue
        if entry.method == "GET":
            response = await browser.get(entry.path, allow_redirects=False)
        else:
            response = await browser.post(
                entry.path, data={"csrf_token": token}, allow_redirects=False
            )
        refused = scope_of(role, entry.action) is None
        assert (response.status == 403) == refused, (role, entry.name, response.status)
        swept += 1
    assert swept >= 15


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
