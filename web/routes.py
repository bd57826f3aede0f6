"""The route table: every path's handler, rights, object and tab, read by all that needs them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from crm.clients.errors import NoSuchClient
from crm.core.permissions import Action, scope_of
from crm.staff.models import Employee
from web import (
    auth,
    callbacks,
    calls,
    clients,
    contracts,
    conversations,
    courts,
    finance,
    health,
    journal,
    language,
    live,
    reminders,
    reports,
    staff,
    visits,
    workspace,
)
from web.access import Check, Route, Target, owner_of
from web.i18n import N_
from web.keys import SERVICES


@dataclass(frozen=True)
class Tab:
    path: str
    title: str  # a msgid; the template translates it
    action: Action | None  # None: every employee


# --- how targets are found, and whose they are ----------------------------------------


async def _client(request: web.Request, client_id: int) -> Any:
    try:
        return await request.app[SERVICES].clients.get_client(client_id)
    except NoSuchClient:
        return None


async def _contract(request: web.Request, contract_id: int) -> Any:
    return await request.app[SERVICES].contracts.get(contract_id)


async def _call(request: web.Request, call_id: int) -> Any:
    return await request.app[SERVICES].call_log.get(call_id)


async def _recorded_call(request: web.Request, call_id: int) -> Any:
    return await request.app[SERVICES].conversation_search.recording_card(call_id)


async def _visit(request: web.Request, visit_id: int) -> Any:
    return await request.app[SERVICES].visits.get(visit_id)


async def _hearing(request: web.Request, hearing_id: int) -> Any:
    return await request.app[SERVICES].courts.get(hearing_id)


async def _lawyer_with_finances(request: web.Request, lawyer_id: int) -> Any:
    rows = await request.app[SERVICES].finance.lawyer_finances(lawyer_id)
    return rows[0] if rows else None


async def _id_only(request: web.Request, object_id: int) -> Any:
    return object_id


CLIENT = Target("client", "client_id", _client, N_("Клиент не найден"))
CONTRACT = Target("contract", "contract_id", _contract, N_("Договор не найден"), N_("Договор"))
CALL = Target("call", "call_id", _call, N_("Звонок не найден"), N_("Звонок"))
RECORDED_CALL = Target("call", "call_id", _recorded_call, N_("Звонок не найден"))
VISIT = Target("visit", "visit_id", _visit, N_("Визит не найден"), N_("Визит"))
HEARING = Target("hearing", "hearing_id", _hearing, N_("Заседание не найдено"), N_("Заседание"))
LAWYER = Target("lawyer", "lawyer_id", _lawyer_with_finances, N_("Юрист не найден"), N_("Юрист"))
LAWYER_ID = Target("lawyer", "lawyer_id", _id_only, N_("Юрист не найден"), N_("Юрист"))
EMPLOYEE_ID = Target(
    "employee", "employee_id", _id_only, N_("Сотрудник не найден"), N_("Сотрудник")
)


async def client_keeper(request: web.Request, client: Any) -> int | None:
    """The client's lawyer, or the representative who has a hearing in one of their cases."""
    return await owner_of(request, lawyer_id=client.lawyer_id, client_id=client.id)


async def contract_keeper(request: web.Request, contract: Any) -> int | None:
    return await owner_of(request, lawyer_id=contract.lawyer_id, client_id=contract.client_id)


async def client_lawyer(request: web.Request, client: Any) -> int | None:
    return int(client.lawyer_id) if client.lawyer_id is not None else None


async def call_employee(request: web.Request, call: Any) -> int | None:
    return int(call.employee_id) if call.employee_id is not None else None


async def recorded_call_employee(request: web.Request, view: Any) -> int | None:
    return await call_employee(request, view.call)


async def visit_lawyer(request: web.Request, visit: Any) -> int | None:
    return int(visit.lawyer_id) if visit.lawyer_id is not None else None


async def hearing_representative(request: web.Request, hearing: Any) -> int | None:
    return int(hearing.representative_id)


async def the_lawyer(request: web.Request, lawyer: Any) -> int | None:
    return int(request.match_info["lawyer_id"])


# Refusals shared by several routes.
CLIENT_REFUSAL = N_("Нет доступа к этому клиенту")
CONTRACT_REFUSAL = N_("Нет права на это действие с договором")
STAFF_REFUSAL = N_("Сотрудниками управляет администратор")
NEW_CLIENT_REFUSAL = N_("Нет права вносить клиентов")
CHECK_IN_REFUSAL = N_("Отмечать приход клиентов может ресепшин")


