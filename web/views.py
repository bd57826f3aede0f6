"""Pages that are not about logging in: the workspace start page and the health check."""

from __future__ import annotations

from aiohttp import web

from web.render import current_user, render


async def home(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    assert user is not None  # the session middleware sends anonymous requests to /login
    return render(request, "home.html", {"role_title": user.employee.role.title_ru})


async def healthz(request: web.Request) -> web.StreamResponse:
    return web.json_response({"status": "ok"})
