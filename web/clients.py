"""The client card (minimal until the CRM workspaces land) and its "Call" button."""

from __future__ import annotations

from aiohttp import web

from crm.calls.events import ClickToCallRequested
from crm.clients.models import Client, ClientStatus
from crm.core.errors import CrmError
from crm.core.permissions import Action, Ownership, Scope, may, own_as, scope_of
from crm.core.roles import Role
from crm.staff.models import Employee
from web.access import owner_of, recordings_to_open, signed_in, target_of
from web.errors import error_text
from web.filters import firm_today, parse_id, period_of
from web.i18n import gettext as _
from web.keys import SERVICES, CurrentUser
from web.render import render

# Jobs whose client lists show their own clients only (crm.permissions: own scope).
OWN_CLIENTS_ONLY = frozenset(
    role for role in Role if scope_of(role, Action.view_client) is Scope.own
)


def client_for(request: web.Request) -> tuple[CurrentUser, Client]:
    """The employee and the client of the path, whom the route's rights let them act on."""
    return signed_in(request), target_of(request, Client)


async def client_card(request: web.Request) -> web.StreamResponse:
    user, client = client_for(request)
    return await client_card_page(request, user, client)


async def client_card_page(
    request: web.Request,
    user: CurrentUser,
    client: Client,
    *,
    form_error: str | None = None,
    form: dict[str, str] | None = None,
) -> web.Response:
    """The card; with `form_error`, the add-contract form comes back with its values."""
    services = request.app[SERVICES]
    contracts = await services.contracts.search(client_id=client.id)
    plans = {row.contract.id: await services.finance.plan_of(row.contract.id) for row in contracts}
    role, me = user.employee.role, user.employee.id
    owner = await owner_of(request, lawyer_id=client.lawyer_id, client_id=client.id)
    employees = await services.staff.list_employees()
    calls = await services.call_log.calls(client_id=client.id, limit=100)
    return render(
        request,
        "client.html",
        {
            "client": client,
            "lawyer": next((e for e in employees if e.id == client.lawyer_id), None),
            "calls": calls,
            "recorded": await recordings_to_open(request, user, calls),
            "visits": await services.visits.visits(client_id=client.id, limit=50),
            "notes": await services.notes.of_client(client.id),
            "hearings": await services.courts.hearings(client_id=client.id),
            "expenses": await services.finance.expenses_of(client_id=client.id),
            "lawyers": [e for e in employees if e.role is Role.lawyer and e.is_active],
            "can_book": may(role, Action.book_visit, owner_id=owner, employee_id=me),
            "can_check_in": scope_of(role, Action.check_in_visit) is not None,
            "can_note": may(role, Action.add_note, owner_id=owner, employee_id=me),
            "can_set_reminder": may(role, Action.set_reminder, owner_id=owner, employee_id=me),
            "can_edit": may(role, Action.add_note, owner_id=owner, employee_id=me),
            "can_comment_call": scope_of(role, Action.comment_call) is not None,
            "me": me,
            "today": firm_today(),
            "contracts": contracts,
            "plans": plans,
            "can_plan": {
                row.contract.id: may(
                    role, Action.plan_payment, owner_id=row.contract.lawyer_id, employee_id=me
                )
                for row in contracts
            },
            "can_take_payment": scope_of(role, Action.take_payment) is not None,
            "can_add_contract": may(
                user.employee.role,
                Action.add_contract,
                owner_id=client.lawyer_id,
                employee_id=user.employee.id,
            ),
            "form_error": form_error,
            "form": form or {"number": "", "amount": "", "essence": ""},
            "calling": request.query.get("calling") == "1",
            "can_call": bool(user.employee.sip_extension)
            and may(
                user.employee.role,
                Action.call_client,
                owner_id=client.lawyer_id,
                employee_id=user.employee.id,
            ),
        },
        status=400 if form_error else 200,
    )


async def new_client_form(request: web.Request) -> web.StreamResponse:
    """Reception or the call centre registers a client who came or called for the first time."""
    return await _new_client_page(request)


async def _new_client_page(
    request: web.Request, *, form_error: str | None = None, form: dict[str, str] | None = None
) -> web.Response:
    services = request.app[SERVICES]
    return render(
        request,
        "client_new.html",
        {
            "form_error": form_error,
            # The number typed is never sent back: the form asks for it again.
            "form": form or {"full_name": "", "topic": "", "source": ""},
            "topics": await services.clients.topics(),
        },
        status=400 if form_error else 200,
    )


