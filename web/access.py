"""One gate for every route: the route table names the rights, the permission table decides,
the journal records, 403 refuses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from crm.core.permissions import Action, may, scope_of
from crm.core.roles import Role
from web.i18n import gettext as _
from web.keys import SERVICES, CurrentUser
from web.render import current_user

if TYPE_CHECKING:
    from web.routes import Route

OBJECTLESS = object()  # the action concerns no single object (a list, the journal)
TARGET = web.RequestKey("lexcrm.target", object)  # the object the route acts on, once allowed
T = TypeVar("T")


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
        and user.employee.role is Role.court_representative
        and await request.app[SERVICES].courts.represents(user.employee.id, client_id)
    ):
        return user.employee.id
    return lawyer_id
