"""Pages that are not about logging in: the workspace start page and the health check."""

from __future__ import annotations

from aiohttp import web

from crm.permissions import Action, scope_of
from web.clients import OWN_CLIENTS_ONLY
from web.keys import SERVICES
from web.render import current_user, render


async def home(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    assert user is not None  # the session middleware sends anonymous requests to /login
    services = request.app[SERVICES]
    own_only = user.employee.role in OWN_CLIENTS_ONLY
    clients = await services.clients.list_clients(
        lawyer_id=user.employee.id if own_only else None, limit=20
    )
    return render(
        request,
        "home.html",
        {
            "role_title": user.employee.role.title_ru,
            "clients": clients,
            "own_only": own_only,
            "can_see_callbacks": scope_of(user.employee.role, Action.view_callbacks) is not None,
            "can_see_journal": scope_of(user.employee.role, Action.view_journal) is not None,
            "can_see_contracts": scope_of(user.employee.role, Action.view_contracts) is not None,
        },
    )


async def healthz(request: web.Request) -> web.StreamResponse:
    """200 when the web side and (if it runs here) the link to Asterisk are up, else 503."""
    telephony = request.app[SERVICES].telephony_health()
    healthy = telephony.get("asterisk", "connected") == "connected"
    body = {"status": "ok" if healthy else "degraded", **telephony}
    return web.json_response(body, status=200 if healthy else 503)
