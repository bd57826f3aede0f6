"""Contracts: the list with the seed's filters, and adding one from the client card."""

from __future__ import annotations

from datetime import date, datetime

from aiohttp import web

from crm.contracts import ContractRow
from crm.errors import CrmError
from crm.permissions import Action, Scope, scope_of
from web.access import authorise
from web.clients import client_card_page, client_for
from web.i18n import gettext as _
from web.keys import SERVICES
from web.render import current_user, render


def parse_date(text: str) -> date | None:
    """27.11.2026 (or 2026-11-27, as a date input sends it); empty means no date."""
    text = text.strip()
    if not text:
        return None
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise web.HTTPBadRequest(text=_("Дата %(date)r: ожидается ДД.ММ.ГГГГ") % {"date": text[:20]})


async def contract_list(request: web.Request) -> web.StreamResponse:
    """All contracts, by period, by lawyer, by any part of the number (own ones for lawyers)."""
    user = await authorise(request, Action.view_contracts, refusal=_("Нет доступа к договорам"))
    services = request.app[SERVICES]
    scope = scope_of(user.employee.role, Action.view_contracts)
    query = request.query
    lawyer_id: int | None = None
    if scope is Scope.own:
        lawyer_id = user.employee.id
    elif query.get("lawyer"):
        try:
            lawyer_id = int(query["lawyer"])
        except ValueError:
            raise web.HTTPBadRequest(text=_("Неверный юрист в фильтре")) from None
    rows: list[ContractRow] = await services.contracts.search(
        number_part=query.get("number", "")[:50],
        lawyer_id=lawyer_id,
        signed_from=parse_date(query.get("from", "")),
        signed_to=parse_date(query.get("to", "")),
    )
    lawyers = [e for e in await services.employees.list_employees() if e.role.value == "lawyer"]
    return render(
        request,
        "contracts.html",
        {
            "rows": rows,
            "total": sum(row.contract.amount_kopecks for row in rows),
            "query": query,
            "lawyers": lawyers if scope is not Scope.own else [],
            "selected_lawyer": lawyer_id,
        },
    )


async def add_contract(request: web.Request) -> web.StreamResponse:
    user, client = await client_for(request, Action.view_client)
    services = request.app[SERVICES]
    await authorise(
        request,
        Action.add_contract,
        refusal=_("Договор заключает юрист клиента"),
        owner_id=client.lawyer_id,
        object_type="client",
        object_id=client.id,
    )
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
        return await client_card_page(request, user, client, form_error=error.message, form=values)
    raise web.HTTPSeeOther(location=f"/clients/{client.id}")


async def _contract_for(request: web.Request, action: Action) -> tuple[int, int]:
    """(client id, contract id) if this employee may do `action` on the contract; journaled."""
    try:
        contract = await request.app[SERVICES].contracts.get(int(request.match_info["contract_id"]))
    except ValueError:
        contract = None
    if contract is None:
        raise web.HTTPNotFound(text=_("Договор не найден"))
    await authorise(
        request,
        action,
        refusal=_("Нет права на это действие с договором"),
        owner_id=contract.lawyer_id,
        object_type="contract",
        object_id=contract.id,
    )
    return contract.client_id, contract.id


async def plan_payment(request: web.Request) -> web.StreamResponse:
    """A lawyer adds an expected payment to the income plan of their contract."""
    client_id, contract_id = await _contract_for(request, Action.plan_payment)
    user = current_user(request)
    assert user is not None
    form = await request.post()
    try:
        due_on = parse_date(str(form.get("due_on", "")))
        if due_on is None:
            raise web.HTTPBadRequest(text=_("Дата платежа не указана"))
        await request.app[SERVICES].finance.plan_payment(
            contract_id,
            due_on=due_on,
            amount=str(form.get("amount", ""))[:40],
            by_employee_id=user.employee.id,
        )
    except CrmError as error:
        raise web.HTTPBadRequest(text=error.message) from None
    raise web.HTTPSeeOther(location=f"/clients/{client_id}")


async def take_payment(request: web.Request) -> web.StreamResponse:
    """The cashier records money received under a contract."""
    client_id, contract_id = await _contract_for(request, Action.take_payment)
    user = current_user(request)
    assert user is not None
    form = await request.post()
    try:
        await request.app[SERVICES].finance.receive_payment(
            contract_id, amount=str(form.get("amount", ""))[:40], cashier_id=user.employee.id
        )
    except CrmError as error:
        raise web.HTTPBadRequest(text=error.message) from None
    raise web.HTTPSeeOther(location=f"/clients/{client_id}")
