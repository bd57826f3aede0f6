"""Each job's start page: what that job needs first thing, and the tabs it may open."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from crm.calls.events import CallDirection
from crm.core.permissions import Action, Ownership, Scope, own_as, scope_of
from crm.core.roles import Role
from crm.finance.services import PlanStatus
from crm.staff.models import Employee
from web.access import signed_in
from web.filters import firm_today
from web.keys import SERVICES, WebServices
from web.render import render


async def home(request: web.Request) -> web.StreamResponse:
    user = signed_in(request)
    services = request.app[SERVICES]
    me = user.employee
    panels = await _panels(services, me)
    return render(request, "home.html", {"role_title": me.role.title_ru, **panels})


async def _panels(services: WebServices, me: Employee) -> dict[str, Any]:
    """What the job's start page shows; each job gets only what its table rows allow."""
    today = firm_today()
    role = me.role
    panels: dict[str, Any] = {"role": role.value}
    clients = scope_of(role, Action.panel_clients)
    if clients is Scope.own:
        panels["clients"] = await services.clients.list_clients(lawyer_id=me.id, limit=20)
    elif clients is not None:
        panels["clients"] = await services.clients.list_clients(limit=10)
    if scope_of(role, Action.view_visits) is not None:
        panels["visits_today"] = await services.visits.visits(
            day_from=today,
            day_to=today,
            lawyer_id=me.id if own_as(role, Action.view_visits, Ownership.lawyer) else None,
            booked_by_id=me.id if own_as(role, Action.view_visits, Ownership.booked_by) else None,
            # A start page shows the first of the day; /visits has them all.
            limit=30,
        )
    overdue = scope_of(role, Action.panel_overdue_payments)
    if overdue is not None:
        panels["overdue"] = await services.finance.plan_lines(
            lawyer_id=me.id if overdue is Scope.own else None,
            day_to=today,
            status=PlanStatus.overdue,
            limit=20,
        )
    if scope_of(role, Action.view_hearings) is not None:
        hearings = Action.view_hearings
        panels["hearings"] = await services.courts.hearings(
            day_from=today - timedelta(days=14),
            day_to=today + timedelta(days=30),
            representative_id=me.id if own_as(role, hearings, Ownership.representative) else None,
            lawyer_id=me.id if own_as(role, hearings, Ownership.lawyer) else None,
            limit=30,
        )
    if scope_of(role, Action.panel_own_finances) is not None:
        finances = await services.finance.lawyer_finances(me.id)
        panels["my_finances"] = finances[0] if finances else None
    if scope_of(role, Action.panel_cash) is not None:
        month = await services.finance.cash_movements(
            day_from=today.replace(day=1), day_to=today, limit=10
        )
        panels["month"] = month
    calls = scope_of(role, Action.panel_calls_today)
    if calls is not None:
        own = calls is Scope.own
        panels["calls_today"] = await services.call_log.calls(
            direction=CallDirection.inbound,
            day_from=today,
            day_to=today,
            employee_id=me.id if own else None,
            limit=20,
        )
    if scope_of(role, Action.view_callbacks) is not None:
        panels["callbacks"] = len(await services.calls.open_callbacks())
    if scope_of(role, Action.panel_contracts_at_risk) is not None:
        # Clients who spoke of ending the contract, asking money back, complaining.
        panels["at_risk"] = (await services.contract_risk.contracts())[:20]
    # Whoever heads someone hears of the clients their people could not reach.
    panels["escalated"] = await services.reminder_oversight.escalated_to(me.id)
    if scope_of(role, Action.panel_employees) is not None:
        panels["employees"] = await services.staff.list_employees()
    if scope_of(role, Action.panel_lawyers) is not None:
        panels["lawyers"] = [
            e
            for e in await services.staff.list_employees()
            if e.role is Role.lawyer and e.is_active
        ]
    panels["today"] = today
    return panels