def on_client(action: Action, refusal: str = CLIENT_REFUSAL) -> tuple[Check, ...]:
    """A right over the client of the path, who must be one the employee may see."""
    see = Check(Action.view_client, CLIENT_REFUSAL, client_keeper)
    if action is Action.view_client:
        return (see,)
    return (see, Check(action, refusal, client_lawyer))


def on_contract(action: Action) -> tuple[Check, ...]:
    return (Check(action, CONTRACT_REFUSAL, contract_keeper),)


def anyone(action: Action, refusal: str) -> tuple[Check, ...]:
    """A right decided on the job alone (a list, a page of the whole firm)."""
    return (Check(action, refusal),)


def route(
    method: str,
    path: str,
    handler: Handler,
    name: str,
    checks: Sequence[Check] = (),
    target: Target | None = None,
    **options: Any,
) -> Route:
    return Route(method, path, handler, name, tuple(checks), target, **options)


ROUTES: tuple[Route, ...] = (
    route("GET", "/", workspace.home, "home"),
    route("GET", "/login", auth.login_form, "login", public=True),
    route("POST", "/login", auth.login_submit, "login-submit", public=True),
    route("POST", "/logout", auth.logout, "logout"),
    # The language switch works on the login page too.
    route("POST", "/lang", language.choose_language, "lang", public=True),
    route("GET", "/healthz", health.healthz, "healthz", public=True),
    route("GET", "/ws", live.websocket, "live"),
    route(
        "GET",
        "/callbacks",
        callbacks.callbacks,
        "callbacks",
        anyone(Action.view_callbacks, N_("Список перезвонов — для колл-центра и руководителя")),
    ),
    route(
        "GET",
        "/clients",
        clients.client_search,
        "clients",
        anyone(Action.view_client, N_("Нет доступа к клиентам")),
    ),
    # Before /clients/{client_id}: routes match in the order they are added.
    route(
        "GET",
        "/clients/new",
        clients.new_client_form,
        "client-new",
        anyone(Action.book_visit, NEW_CLIENT_REFUSAL),
    ),
    route(
        "GET",
        "/clients/{client_id}",
        clients.client_card,
        "client",
        on_client(Action.view_client),
        CLIENT,
    ),
    route(
        "GET",
        "/journal",
        journal.journal,
        "journal",
        anyone(Action.view_journal, N_("Журнал доступен руководству и администратору")),
    ),
    route(
        "GET",
        "/contracts",
        contracts.contract_list,
        "contracts",
        anyone(Action.view_contracts, N_("Нет доступа к договорам")),
    ),
    route(
        "POST",
        "/clients/{client_id}/contracts",
        contracts.add_contract,
        "client-contracts",
        on_client(Action.add_contract, N_("Договор заключает юрист клиента")),
        CLIENT,
    ),
    route(
        "POST",
        "/contracts/{contract_id}/plan",
        contracts.plan_payment,
        "plan",
        on_contract(Action.plan_payment),
        CONTRACT,
    ),
    route(
        "POST",
        "/contracts/{contract_id}/payments",
        contracts.take_payment,
        "payments",
        on_contract(Action.take_payment),
        CONTRACT,
    ),
    route(
        "POST",
        "/clients/{client_id}/call",
        clients.call_client,
        "client-call",
        (Check(Action.call_client, CLIENT_REFUSAL, client_keeper),),
        CLIENT,
    ),
    route(
        "POST",
        "/clients",
        clients.add_client,
        "client-add",
        anyone(Action.book_visit, NEW_CLIENT_REFUSAL),
    ),
    route(
        "POST",
        "/clients/{client_id}/details",
        clients.update_details,
        "client-details",
        (Check(Action.add_note, CLIENT_REFUSAL, client_keeper),),
        CLIENT,
    ),
    route(
        "POST",
        "/clients/{client_id}/notes",
        clients.add_note,
        "client-notes",
        (Check(Action.add_note, CLIENT_REFUSAL, client_keeper),),
        CLIENT,
    ),
    route(
        "POST",
        "/clients/{client_id}/visits",
        visits.book_visit,
        "client-visits",
        on_client(Action.book_visit, N_("Нет права записывать клиентов на визит")),
        CLIENT,
    ),
    route(
        "POST",
        "/clients/{client_id}/walk-in",
        visits.walk_in,
        "client-walkin",
        (
            Check(Action.view_client, CLIENT_REFUSAL, client_keeper),
            Check(Action.check_in_visit, CHECK_IN_REFUSAL),
        ),
        CLIENT,
    ),
    route(
        "GET",
        "/contracts/{contract_id}",
        contracts.contract_card,
        "contract",
        on_contract(Action.view_contracts),
        CONTRACT,
    ),
    route(
        "POST",
        "/contracts/{contract_id}/status",
        contracts.change_status,
        "contract-status",
        on_contract(Action.change_contract_status),
        CONTRACT,
    ),
    route(
        "POST",
        "/contracts/{contract_id}/call-period",
        contracts.set_call_period,
        "contract-call-period",
        on_contract(Action.change_contract_status),
        CONTRACT,
    ),
    route(
        "POST",
        "/contracts/{contract_id}/hearings",
        courts.schedule_hearing,
        "hearings-add",
        on_contract(Action.schedule_hearing),
        CONTRACT,
    ),
    route("GET", "/reminders", reminders.reminder_list, "reminders"),
    route("POST", "/reminders/due", reminders.due_reminder, "reminder-due"),
    route("POST", "/reminders/{reminder_id}/dismiss", reminders.dismiss, "reminder-dismiss"),
    route(
        "POST",
        "/clients/{client_id}/reminders",
        reminders.add_reminder,
        "reminder-add",
        (
            Check(Action.view_client, CLIENT_REFUSAL, client_keeper),
            Check(
                Action.set_reminder,
                N_("Нет права ставить напоминания по этому клиенту"),
                client_keeper,
            ),
        ),
        CLIENT,
    ),
    route(
        "GET",
        "/visits",
        visits.visit_list,
        "visits",
        anyone(Action.view_visits, N_("Нет доступа к визитам")),
    ),
    route(
        "POST",
        "/visits/{visit_id}/check-in",
        visits.check_in,
        "visit-arrival",
        (Check(Action.check_in_visit, CHECK_IN_REFUSAL, visit_lawyer),),
        VISIT,
    ),
    route(
        "POST",
        "/visits/{visit_id}/outcome",
        visits.close_visit,
        "visit-outcome",
        (
            Check(
                Action.close_visit,
                N_("Итог визита записывает юрист, который вёл встречу"),
                visit_lawyer,
            ),
        ),
        VISIT,
    ),
    route(
        "GET",
        "/calls",
        calls.call_list,
        "calls",
        anyone(Action.view_calls, N_("Нет доступа к звонкам")),
    ),
    route(
        "POST",
        "/calls/{call_id}/comment",
        calls.comment_call,
        "call-comment",
        (
            Check(
                Action.comment_call,
                N_("Комментарий к звонку пишет сотрудник, который говорил"),
                call_employee,
            ),
        ),
        CALL,
    ),
    route(
        "GET",
        "/courts",
        courts.hearing_list,
        "courts",
        anyone(Action.view_hearings, N_("Нет доступа к заседаниям")),
    ),
    route(
        "POST",
        "/hearings/{hearing_id}/result",
        courts.record_result,
        "hearing-result",
        (
            Check(
                Action.record_hearing_result,
                N_("Результат записывает защитник, который был на заседании"),
                hearing_representative,
            ),
        ),
        HEARING,
    ),
    route(
        "GET",
        "/finance",
        finance.finance,
        "finance",
        anyone(Action.view_finance, N_("Нет доступа к финансам")),
    ),
    route(
        "POST",
        "/finance/expenses",
        finance.record_expense,
        "expenses",
        anyone(Action.record_expense, N_("Расходы записывает кассир")),
    ),
    route(
        "GET",
        "/lawyers",
        finance.lawyer_list,
        "lawyers",
        anyone(Action.view_lawyers, N_("Нет доступа к юристам")),
    ),
    route(
        "GET",
        "/lawyers/{lawyer_id}",
        finance.lawyer_card,
        "lawyer",
        (Check(Action.view_lawyers, N_("Нет доступа к финансам этого юриста"), the_lawyer),),
        LAWYER,
    ),
    route(
        "POST",
        "/lawyers/{lawyer_id}/payouts",
        finance.pay_out,
        "payouts",
        (Check(Action.pay_out, N_("Выплаты делает кассир"), the_lawyer),),
        LAWYER_ID,
    ),
    route(
        "GET",
        "/plan",
        finance.income_plan,
        "income-plan",
        anyone(Action.view_plan, N_("Нет доступа к плану поступлений")),
    ),
    route("GET", "/staff", staff.staff, "staff", anyone(Action.manage_staff, STAFF_REFUSAL)),
    route(
        "POST",
        "/staff",
        staff.add_employee,
        "staff-add",
        anyone(Action.manage_staff, STAFF_REFUSAL),
    ),
    route(
        "POST",
        "/staff/classes",
        staff.add_lawyer_class,
        "lawyer-classes",
        anyone(Action.manage_staff, STAFF_REFUSAL),
    ),
    route(
        "POST",
        "/staff/{employee_id}",
        staff.update_employee,
        "staff-update",
        anyone(Action.manage_staff, STAFF_REFUSAL),
        EMPLOYEE_ID,
    ),
    route(
        "POST",
        "/staff/{employee_id}/deactivate",
        staff.deactivate_employee,
        "staff-deactivate",
        anyone(Action.manage_staff, STAFF_REFUSAL),
        EMPLOYEE_ID,
    ),
    route(
        "GET",
        "/recordings/{call_id}",
        conversations.recording_card,
        "recording",
        (
            Check(
                Action.view_transcript,
                N_("Расшифровка доступна руководству и сотруднику, который вёл разговор"),
                recorded_call_employee,
            ),
        ),
        RECORDED_CALL,
    ),
    route(
        "GET",
        "/recordings/{call_id}/audio",
        conversations.recording_audio,
        "recording-audio",
        (
            Check(
                Action.listen_recording,
                N_("Запись доступна руководству и сотруднику, который вёл разговор"),
                recorded_call_employee,
            ),
        ),
        RECORDED_CALL,
        journal_allowed=False,
    ),
    route(
        "GET",
        "/recordings/{call_id}/export",
        conversations.evidence_export,
        "recording-export",
        (
            Check(
                Action.export_recording,
                N_("Выгрузка записей для споров доступна только руководителю"),
                recorded_call_employee,
            ),
        ),
        RECORDED_CALL,
    ),
    route(
        "GET",
        "/transcripts/search",
        conversations.transcript_search,
        "transcripts",
        anyone(Action.search_transcripts, N_("Поиск по разговорам недоступен для вашей должности")),
    ),
    route(
        "GET",
        "/listening-queue",
        conversations.listening_queue,
        "listening-queue",
        anyone(Action.view_listening_queue, N_("Очередь прослушивания доступна руководителям")),
    ),
    route(
        "GET",
        "/call-statistics",
        conversations.call_statistics,
        "call-statistics",
        anyone(Action.view_call_statistics, N_("Статистика звонков доступна руководителям")),
    ),
    route(
        "GET",
        "/reports",
        reports.reports_page,
        "reports",
        anyone(Action.view_statistics, N_("Нет доступа к статистике")),
        journal_as="report",
    ),
    route(
        "GET",
        "/reports/export",
        reports.export_report,
        "reports-export",
        anyone(Action.export_reports, N_("Нет права выгружать отчёты")),
        journal_as="report",
    ),
)
BY_NAME = {entry.name: entry for entry in ROUTES}

