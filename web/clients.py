"""The client card (minimal until the CRM workspaces land) and its "Call" button."""

from __future__ import annotations

from aiohttp import web

from crm.errors import NoSuchClient
from crm.events import ClickToCallRequested
from crm.models import Client
from crm.permissions import Action, Scope, may, scope_of
from crm.roles import Role
from web.access import authorise
from web.i18n import gettext as _
from web.keys import SERVICES, CurrentUser
from web.render import current_user, render

# Jobs whose client lists show their own clients only (crm.permissions: own scope).
OWN_CLIENTS_ONLY = frozenset(
    role for role in Role if scope_of(role, Action.view_client) is Scope.own
)


async def client_for(request: web.Request, action: Action) -> tuple[CurrentUser, Client]:
    """The client in the URL if this employee may do `action` on them; journaled either way."""
    try:
        client_id = int(request.match_info["client_id"])
        client = await request.app[SERVICES].clients.get_client(client_id)
    except (ValueError, NoSuchClient):
        raise web.HTTPNotFound(text=_("Клиент не найден")) from None
    user = await authorise(
        request,
        action,
        refusal=_("Нет доступа к этому клиенту"),
        owner_id=client.lawyer_id,
        object_type="client",
        object_id=client.id,
    )
    return user, client


async def client_card(request: web.Request) -> web.StreamResponse:
    user, client = await client_for(request, Action.view_client)
    return await client_card_page(request, user, client)


async def client_card_page(
    request: web.Request,
    user: CurrentUser,
    client: Client,
    *,
    form_error: str | None = None,
    form: dict[str, str] | None = None,
) -> web.Response:
    """The card; with `form_error`, the add-contract form comes back with its values."""
    services = request.app[SERVICES]
    contracts = await services.contracts.search(client_id=client.id)
    plans = {row.contract.id: await services.finance.plan_of(row.contract.id) for row in contracts}
    role, me = user.employee.role, user.employee.id
    return render(
        request,
        "client.html",
        {
            "client": client,
            "contracts": contracts,
            "plans": plans,
            "can_plan": {
                row.contract.id: may(
                    role, Action.plan_payment, owner_id=row.contract.lawyer_id, employee_id=me
                )
                for row in contracts
            },
            "can_take_payment": scope_of(role, Action.take_payment) is not None,
            "can_add_contract": may(
                user.employee.role,
                Action.add_contract,
                owner_id=client.lawyer_id,
                employee_id=user.employee.id,
            ),
            "form_error": form_error,
            "form": form or {"number": "", "amount": "", "essence": ""},
            "calling": request.query.get("calling") == "1",
            "can_call": bool(user.employee.sip_extension)
            and may(
                user.employee.role,
                Action.call_client,
                owner_id=client.lawyer_id,
                employee_id=user.employee.id,
            ),
        },
        status=400 if form_error else 200,
    )


async def call_client(request: web.Request) -> web.StreamResponse:
    user, client = await client_for(request, Action.call_client)
    if not user.employee.sip_extension:
        raise web.HTTPConflict(text=_("У вас нет рабочего телефона: звонок невозможен"))
    services = request.app[SERVICES]
    stored = await services.clicks.request(user.employee.id, client.id)
    services.bus.publish(ClickToCallRequested(stored.id))
    raise web.HTTPSeeOther(location=f"/clients/{client.id}?calling=1")


async def client_search(request: web.Request) -> web.StreamResponse:
    """Search by name (any case, ё as е) or code; lawyers search their own clients only."""
    user = current_user(request)
    assert user is not None
    scope = scope_of(user.employee.role, Action.view_client)
    if scope is None:
        raise web.HTTPForbidden(text=_("Нет доступа к клиентам"))
    query = request.query.get("q", "").strip()[:100]
    own = user.employee.id if scope is Scope.own else None
    results = (
        await request.app[SERVICES].clients.search_clients(query, lawyer_id=own) if query else []
    )
    return render(request, "clients.html", {"query": query, "results": results})
