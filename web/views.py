"""Pages that are not about logging in: the workspace start page and the health check."""

from __future__ import annotations

from aiohttp import web

from web.keys import SERVICES
from web.render import current_user, render


async def home(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    assert user is not None  # the session middleware sends anonymous requests to /login
    return render(request, "home.html", {"role_title": user.employee.role.title_ru})


async def healthz(request: web.Request) -> web.StreamResponse:
    """200 when the web side and (if it runs here) the link to Asterisk are up, else 503."""
    telephony = request.app[SERVICES].telephony_health()
    healthy = telephony.get("asterisk", "connected") == "connected"
    body = {"status": "ok" if healthy else "degraded", **telephony}
    return web.json_response(body, status=200 if healthy else 503)
