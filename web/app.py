"""Builds the aiohttp application: routes, templates and middlewares."""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from crm.formatting import format_date, format_money
from web import auth, callbacks, clients, contracts, i18n, journal, language, live, views
from web.keys import CONFIG, SERVICES, TEMPLATES, WebConfig, WebServices

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def create_app(config: WebConfig, services: WebServices) -> web.Application:
    """The application, ready for a runner or a test client."""
    app = web.Application(
        middlewares=[
            # Outermost, so that the session and CSRF refusals speak the request's language.
            i18n.language_middleware(i18n.load_catalogues()),
            auth.session_middleware,
            auth.csrf_middleware,
        ]
    )
    app[CONFIG] = config
    app[SERVICES] = services
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    i18n.install(templates)
    templates.filters["date_ru"] = format_date
    templates.filters["money"] = format_money
    app[TEMPLATES] = templates
    app.cleanup_ctx.append(live.live_hub_ctx)
    app.add_routes(
        [
            web.get("/", views.home, name="home"),
            web.get("/login", auth.login_form, name="login"),
            web.post("/login", auth.login_submit, name="login-submit"),
            web.post("/logout", auth.logout, name="logout"),
            web.post("/lang", language.choose_language, name="lang"),
            web.get("/healthz", views.healthz, name="healthz"),
            web.get("/ws", live.websocket, name="live"),
            web.get("/callbacks", callbacks.callbacks, name="callbacks"),
            web.get("/clients", clients.client_search, name="clients"),
            web.get("/clients/{client_id}", clients.client_card, name="client"),
            web.get("/journal", journal.journal, name="journal"),
            web.get("/contracts", contracts.contract_list, name="contracts"),
            web.post(
                "/clients/{client_id}/contracts", contracts.add_contract, name="client-contracts"
            ),
            web.post("/contracts/{contract_id}/plan", contracts.plan_payment, name="plan"),
            web.post("/contracts/{contract_id}/payments", contracts.take_payment, name="payments"),
            web.post("/clients/{client_id}/call", clients.call_client, name="client-call"),
            web.static("/static", STATIC_DIR, name="static"),
        ]
    )
    return app