async def add_client(request: web.Request) -> web.StreamResponse:
    user = signed_in(request)
    form = await request.post()
    values = {key: str(form.get(key, ""))[:1000] for key in ("full_name", "topic", "source")}
    own = scope_of(user.employee.role, Action.view_client) is Scope.own
    try:
        client = await request.app[SERVICES].clients.add_client(
            values["full_name"],
            [str(form.get("phone", ""))[:40]],
            topic=values["topic"],
            source=values["source"],
            # A lawyer who registers a client keeps them (or could not open the card).
            lawyer_id=user.employee.id if own else None,
        )
    except CrmError as error:
        return await _new_client_page(request, form_error=error_text(error), form=values)
    raise web.HTTPSeeOther(location=f"/clients/{client.id}")


async def update_details(request: web.Request) -> web.StreamResponse:
    """Name, topic and source of the client, as the operator or lawyer learns them."""
    _user, client = client_for(request)
    form = await request.post()
    name = str(form.get("full_name", ""))[:1000]
    await request.app[SERVICES].clients.update_details(
        client.id,
        full_name=name if name.strip() else None,
        topic=str(form.get("topic", ""))[:1000],
        source=str(form.get("source", ""))[:1000],
    )
    raise web.HTTPSeeOther(location=f"/clients/{client.id}")


async def add_note(request: web.Request) -> web.StreamResponse:
    """A note in the communication history (the essence of a question, what was agreed)."""
    user, client = client_for(request)
    form = await request.post()
    await request.app[SERVICES].notes.add(
        client.id,
        author_id=user.employee.id,
        text=str(form.get("text", ""))[:10000],
        contract_id=parse_id(str(form.get("contract", "")), _("Договор")),
    )
    contract = form.get("contract")
    raise web.HTTPSeeOther(
        location=f"/contracts/{int(str(contract))}" if contract else f"/clients/{client.id}"
    )


async def call_client(request: web.Request) -> web.StreamResponse:
    user, client = client_for(request)
    if not user.employee.sip_extension:
        raise web.HTTPConflict(text=_("У вас нет рабочего телефона: звонок невозможен"))
    services = request.app[SERVICES]
    stored = await services.clicks.request(user.employee.id, client.id)
    services.bus.publish(ClickToCallRequested(stored.id))
    raise web.HTTPSeeOther(location=f"/clients/{client.id}?calling=1")


async def client_search(request: web.Request) -> web.StreamResponse:
    """The clients tab: a search by name (any case, ё as е) or code, or the list by the date
    they came, topic, whether a contract was concluded and lawyer; lawyers see their own."""
    user = signed_in(request)
    services = request.app[SERVICES]
    query = request.query
    text = query.get("q", "").strip()[:100]
    own = scope_of(user.employee.role, Action.view_client) is Scope.own
    employee = user.employee.id if own else parse_id(query.get("employee"), _("Сотрудник"))
    period = period_of(query)
    status_text = query.get("status", "")
    try:
        status = ClientStatus(status_text) if status_text else None
    except ValueError:
        raise web.HTTPBadRequest(text=_("Неверный статус клиента")) from None
    code = text.casefold().removeprefix("c")
    representative = own_as(user.employee.role, Action.view_client, Ownership.representative)
    if code.isdigit() and not representative:
        found = await services.clients.search_clients(text, lawyer_id=employee if own else None)
        rows: list[tuple[Client, Employee | None]] = [(c, None) for c in found]
        total = len(rows)
    else:
        rows, total = await services.clients.filter_clients(
            name=text,
            came_from=period.day_from,
            came_to=period.day_to,
            topic=query.get("topic", "")[:200],
            status=status,
            lawyer_id=None if representative else employee,
            represented_by=employee if representative else None,
        )
    employees = await services.staff.list_employees()
    return render(
        request,
        "clients.html",
        {
            "query": text,
            "rows": rows,
            "total": total,
            "period": period,
            "status": status_text,
            "topic": query.get("topic", ""),
            "topics": await services.clients.topics(),
            "employees": [] if own else [e for e in employees if e.role is Role.lawyer],
            "selected_employee": employee,
            "can_add": scope_of(user.employee.role, Action.book_visit) is not None,
        },
    )
