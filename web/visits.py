"""Office visits: booking from the client card, reception's day list, check-in and outcomes."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from crm.clients.models import Client
from crm.core.formatting import FIRM_TIMEZONE
from crm.core.permissions import Action, Ownership, Scope, own_as, scope_of
from crm.core.roles import Role
from crm.visits.models import Visit, VisitOutcome
from web.access import signed_in, target_of
from web.filters import back_to, parse_date, parse_id, parse_time, period_of
from web.i18n import gettext as _
from web.keys import SERVICES
from web.render import render


async def visit_list(request: web.Request) -> web.StreamResponse:
    """Visits of a day or period: reception's appointments, an operator's bookings, a
    lawyer's meetings, everything for the director — each narrowed by employee."""
    user = signed_in(request)
    services = request.app[SERVICES]
    role = user.employee.role
    period = period_of(request.query, default="day")
    own = scope_of(role, Action.view_visits) is Scope.own
    employee = None if own else parse_id(request.query.get("employee"), _("Сотрудник"))
    rows = await services.visits.visits(
        day_from=period.day_from,
        day_to=period.day_to,
        lawyer_id=user.employee.id if own_as(role, Action.view_visits, Ownership.lawyer) else None,
        booked_by_id=user.employee.id
        if own_as(role, Action.view_visits, Ownership.booked_by)
        else None,
        employee_id=employee,
    )
    lawyers = await services.staff.list_employees()
    return render(
        request,
        "visits.html",
        {
            "rows": rows,
            "period": period,
            "employees": [] if own else lawyers,
            "selected_employee": employee,
            "lawyers": [e for e in lawyers if e.role is Role.lawyer and e.is_active],
            "can_check_in": scope_of(role, Action.check_in_visit) is not None,
            "can_close": scope_of(role, Action.close_visit) is not None,
            "me": user.employee.id,
            "own_close": scope_of(role, Action.close_visit) is Scope.own,
        },
    )


async def book_visit(request: web.Request) -> web.StreamResponse:
    """Book a visit for the client (operator during a call, reception, the client's lawyer)."""
    user, client = signed_in(request), target_of(request, Client)
    form = await request.post()
    day = parse_date(str(form.get("day", ""))[:20])
    if day is None:
        raise web.HTTPBadRequest(text=_("Дата визита не указана"))
    at = datetime.combine(day, parse_time(str(form.get("time", ""))[:10]), tzinfo=FIRM_TIMEZONE)
    await request.app[SERVICES].visits.book(
        client.id,
        booked_by_id=user.employee.id,
        scheduled_at=at,
        lawyer_id=parse_id(str(form.get("lawyer", "")), _("Юрист")),
        comment=str(form.get("comment", ""))[:4000],
        call_id=parse_id(str(form.get("call", "")), _("Звонок")),
    )
    raise web.HTTPSeeOther(location=f"/clients/{client.id}")


def _visit(request: web.Request) -> Visit:
    return target_of(request, Visit)


async def check_in(request: web.Request) -> web.StreamResponse:
    """Reception: the client came; they may pick the lawyer for a client without one."""
    visit = _visit(request)
    user = signed_in(request)
    form = await request.post()
    await request.app[SERVICES].visits.check_in(
        visit.id,
        reception_id=user.employee.id,
        lawyer_id=parse_id(str(form.get("lawyer", "")), _("Юрист")),
    )
    raise web.HTTPSeeOther(location=back_to(request, "/visits"))


async def close_visit(request: web.Request) -> web.StreamResponse:
    """How the visit ended (the lawyer it was with, or reception for no-shows)."""
    visit = _visit(request)
    form = await request.post()
    try:
        outcome = VisitOutcome(str(form.get("outcome", "")))
    except ValueError:
        raise web.HTTPBadRequest(text=_("Неверный итог визита")) from None
    await request.app[SERVICES].visits.close(visit.id, outcome)
    raise web.HTTPSeeOther(location="/visits")


async def walk_in(request: web.Request) -> web.StreamResponse:
    """Reception: a client came without booking; the visit starts checked in with a lawyer."""
    user, client = signed_in(request), target_of(request, Client)
    form = await request.post()
    lawyer = parse_id(str(form.get("lawyer", "")), _("Юрист"))
    if lawyer is None:
        raise web.HTTPBadRequest(text=_("Выберите юриста, к которому пришёл клиент"))
    await request.app[SERVICES].visits.walk_in(
        client.id, reception_id=user.employee.id, lawyer_id=lawyer
    )
    raise web.HTTPSeeOther(location=f"/clients/{client.id}")
