"""The health check: is the web side up, and (if it runs here) the link to Asterisk."""

from __future__ import annotations

from aiohttp import web

from web.keys import TELEPHONY_HEALTH


async def healthz(request: web.Request) -> web.StreamResponse:
    """200 when the web side and (if it runs here) the link to Asterisk are up, else 503."""
    telephony = request.app[TELEPHONY_HEALTH]()
    healthy = telephony.get("asterisk", "connected") == "connected"
    body = {"status": "ok" if healthy else "degraded", **telephony}
    return web.json_response(body, status=200 if healthy else 503)
