"""Contracts: the list with the seed's filters, the contract card, adding and changing them."""

from __future__ import annotations

from aiohttp import web

from crm.clients.models import Client
from crm.contracts.models import Contract, ContractStatus
from crm.contracts.services import ContractRow
from crm.core.errors import CrmError
from crm.core.permissions import Action, Ownership, Scope, may, own_as, scope_of
from crm.core.roles import Role
from web.access import owner_of, signed_in, target_of

# The add-contract form is on the client card, which comes back with the form's input.
from web.clients import client_card_page
from web.errors import error_text
from web.filters import back_to, parse_date, parse_id, period_of
from web.i18n import gettext as _
from web.keys import SERVICES
from web.render import render


async def contract_list(request: web.Request) -> web.StreamResponse:
    """Contracts: all, for a period, by employee, by client's name, by any part of the number,
    by status; a lawyer sees their own, a court representative the ones they go to court in."""
    user = signed_in(request)
    services = request.app[SERVICES]
    role, query = user.employee.role, request.query
    own = scope_of(role, Action.view_contracts) is Scope.own
    employee = user.employee.id if own else parse_id(query.get("employee"), _("Сотрудник"))
    period = period_of(query)
    status_text = query.get("status", "")
    try:
        status = ContractStatus(status_text) if status_text else None
    except ValueError:
        raise web.HTTPBadRequest(text=_("Неверный статус договора")) from None
    representative = own_as(role, Action.view_contracts, Ownership.representative)
    rows: list[ContractRow] = await services.contracts.search(
        number_part=query.get("number", "")[:50],
        client_name=query.get("client", "")[:100],
        lawyer_id=None if representative else employee,
        representative_id=employee if representative else None,
        signed_from=period.day_from,
        signed_to=period.day_to,
        status=status,
    )
    lawyers = [e for e in await services.staff.list_employees() if e.role is Role.lawyer]
    return render(
        request,
        "contracts.html",
        {
            "rows": rows,
            "total": sum(row.contract.amount_kopecks for row in rows),
            "query": query,
            "period": period,
            "status": status_text,
            "statuses": list(ContractStatus),
            "employees": [] if own else lawyers,
            "selected_employee": employee,
        },
    )


async def add_contract(request: web.Request) -> web.StreamResponse:
    user, client = signed_in(request), target_of(request, Client)
    services = request.app[SERVICES]
    form = await request.post()
    values = {key: str(form.get(key, ""))[:6000] for key in ("number", "amount", "essence")}
    try:
        await services.contracts.add_contract(
            client_id=client.id,
            lawyer_id=user.employee.id,
            number=values["number"],
            amount=values["amount"],
            essence=values["essence"],
        )
    except CrmError as error:
        return await client_card_page(
            request, user, client, form_error=error_text(error), form=values
        )
    raise web.HTTPSeeOther(location=f"/clients/{client.id}")


def contract_for(request: web.Request) -> Contract:
    """The contract of the path, which the route's rights let the employee act on."""
    return target_of(request, Contract)


def _contract_for(request: web.Request) -> tuple[int, int]:
    contract = contract_for(request)
    return contract.client_id, contract.id


async def contract_card(request: web.Request) -> web.StreamResponse:
    """Everything about one contract: the terms, plan and payments, expenses, hearings,
    the client's calls and notes."""
    contract = contract_for(request)
    user = signed_in(request)
    services = request.app[SERVICES]
    role, me = user.employee.role, user.employee.id
    client = await services.clients.get_client(contract.client_id)
    owner = await owner_of(request, lawyer_id=contract.lawyer_id, client_id=contract.client_id)
    # A reminder is set on the client (the route checks the client, and the client's
    # lawyer calls), whose lawyer may differ from this contract's.
    client_owner = await owner_of(request, lawyer_id=client.lawyer_id, client_id=client.id)
    (row,) = await services.contracts.search(contract_id=contract.id)
    plan, payments = await services.finance.plan_of(contract.id)
    employees = await services.staff.list_employees()
    return render(
        request,
        "contract.html",
        {
            "row": row,
            "client": client,
            "plan": plan,
            "payments": payments,
            "expenses": await services.finance.expenses_of(contract_id=contract.id),
            "hearings": await services.courts.hearings(contract_id=contract.id),
            "calls": await services.call_log.calls(client_id=client.id, limit=100),
            "notes": [
                n
                for n in await services.notes.of_client(client.id)
                if n.note.contract_id in {None, contract.id}
            ],
            "can_see_client": may(role, Action.view_client, owner_id=owner, employee_id=me),
            "can_plan": may(role, Action.plan_payment, owner_id=owner, employee_id=me),
            "can_take_payment": scope_of(role, Action.take_payment) is not None,
            "can_change_status": may(
                role, Action.change_contract_status, owner_id=owner, employee_id=me
            ),
            "can_schedule": may(role, Action.schedule_hearing, owner_id=owner, employee_id=me),
            "can_note": may(role, Action.add_note, owner_id=owner, employee_id=me),
            "can_set_reminder": all(
                may(role, action, owner_id=client_owner, employee_id=me)
                for action in (Action.view_client, Action.set_reminder)
            ),
            "representatives": [
                e for e in employees if e.role is Role.court_representative and e.is_active
            ],
            "statuses": list(ContractStatus),
            "period_default": services.reminders.rules.period_days,
        },
    )


async def set_call_period(request: web.Request) -> web.StreamResponse:
    """A contract's own call period for the reminders (its lawyer, or the director)."""
    contract = contract_for(request)
    form = await request.post()
    await request.app[SERVICES].contracts.set_call_period(
        contract.id, str(form.get("days", ""))[:10]
    )
    raise web.HTTPSeeOther(location=f"/contracts/{contract.id}")


async def change_status(request: web.Request) -> web.StreamResponse:
    """Complete, terminate or reopen a contract (its lawyer, or the director)."""
    contract = contract_for(request)
    form = await request.post()
    try:
        status = ContractStatus(str(form.get("status", "")))
    except ValueError:
        raise web.HTTPBadRequest(text=_("Неверный статус договора")) from None
    await request.app[SERVICES].contracts.set_status(contract.id, status)
    raise web.HTTPSeeOther(location=f"/contracts/{contract.id}")


async def plan_payment(request: web.Request) -> web.StreamResponse:
    """A lawyer adds an expected payment to the income plan of their contract."""
    client_id, contract_id = _contract_for(request)
    user = signed_in(request)
    form = await request.post()
    due_on = parse_date(str(form.get("due_on", "")))
    if due_on is None:
        raise web.HTTPBadRequest(text=_("Дата платежа не указана"))
    await request.app[SERVICES].finance.plan_payment(
        contract_id,
        due_on=due_on,
        amount=str(form.get("amount", ""))[:40],
        by_employee_id=user.employee.id,
    )
    raise web.HTTPSeeOther(location=back_to(request, f"/clients/{client_id}"))


async def take_payment(request: web.Request) -> web.StreamResponse:
    """The cashier records money received under a contract."""
    client_id, contract_id = _contract_for(request)
    user = signed_in(request)
    form = await request.post()
    await request.app[SERVICES].finance.receive_payment(
        contract_id, amount=str(form.get("amount", ""))[:40], cashier_id=user.employee.id
    )
    raise web.HTTPSeeOther(location=back_to(request, f"/clients/{client_id}"))
