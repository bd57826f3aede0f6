"""Courts: the hearings calendar, scheduling a hearing under a contract, recording the result."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from crm.contracts.models import Contract
from crm.core.formatting import FIRM_TIMEZONE
from crm.core.permissions import OWNERSHIP, Action, Ownership, Scope, own_as, scope_of
from crm.core.roles import Role
from crm.courts.models import Hearing
from web.access import signed_in, target_of
from web.filters import DayRange, back_to, firm_today, parse_date, parse_id, parse_time, period_of
from web.i18n import gettext as _
from web.keys import SERVICES
from web.render import render


async def hearing_list(request: web.Request) -> web.StreamResponse:
    """Hearings of a period: a representative's own, a lawyer's contracts', or all by person."""
    user = signed_in(request)
    services = request.app[SERVICES]
    role, me = user.employee.role, user.employee.id
    own = scope_of(role, Action.view_hearings) is Scope.own
    period = period_of(request.query, default="")
    if period.day_from is None and period.day_to is None:
        # Without a period the calendar starts today: what is coming matters most.
        period = DayRange(firm_today(), None, "")
    employee = None if own else parse_id(request.query.get("employee"), _("Сотрудник"))
    rows = await services.courts.hearings(
        day_from=period.day_from,
        day_to=period.day_to,
        representative_id=me
        if own_as(role, Action.view_hearings, Ownership.representative)
        else employee,
        lawyer_id=me if own_as(role, Action.view_hearings, Ownership.lawyer) else None,
    )
    return render(
        request,
        "courts.html",
        {
            "rows": rows,
            "period": period,
            "employees": [
                e
                for e in await services.staff.list_employees()
                if e.role is Role.court_representative
            ]
            if not own
            else [],
            "selected_employee": employee,
            "me": me,
            "can_record": scope_of(role, Action.record_hearing_result) is not None,
            "now": datetime.now(FIRM_TIMEZONE),
        },
    )


async def schedule_hearing(request: web.Request) -> web.StreamResponse:
    """A hearing under a contract: the representative schedules it (or the contract's lawyer)."""
    contract = target_of(request, Contract)
    user = signed_in(request)
    form = await request.post()
    day = parse_date(str(form.get("day", ""))[:20])
    if day is None:
        raise web.HTTPBadRequest(text=_("Дата заседания не указана"))
    at = datetime.combine(day, parse_time(str(form.get("time", ""))[:10]), tzinfo=FIRM_TIMEZONE)
    representative = parse_id(str(form.get("representative", "")), _("Защитник"))
    if representative is None:
        if OWNERSHIP.get(user.employee.role) is not Ownership.representative:
            raise web.HTTPBadRequest(text=_("Выберите защитника"))
        representative = user.employee.id
    await request.app[SERVICES].courts.schedule(
        contract.id,
        court=str(form.get("court", ""))[:1000],
        case_number=str(form.get("case_number", ""))[:200],
        starts_at=at,
        representative_id=representative,
        by_employee_id=user.employee.id,
    )
    raise web.HTTPSeeOther(location=f"/contracts/{contract.id}")


async def record_result(request: web.Request) -> web.StreamResponse:
    """The representative writes how the hearing went."""
    services = request.app[SERVICES]
    hearing = target_of(request, Hearing)
    form = await request.post()
    await services.courts.record_result(hearing.id, str(form.get("result", ""))[:10000])
    raise web.HTTPSeeOther(location=back_to(request, "/courts"))
