"""The client card (minimal until the CRM workspaces land) and its "Call" button."""

from __future__ import annotations

from aiohttp import web

from crm.errors import NoSuchClient
from crm.events import ClickToCallRequested
from crm.models import Client
from crm.roles import Role
from web.keys import SERVICES, CurrentUser
from web.render import current_user, render

# Lawyers and court representatives work with their own clients only.
OWN_CLIENTS_ONLY = frozenset({Role.lawyer, Role.court_representative})


async def _client_for(request: web.Request) -> tuple[CurrentUser, Client]:
    user = current_user(request)
    assert user is not None
    try:
        client_id = int(request.match_info["client_id"])
        client = await request.app[SERVICES].clients.get_client(client_id)
    except (ValueError, NoSuchClient):
        raise web.HTTPNotFound(text="Клиент не найден") from None
    if user.employee.role in OWN_CLIENTS_ONLY and client.lawyer_id != user.employee.id:
        raise web.HTTPForbidden(text="Это клиент другого сотрудника")
    return user, client


async def client_card(request: web.Request) -> web.StreamResponse:
    user, client = await _client_for(request)
    return render(
        request,
        "client.html",
        {
            "client": client,
            "calling": request.query.get("calling") == "1",
            "can_call": bool(user.employee.sip_extension),
        },
    )


async def call_client(request: web.Request) -> web.StreamResponse:
    user, client = await _client_for(request)
    if not user.employee.sip_extension:
        raise web.HTTPConflict(text="У вас нет рабочего телефона: звонок невозможен")
    services = request.app[SERVICES]
    stored = await services.clicks.request(user.employee.id, client.id)
    services.bus.publish(ClickToCallRequested(stored.id))
    raise web.HTTPSeeOther(location=f"/clients/{client.id}?calling=1")
