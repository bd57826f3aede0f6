"""One gate for every route: declared rights, decided by the permission table, journaled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from crm.calls.log import CallRow
from crm.core.permissions import OWNERSHIP, Action, Ownership, may, scope_of
from web.filters import parse_id
from web.i18n import gettext as _
from web.keys import SERVICES, CurrentUser
from web.render import current_user

OBJECTLESS = object()  # the action concerns no single object (a list, the journal)
TARGET = web.RequestKey("lexcrm.target", object)  # the object the route acts on, once allowed
T = TypeVar("T")


# Whose the route's object is: an employee's id, or None for nobody's.
Owner = Callable[[web.Request, Any], Awaitable[int | None]]


@dataclass(frozen=True)
class Target:
    """The object a route acts on, found from its path: journaled under `kind`."""

    kind: str
    param: str  # the path's placeholder holding the id
    load: Callable[[web.Request, int], Awaitable[Any]]  # None: there is no such object
    not_found: str  # msgid of the 404
    # msgid of the field named in a 400 for an id that is not a number; None: a 404 instead
    field: str | None = None

    def object_id(self, request: web.Request) -> int:
        text = request.match_info[self.param]
        if self.field is not None:
            return parse_id(text, _(self.field)) or 0
        try:
            return int(text)
        except ValueError:
            raise web.HTTPNotFound(text=_(self.not_found)) from None


@dataclass(frozen=True)
class Check:
    """One right the route needs, over its target's owner as `owner` finds it."""

    action: Action
    refusal: str  # msgid of the 403
    owner: Owner | None = None  # None: decided on the job alone


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    name: str
    checks: tuple[Check, ...] = ()  # none: any signed-in employee
    target: Target | None = None
    public: bool = False  # served without a session
    # Journal allowed requests (refusals always are); the handler journals them itself
    # where one request is not one access (an audio file is fetched in many ranges).
    journal_allowed: bool = True
    journal_as: str | None = None  # the object type journaled for a route without a target

    @property
    def action(self) -> Action | None:
        """The right the route is for: the last of its checks."""
        return self.checks[-1].action if self.checks else None


def rights_middleware(routes: Mapping[str, Route]) -> Middleware:
    """Before a handler runs: its route's target is found (404 if there is none), and every
    right the route declares is checked over it and journaled; the first refused is a 403."""

    @web.middleware
    async def check_rights(request: web.Request, handler: Handler) -> web.StreamResponse:
        declared = routes.get(request.match_info.route.name or "")
        if declared is None or declared.public or not declared.checks:
            return await handler(request)
        target, object_id = None, None
        if declared.target is not None:
            object_id = declared.target.object_id(request)
            target = await declared.target.load(request, object_id)
            if target is None:
                raise web.HTTPNotFound(text=_(declared.target.not_found))
            request[TARGET] = target
        kind = declared.target.kind if declared.target is not None else declared.journal_as
        for check in declared.checks:
            owner = OBJECTLESS if check.owner is None else await check.owner(request, target)
            await authorise(
                request,
                check.action,
                refusal=_(check.refusal),
                owner_id=owner,
                object_type=kind,
                object_id=object_id,
                journal_allowed=declared.journal_allowed,
            )
        return await handler(request)

    return check_rights


def target_of(request: web.Request, kind: type[T]) -> T:
    """The object of the route, which the rights middleware found and allowed."""
    target = request[TARGET]
    assert isinstance(target, kind), f"the route's target is not a {kind.__name__}"
    return target


def signed_in(request: web.Request) -> CurrentUser:
    """The employee behind a request the session middleware let through."""
    user = current_user(request)
    assert user is not None  # the session middleware sends anonymous requests to /login
    return user


async def authorise(
    request: web.Request,
    action: Action,
    *,
    refusal: str,
    owner_id: int | object | None = OBJECTLESS,
    object_type: str | None = None,
    object_id: int | None = None,
    journal_allowed: bool = True,
) -> CurrentUser:
    """The employee, if the table lets them do `action` (on an object owned by `owner_id`).

    The rights middleware calls it for what a route declares; a handler calls it only for
    an object named in a form, which no path shows."""
    user = signed_in(request)
    role, me = user.employee.role, user.employee.id
    if owner_id is OBJECTLESS:
        allowed = scope_of(role, action) is not None
    else:
        owner = owner_id if isinstance(owner_id, int) else None
        allowed = may(role, action, owner_id=owner, employee_id=me)
    if journal_allowed or not allowed:
        await request.app[SERVICES].journal.record(
            me, action.value, object_type=object_type, object_id=object_id, allowed=allowed
        )
    if not allowed:
        raise web.HTTPForbidden(text=refusal)
    return user


async def owner_of(request: web.Request, *, lawyer_id: int | None, client_id: int) -> int | None:
    """Whose a client (or their contract) is for the asking employee: the lawyer's, and
    also the court representative's who has a hearing in one of the client's cases."""
    user = current_user(request)
    if (
        user is not None
        and OWNERSHIP.get(user.employee.role) is Ownership.representative
        and await request.app[SERVICES].courts.represents(user.employee.id, client_id)
    ):
        return user.employee.id
    return lawyer_id


async def recordings_to_open(
    request: web.Request, user: CurrentUser, rows: Sequence[CallRow]
) -> set[int]:
    """The calls among `rows` whose recording this employee may open: a recording is still
    stored, and the table lets them listen to it and open its card (web/conversations.py asks
    for both rights over the call's employee). Ids, for a «Запись» link on each such row."""
    role, me = user.employee.role, user.employee.id
    allowed = [
        row.call
        for row in rows
        if all(
            may(role, action, owner_id=row.call.employee_id, employee_id=me)
            for action in (Action.view_transcript, Action.listen_recording)
        )
    ]
    recorded = await request.app[SERVICES].recording_ledger.recorded(
        {call.linkedid for call in allowed}
    )
    return {call.id for call in allowed if call.linkedid in recorded}
