"""Reminders in the browser: the window that blocks until a real call, the lists, the schedule."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web

from crm.calls.events import CallEnded
from crm.clients.models import Client
from crm.core.formatting import FIRM_TIMEZONE, format_datetime
from crm.core.permissions import Action, may, scope_of
from web.access import authorise, owner_of, signed_in, target_of
from web.filters import parse_date, parse_id, parse_time
from web.i18n import gettext as _
from web.keys import SERVICES
from web.live import HUB
from web.render import render

log = logging.getLogger(__name__)
T = TypeVar("T")
GENERATE_EVERY_SECONDS = 60.0


async def due_reminder(request: web.Request) -> web.StreamResponse:
    """The reminder the window must show now (JSON), or `{"reminder": null}`.

    The server decides: asking marks the reminder as shown, and only a call that starts
    after that (found in the call records) takes it away. Asking changes state, so it is
    a POST with the session's CSRF token, never a GET.
    """
    user = signed_in(request)
    services = request.app[SERVICES]
    due = await services.reminders.due_for(user.employee.id)
    if due is None:
        body: dict[str, Any] = {"reminder": None}
    else:
        reminder, client = due.reminder, due.client
        body = {
            "reminder": {
                "id": reminder.id,
                "kind": reminder.kind.value,
                "reason": reminder.reason,
                "due": format_datetime(reminder.due_at),
                "client": {
                    "id": client.id,
                    "code": client.code,
                    "name": client.full_name,
                    "url": f"/clients/{client.id}",
                },
                "can_call": bool(user.employee.sip_extension)
                and scope_of(user.employee.role, Action.call_client) is not None,
                "waiting_comment_call": due.waiting_comment_call.id
                if due.waiting_comment_call
                else None,
                "queued": due.queued,
            }
        }
    response = web.json_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


async def dismiss(request: web.Request) -> web.StreamResponse:
    """Asking to close a reminder: granted only when a real call has settled it.

    There is no other way out; a request without the call behind it is refused and
    journaled as such.
    """
    user = signed_in(request)
    services = request.app[SERVICES]
    reminder_id = parse_id(request.match_info["reminder_id"], _("Напоминание")) or 0
    reminder = await services.reminders.get(reminder_id)
    if reminder is None or reminder.employee_id != user.employee.id:
        await services.journal.record(
            user.employee.id,
            "reminder_dismiss",
            object_type="reminder",
            object_id=reminder_id,
            allowed=False,
        )
        raise web.HTTPNotFound(text=_("Напоминание не найдено"))
    await services.reminders.settle(user.employee.id)
    reminder = await services.reminders.get(reminder_id)
    assert reminder is not None
    settled = reminder.status.value != "open"
    await services.journal.record(
        user.employee.id,
        "reminder_dismiss",
        object_type="reminder",
        object_id=reminder_id,
        allowed=settled,
        detail=None if settled else "no call behind the request",
    )
    if not settled:
        raise web.HTTPConflict(text=_("Напоминание закроется само, когда вы позвоните клиенту."))
    return web.json_response({"closed": True})


async def add_reminder(request: web.Request) -> web.StreamResponse:
    """A reminder set by hand on a client: who must call, when, about what.

    From a contract's card the form also names the contract (the `contract` field): it must
    be one of this client's contracts that the employee may see; the reminder keeps it.
    """
    user, client = signed_in(request), target_of(request, Client)
    form = await request.post()
    contract_id = await _contract_of(request, client, str(form.get("contract", ""))[:20])
    day = parse_date(str(form.get("day", ""))[:20])
    if day is None:
        raise web.HTTPBadRequest(text=_("Дата напоминания не указана"))
    at = datetime.combine(day, parse_time(str(form.get("time", ""))[:10]), tzinfo=FIRM_TIMEZONE)
    # The one who calls is the client's lawyer (or the one setting it, if they have none).
    employee_id = client.lawyer_id or user.employee.id
    await request.app[SERVICES].reminders.add_manual(
        employee_id=employee_id,
        client_id=client.id,
        due_at=at,
        reason=str(form.get("reason", ""))[:2000],
        created_by_id=user.employee.id,
        contract_id=contract_id,
    )
    raise web.HTTPSeeOther(
        location=f"/contracts/{contract_id}" if contract_id else f"/clients/{client.id}"
    )


async def _contract_of(request: web.Request, client: Client, text: str) -> int | None:
    """The contract a reminder form names, if any: one of `client`'s contracts that the
    employee may see (journaled either way); anything else is refused."""
    contract_id = parse_id(text, _("Договор"))
    if contract_id is None:
        return None
    services = request.app[SERVICES]
    contract = await services.contracts.get(contract_id)
    if contract is None or contract.client_id != client.id:
        user = signed_in(request)
        await services.journal.record(
            user.employee.id,
            Action.set_reminder.value,
            object_type="contract",
            object_id=contract_id,
            allowed=False,
            detail="not a contract of the client",
        )
        # The same answer for a missing contract and another client's: no probing for ids.
        raise web.HTTPBadRequest(text=_("Договор не этого клиента"))
    await authorise(
        request,
        Action.view_contracts,
        refusal=_("Нет доступа к этому договору"),
        owner_id=await owner_of(request, lawyer_id=contract.lawyer_id, client_id=client.id),
        object_type="contract",
        object_id=contract.id,
    )
    return contract.id


async def reminder_list(request: web.Request) -> web.StreamResponse:
    """One's own reminders; for the director and heads also who is overdue, which clients
    nobody has called for too long, and how quickly reminders turned into calls."""
    user = signed_in(request)
    services = request.app[SERVICES]
    role, me = user.employee.role, user.employee.id
    # The director and the heads by job see everyone; whoever heads people (a senior
    # lawyer, say) sees their own people and themselves.
    team: set[int] | None = None
    oversee = scope_of(role, Action.oversee_reminders) is not None
    if not oversee:
        team = await services.reminder_oversight.team_of(me)
        oversee = bool(team)
        team.add(me)
    await services.journal.record(me, "view_reminders", allowed=True)
    context: dict[str, Any] = {
        "mine": await services.reminders.of_employee(me),
        "oversee": oversee,
        "can_set": may(role, Action.set_reminder, owner_id=me, employee_id=me),
    }
    if oversee:
        oversight = services.reminder_oversight
        context["overdue"] = await oversight.overdue_by_employee(team=team)
        context["neglected"] = await oversight.neglected_clients(limit=100, team=team)
        context["history"] = await oversight.history(team=team, limit=100)
    else:
        context["history"] = await services.reminder_oversight.history(employee_id=me, limit=50)
    return render(request, "reminders.html", context)


async def reminder_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: makes due reminders every minute, and tells a browser to look again
    as soon as a call of its employee ends (the window then closes within a second)."""
    services = app[SERVICES]
    # Database work is never cancelled half-way (a connection torn out of a transaction
    # is left to the garbage collector): at shutdown the loops stop, the work finishes.
    in_flight: set[asyncio.Task[object]] = set()

    async def finished(work: Coroutine[Any, Any, T]) -> T:
        task: asyncio.Task[T] = asyncio.create_task(work)
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        return await asyncio.shield(task)

    async def generate() -> None:
        while True:
            try:
                made = await finished(services.reminders.generate())
                if made:
                    log.info("reminders: %d new", made)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reminders could not be generated")
            await asyncio.sleep(GENERATE_EVERY_SECONDS)

    async def settle_after(event: CallEnded) -> None:
        call = await services.calls.get_call(event.linkedid)
        if call is None or call.employee_id is None:
            return
        await services.reminders.settle(call.employee_id)
        await app[HUB].send(call.employee_id, {"type": "reminders"})

    async def on_call_end() -> None:
        async with services.bus.subscribe(CallEnded) as queue:
            while True:
                event = await queue.get()
                try:
                    if isinstance(event, CallEnded):
                        await finished(settle_after(event))
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("reminders could not be settled after a call")

    tasks = [
        asyncio.create_task(generate(), name="reminders-generate"),
        asyncio.create_task(on_call_end(), name="reminders-calls"),
    ]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        try:
            await task
        except asyncio.CancelledError:
            pass
    await asyncio.gather(*in_flight, return_exceptions=True)
