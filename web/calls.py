"""The call log tabs: call-centre (inbound) and outgoing calls, and comments on a call."""

from __future__ import annotations

from aiohttp import web

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.core.permissions import Action, Scope, scope_of
from web.access import recordings_to_open, signed_in, target_of
from web.filters import back_to, employee_filter, parse_id, period_of
from web.i18n import gettext as _
from web.keys import SERVICES
from web.render import render


async def call_list(request: web.Request) -> web.StreamResponse:
    """Inbound (`direction=inbound`, the default) or outgoing calls of a period, by employee."""
    user = signed_in(request)
    services = request.app[SERVICES]
    try:
        direction = CallDirection(request.query.get("direction", "inbound"))
    except ValueError:
        raise web.HTTPBadRequest(text=_("Неверное направление звонков")) from None
    period = period_of(request.query, default="week")
    employee = employee_filter(user, Action.view_calls, request.query)
    rows = await services.call_log.calls(
        direction=direction,
        day_from=period.day_from,
        day_to=period.day_to,
        employee_id=employee,
        client_id=parse_id(request.query.get("client"), _("Клиент")),
    )
    own = scope_of(user.employee.role, Action.view_calls) is Scope.own
    return render(
        request,
        "calls.html",
        {
            "rows": rows,
            "recorded": await recordings_to_open(request, user, rows),
            "direction": direction.value,
            "period": period,
            "employees": [] if own else await services.staff.list_employees(),
            "selected_employee": employee,
            "me": user.employee.id,
            "can_comment_all": scope_of(user.employee.role, Action.comment_call) is Scope.all,
            "can_comment_own": scope_of(user.employee.role, Action.comment_call) is Scope.own,
        },
    )


async def comment_call(request: web.Request) -> web.StreamResponse:
    """The employee's comment on their call: what was agreed, what comes next."""
    services = request.app[SERVICES]
    call = target_of(request, Call)
    form = await request.post()
    await services.call_log.set_comment(call.id, str(form.get("comment", ""))[:4000])
    raise web.HTTPSeeOther(location=back_to(request, "/calls"))