# The tabs, in the order the navigation shows them: a route by name (and the query that
# picks its tab); the right is the route's.
_TABS: tuple[tuple[str, str, str], ...] = (
    ("home", "", N_("Рабочее место")),
    ("clients", "", N_("Клиенты")),
    ("contracts", "", N_("Договоры")),
    ("visits", "", N_("Визиты")),
    ("calls", "?direction=inbound", N_("Звонки КЦ")),
    ("calls", "?direction=outbound", N_("Исходящие")),
    ("callbacks", "", N_("Перезвонить")),
    ("finance", "", N_("Расходы и поступления")),
    ("lawyers", "", N_("Юристы")),
    ("income-plan", "", N_("План поступлений")),
    ("courts", "", N_("Суды")),
    ("reports", "", N_("Статистика")),
    ("call-statistics", "", N_("Статистика звонков")),
    ("listening-queue", "", N_("Прослушать")),
    ("transcripts", "", N_("Поиск по разговорам")),
    ("reminders", "", N_("Напоминания")),
    ("journal", "", N_("Журнал")),
    ("staff", "", N_("Сотрудники")),
)
TABS = tuple(
    Tab(BY_NAME[name].path + query, title, BY_NAME[name].action) for name, query, title in _TABS
)


def tabs_of(employee: Employee | None) -> list[Tab]:
    """The tabs this employee's job may open (the permission table decides)."""
    if employee is None:
        return []
    return [
        tab for tab in TABS if tab.action is None or scope_of(employee.role, tab.action) is not None
    ]


def add_routes(app: web.Application, routes: Sequence[Route] = ROUTES) -> None:
    app.add_routes(
        [web.route(entry.method, entry.path, entry.handler, name=entry.name) for entry in routes]
    )
