"""Money tabs: expenses and income with the cash balance, lawyers' accruals and payouts, plan."""

from __future__ import annotations

from aiohttp import web

from crm.core.permissions import Action, Scope, scope_of
from crm.core.roles import Role
from crm.finance.services import LawyerFinances, PlanStatus
from web.access import signed_in, target_of
from web.filters import employee_filter, parse_date, parse_id, period_of
from web.i18n import gettext as _
from web.keys import SERVICES
from web.render import render


async def finance(request: web.Request) -> web.StreamResponse:
    """Expenses and income: how much, to whom, for what, and how much remains."""
    user = signed_in(request)
    services = request.app[SERVICES]
    period = period_of(request.query, default="month")
    employee = employee_filter(user, Action.view_finance, request.query)
    movements = await services.finance.cash_movements(
        day_from=period.day_from, day_to=period.day_to, employee_id=employee
    )
    return render(
        request,
        "finance.html",
        {
            "m": movements,
            "period": period,
            "employees": await services.staff.list_employees(),
            "selected_employee": employee,
            "can_record": scope_of(user.employee.role, Action.record_expense) is not None,
            "form_error": None,
            "form": {"amount": "", "payee": "", "purpose": "", "contract": ""},
        },
    )


async def record_expense(request: web.Request) -> web.StreamResponse:
    user = signed_in(request)
    services = request.app[SERVICES]
    form = await request.post()
    values = {key: str(form.get(key, ""))[:1000] for key in ("amount", "payee", "purpose")}
    await services.finance.record_expense(
        amount=values["amount"][:40],
        payee=values["payee"],
        purpose=values["purpose"],
        cashier_id=user.employee.id,
        spent_on=parse_date(str(form.get("spent_on", ""))[:20]),
    )
    raise web.HTTPSeeOther(location="/finance")


async def lawyer_list(request: web.Request) -> web.StreamResponse:
    """Lawyers: class, contracts, accrued, paid out, balance (a lawyer sees their own line)."""
    user = signed_in(request)
    own = scope_of(user.employee.role, Action.view_lawyers) is Scope.own
    rows = await request.app[SERVICES].finance.lawyer_finances(
        user.employee.id if own else parse_id(request.query.get("employee"), _("Сотрудник"))
    )
    return render(request, "lawyers.html", {"rows": rows, "own": own})


async def lawyer_card(request: web.Request) -> web.StreamResponse:
    """One lawyer's finances: accruals by payment and payouts; the cashier pays out here."""
    services = request.app[SERVICES]
    row = target_of(request, LawyerFinances)
    lawyer_id = row.lawyer.id
    user = signed_in(request)
    accruals, payouts = await services.finance.accruals_and_payouts(lawyer_id)
    return render(
        request,
        "lawyer.html",
        {
            "row": row,
            "accruals": accruals,
            "payouts": payouts,
            "can_pay_out": scope_of(user.employee.role, Action.pay_out) is not None,
        },
    )


async def pay_out(request: web.Request) -> web.StreamResponse:
    lawyer_id = target_of(request, int)
    user = signed_in(request)
    form = await request.post()
    await request.app[SERVICES].finance.pay_out(
        lawyer_id,
        amount=str(form.get("amount", ""))[:40],
        cashier_id=user.employee.id,
        comment=str(form.get("comment", ""))[:1000],
    )
    raise web.HTTPSeeOther(location=f"/lawyers/{lawyer_id}")


async def income_plan(request: web.Request) -> web.StreamResponse:
    """The income plan: payments expected under contracts, paid / overdue / upcoming."""
    user = signed_in(request)
    services = request.app[SERVICES]
    period = period_of(request.query, default="month")
    employee = employee_filter(user, Action.view_plan, request.query)
    status_text = request.query.get("status", "")
    try:
        status = PlanStatus(status_text) if status_text else None
    except ValueError:
        raise web.HTTPBadRequest(text=_("Неверный статус платежа")) from None
    rows = await services.finance.plan_lines(
        day_from=period.day_from, day_to=period.day_to, lawyer_id=employee, status=status
    )
    own = scope_of(user.employee.role, Action.view_plan) is Scope.own
    return render(
        request,
        "plan.html",
        {
            "rows": rows,
            "period": period,
            "status": status_text,
            "total": sum(row.planned.amount_kopecks for row in rows),
            "employees": []
            if own
            else [e for e in await services.staff.list_employees() if e.role is Role.lawyer],
            "selected_employee": employee,
        },
    )
