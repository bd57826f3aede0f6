"""The administrator's workspace: employees and their jobs, phones, heads, lawyer classes."""

from __future__ import annotations

from aiohttp import web

from crm.core.errors import CrmError
from crm.core.roles import Role
from web.access import signed_in, target_of
from web.errors import error_text
from web.filters import parse_id
from web.i18n import N_
from web.i18n import gettext as _
from web.keys import SERVICES
from web.render import render

_REFUSAL = N_("Сотрудниками управляет администратор")


async def staff_page(
    request: web.Request, *, form_error: str | None = None, status: int = 200
) -> web.Response:
    services = request.app[SERVICES]
    employees = await services.staff.list_employees()
    return render(
        request,
        "staff.html",
        {
            "employees": employees,
            "by_id": {e.id: e for e in employees},
            "classes": await services.staff.lawyer_classes(),
            "roles": list(Role),
            "rules": services.reminders.rules,
            "form_error": form_error,
        },
        status=status,
    )


async def staff(request: web.Request) -> web.StreamResponse:
    return await staff_page(request)


async def add_employee(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        role = Role(str(form.get("role", "")))
    except ValueError:
        return await staff_page(request, form_error=_("Выберите должность"), status=400)
    try:
        await request.app[SERVICES].staff.create_employee(
            str(form.get("login", ""))[:100],
            str(form.get("full_name", ""))[:1000],
            role,
            str(form.get("password", ""))[:1000],
            sip_extension=str(form.get("sip_extension", "")).strip()[:20] or None,
        )
    except CrmError as error:
        return await staff_page(request, form_error=error_text(error), status=400)
    raise web.HTTPSeeOther(location="/staff")


async def update_employee(request: web.Request) -> web.StreamResponse:
    employee_id = target_of(request, int)
    form = await request.post()
    try:
        await request.app[SERVICES].staff.update_employee(
            employee_id,
            lawyer_class_id=parse_id(str(form.get("lawyer_class", "")), _("Класс")),
            head_id=parse_id(str(form.get("head", "")), _("Руководитель")),
            sip_extension=str(form.get("sip_extension", ""))[:20],
        )
    except CrmError as error:
        return await staff_page(request, form_error=error_text(error), status=400)
    raise web.HTTPSeeOther(location="/staff")


async def deactivate_employee(request: web.Request) -> web.StreamResponse:
    employee_id = target_of(request, int)
    user = signed_in(request)
    if employee_id == user.employee.id:
        return await staff_page(request, form_error=_("Нельзя отключить самого себя"), status=400)
    try:
        await request.app[SERVICES].staff.deactivate(employee_id)
    except CrmError as error:
        return await staff_page(request, form_error=error_text(error), status=400)
    raise web.HTTPSeeOther(location="/staff")


async def add_lawyer_class(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        await request.app[SERVICES].staff.add_lawyer_class(
            str(form.get("name", ""))[:200], str(form.get("percent", ""))[:20]
        )
    except CrmError as error:
        return await staff_page(request, form_error=error_text(error), status=400)
    raise web.HTTPSeeOther(location="/staff")
