"""Builds the aiohttp application: routes, templates and middlewares."""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from crm.core.formatting import format_date, format_datetime, format_money, format_time
from web import (
    auth,
    callbacks,
    calls,
    clients,
    contracts,
    conversations,
    courts,
    errors,
    finance,
    health,
    i18n,
    journal,
    language,
    live,
    reminders,
    reports,
    staff,
    visits,
    workspace,
)
from web.keys import (
    CONFIG,
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
        ]
    )
    app[CONFIG] = config
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
    templates.globals["nav_tabs"] = workspace.tabs_of
    app[TEMPLATES] = templates
    app.cleanup_ctx.append(live.live_hub_ctx)
    # After the hub: it tells browsers to look at their reminders again.
    app.cleanup_ctx.append(reminders.reminder_ctx)
    app.add_routes(
        [
            web.get("/", workspace.home, name="home"),
            web.get("/login", auth.login_form, name="login"),
            web.post("/login", auth.login_submit, name="login-submit"),
            web.post("/logout", auth.logout, name="logout"),
            web.post("/lang", language.choose_language, name="lang"),
            web.get("/healthz", health.healthz, name="healthz"),
            web.get("/ws", live.websocket, name="live"),
            web.get("/callbacks", callbacks.callbacks, name="callbacks"),
            web.get("/clients", clients.client_search, name="clients"),
            # Before /clients/{client_id}: routes match in the order they are added.
            web.get("/clients/new", clients.new_client_form, name="client-new"),
            web.get("/clients/{client_id}", clients.client_card, name="client"),
            web.get("/journal", journal.journal, name="journal"),
            web.get("/contracts", contracts.contract_list, name="contracts"),
            web.post(
                "/clients/{client_id}/contracts", contracts.add_contract, name="client-contracts"
            ),
            web.post("/contracts/{contract_id}/plan", contracts.plan_payment, name="plan"),
            web.post("/contracts/{contract_id}/payments", contracts.take_payment, name="payments"),
            web.post("/clients/{client_id}/call", clients.call_client, name="client-call"),
            web.post("/clients", clients.add_client, name="client-add"),
            web.post("/clients/{client_id}/details", clients.update_details, name="client-details"),
            web.post("/clients/{client_id}/notes", clients.add_note, name="client-notes"),
            web.post("/clients/{client_id}/visits", visits.book_visit, name="client-visits"),
            web.post("/clients/{client_id}/walk-in", visits.walk_in, name="client-walkin"),
            web.get("/contracts/{contract_id}", contracts.contract_card, name="contract"),
            web.post(
                "/contracts/{contract_id}/status", contracts.change_status, name="contract-status"
            ),
            web.post(
                "/contracts/{contract_id}/call-period",
                contracts.set_call_period,
                name="contract-call-period",
            ),
            web.post(
                "/contracts/{contract_id}/hearings", courts.schedule_hearing, name="hearings-add"
            ),
            web.get("/reminders", reminders.reminder_list, name="reminders"),
            web.post("/reminders/due", reminders.due_reminder, name="reminder-due"),
            web.post(
                "/reminders/{reminder_id}/dismiss", reminders.dismiss, name="reminder-dismiss"
            ),
            web.post("/clients/{client_id}/reminders", reminders.add_reminder, name="reminder-add"),
            web.get("/visits", visits.visit_list, name="visits"),
            web.post("/visits/{visit_id}/check-in", visits.check_in, name="visit-arrival"),
            web.post("/visits/{visit_id}/outcome", visits.close_visit, name="visit-outcome"),
            web.get("/calls", calls.call_list, name="calls"),
            web.post("/calls/{call_id}/comment", calls.comment_call, name="call-comment"),
            web.get("/courts", courts.hearing_list, name="courts"),
            web.post("/hearings/{hearing_id}/result", courts.record_result, name="hearing-result"),
            web.get("/finance", finance.finance, name="finance"),
            web.post("/finance/expenses", finance.record_expense, name="expenses"),
            web.get("/lawyers", finance.lawyer_list, name="lawyers"),
            web.get("/lawyers/{lawyer_id}", finance.lawyer_card, name="lawyer"),
            web.post("/lawyers/{lawyer_id}/payouts", finance.pay_out, name="payouts"),
            web.get("/plan", finance.income_plan, name="income-plan"),
            web.get("/staff", staff.staff, name="staff"),
            web.post("/staff", staff.add_employee, name="staff-add"),
            web.post("/staff/classes", staff.add_lawyer_class, name="lawyer-classes"),
            web.post("/staff/{employee_id}", staff.update_employee, name="staff-update"),
            web.post(
                "/staff/{employee_id}/deactivate",
                staff.deactivate_employee,
                name="staff-deactivate",
            ),
            web.get("/recordings/{call_id}", conversations.recording_card, name="recording"),
            web.get(
                "/recordings/{call_id}/audio", conversations.recording_audio, name="recording-audio"
            ),
            web.get(
                "/recordings/{call_id}/export",
                conversations.evidence_export,
                name="recording-export",
            ),
            web.get("/transcripts/search", conversations.transcript_search, name="transcripts"),
            web.get("/listening-queue", conversations.listening_queue, name="listening-queue"),
            web.get("/call-statistics", conversations.call_statistics, name="call-statistics"),
            web.get("/reports", reports.reports_page, name="reports"),
            web.get("/reports/export", reports.export_report, name="reports-export"),
            web.static("/static", STATIC_DIR, name="static"),
        ]
    )
    return app
