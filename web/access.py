"""One gate for every route: the permission table decides, the journal records, 403 refuses."""

from __future__ import annotations

from aiohttp import web

from crm.core.permissions import Action, may, scope_of
from crm.core.roles import Role
from web.keys import SERVICES, CurrentUser
from web.render import current_user

OBJECTLESS = object()  # the action concerns no single object (a list, the journal)


async def authorise(
    request: web.Request,
    action: Action,
    *,
    refusal: str,
    owner_id: int | object | None = OBJECTLESS,
    object_type: str | None = None,
    object_id: int | None = None,
) -> CurrentUser:
    """The employee, if the table lets them do `action` (on an object owned by `owner_id`)."""
    user = current_user(request)
    assert user is not None  # the session middleware sends anonymous requests to /login
    role, me = user.employee.role, user.employee.id
    if owner_id is OBJECTLESS:
        allowed = scope_of(role, action) is not None
    else:
        owner = owner_id if isinstance(owner_id, int) else None
        allowed = may(role, action, owner_id=owner, employee_id=me)
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
