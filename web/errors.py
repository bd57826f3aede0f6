"""Refusals and domain errors as pages of the site, in the page's language, with their status."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from crm.core.errors import CrmError
from web.i18n import gettext as _
from web.render import render

# Statuses whose text handlers write for people: bad input, no right, nothing there, clash.
SHOWN_STATUSES = frozenset({400, 403, 404, 409})


@web.middleware
async def error_page_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A browser that navigated gets the error inside the site's layout, with the same
    status; scripts asking for JSON and the websocket get the plain text as before."""
    try:
        return await handler(request)
    except CrmError as error:
        # A handler that shows its form again catches the error itself; any other comes
        # here, with the status its class gives it (a missing contract is a 404).
        if error.http_status not in SHOWN_STATUSES:
            raise
        if not _wants_a_page(request):
            return web.Response(status=error.http_status, text=error_text(error))
        return _error_page(request, error.http_status, error_text(error))
    except web.HTTPException as error:
        if error.status not in SHOWN_STATUSES or not _wants_a_page(request):
            raise
        message = error.text or ""
        if message.startswith(f"{error.status}: "):
            message = _("Страница не найдена") if error.status == 404 else error.reason
        return _error_page(request, error.status, message)


def error_text(error: CrmError) -> str:
    """The domain's message in the request's language, its values in place (a form field's
    name translated too)."""
    values = {
        name: _(value) if name == "field" and isinstance(value, str) else value
        for name, value in error.params.items()
    }
    template = _(error.template)
    return template % values if values else template


def _error_page(request: web.Request, status: int, message: str) -> web.Response:
    return render(
        request,
        "error.html",
        {"message": message, "status": status, "back": _same_site_referer(request)},
        status=status,
    )


def _wants_a_page(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and request.path != "/ws"


def _same_site_referer(request: web.Request) -> str:
    """Where "Назад" leads: the page the person came from, if it is one of ours."""
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc == request.host and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"
