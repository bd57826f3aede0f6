"""The employee-activity journal page: who opened, called or was refused what, and when."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from web.i18n import N_
from web.i18n import gettext as _
from web.keys import SERVICES
from web.render import render

FIRM_TIME = ZoneInfo("Europe/Moscow")
ACTIONS = {
    "view_client": N_("открыл карточку клиента"),
    "call_client": N_("позвонил клиенту"),
    "view_callbacks": N_("открыл список перезвонов"),
    "view_journal": N_("открыл журнал"),
}


async def journal(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    try:
        employee_id = int(request.query["employee"]) if request.query.get("employee") else None
    except ValueError:
        raise web.HTTPBadRequest(text=_("Неверный сотрудник в фильтре")) from None
    employees = {e.id: e for e in await services.staff.list_employees()}
    rows = [
        {
            "at": entry.at.astimezone(FIRM_TIME),
            "employee": employees.get(entry.employee_id) if entry.employee_id else None,
            "action": _(ACTIONS[entry.action]) if entry.action in ACTIONS else entry.action,
            "object": f"{entry.object_type} {entry.object_id}" if entry.object_type else "",
            "denied": entry.outcome.value == "denied",
        }
        for entry in await services.journal.entries(employee_id=employee_id)
    ]
    return render(
        request,
        "journal.html",
        {"rows": rows, "employees": list(employees.values()), "selected": employee_id},
    )
