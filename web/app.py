"""Builds the aiohttp application: routes, templates and middlewares."""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from crm.core.formatting import format_date, format_datetime, format_money, format_time
from web import access, auth, errors, i18n, live, reminders, routes
from web.keys import (
    CONFIG,
    PUBLIC_ROUTES,
    SERVICES,
    TELEPHONY_HEALTH,
    TEMPLATES,
    TelephonyHealth,
    WebConfig,
    WebServices,
)

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def create_app(
    config: WebConfig, services: WebServices, *, telephony_health: TelephonyHealth = dict
) -> web.Application:
    """The application, ready for a runner or a test client; `telephony_health` tells the
    state of the link to Asterisk where a controller runs in this process."""
    app = web.Application(
        middlewares=[
            # Outermost, so that the session and CSRF refusals speak the request's language.
            i18n.language_middleware(i18n.load_catalogues()),
            # Inside the language middleware, so the page speaks the request's language.
            errors.error_page_middleware,
            auth.session_middleware,
            auth.csrf_middleware,
            # After the session: the rights are the signed-in employee's.
            access.rights_middleware(routes.BY_NAME),
        ]
    )
    app[CONFIG] = config
    app[PUBLIC_ROUTES] = frozenset(
        {entry.name for entry in routes.ROUTES if entry.public} | {"static"}
    )
    app[SERVICES] = services
    app[TELEPHONY_HEALTH] = telephony_health
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    i18n.install(templates)
    templates.filters["date_ru"] = format_date
    templates.filters["money"] = format_money
    templates.filters["time_ru"] = format_time
    templates.filters["datetime_ru"] = format_datetime
    templates.globals["nav_tabs"] = routes.tabs_of
    app[TEMPLATES] = templates
    app.cleanup_ctx.append(live.live_hub_ctx)
    # After the hub: it tells browsers to look at their reminders again.
    app.cleanup_ctx.append(reminders.reminder_ctx)
    routes.add_routes(app)
    app.router.add_static("/static", STATIC_DIR, name="static")
    return app
