"""The one permission table: which job may do what, over whose objects (own, department, all)."""

from __future__ import annotations

from enum import StrEnum

from crm.roles import Role


class Action(StrEnum):
    view_client = "view_client"
    call_client = "call_client"
    view_callbacks = "view_callbacks"
    view_journal = "view_journal"
    view_contracts = "view_contracts"
    add_contract = "add_contract"
    plan_payment = "plan_payment"
    take_payment = "take_payment"


class Scope(StrEnum):
    own = "own"  # objects assigned to the employee (their clients)
    department = "department"  # the employee's department (the call centre, the lawyers)
    all = "all"


NONE: Scope | None = None  # no right at all
PERMISSIONS: dict[Role, dict[Action, Scope | None]] = {
    Role.director: {
        Action.view_client: Scope.all,
        Action.call_client: NONE,
        Action.view_callbacks: Scope.all,
        Action.view_journal: Scope.all,
        Action.view_contracts: Scope.all,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: NONE,
    },
    Role.lawyer: {
        Action.view_client: Scope.own,
        Action.call_client: Scope.own,
        Action.view_callbacks: NONE,
        Action.view_journal: NONE,
        Action.view_contracts: Scope.own,
        Action.add_contract: Scope.own,
        Action.plan_payment: Scope.own,
        Action.take_payment: NONE,
    },
    Role.court_representative: {
        Action.view_client: Scope.own,
        Action.call_client: Scope.own,
        Action.view_callbacks: NONE,
        Action.view_journal: NONE,
        Action.view_contracts: Scope.own,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: NONE,
    },
    Role.reception: {
        Action.view_client: Scope.all,
        Action.call_client: NONE,
        Action.view_callbacks: NONE,
        Action.view_journal: NONE,
        Action.view_contracts: NONE,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: NONE,
    },
    Role.cashier: {
        Action.view_client: Scope.all,
        Action.call_client: NONE,
        Action.view_callbacks: NONE,
        Action.view_journal: NONE,
        Action.view_contracts: Scope.all,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: Scope.all,
    },
    Role.call_centre_head: {
        Action.view_client: Scope.all,
        Action.call_client: Scope.all,
        Action.view_callbacks: Scope.department,
        Action.view_journal: Scope.department,
        Action.view_contracts: NONE,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: NONE,
    },
    Role.operator: {
        Action.view_client: Scope.all,
        Action.call_client: Scope.all,
        Action.view_callbacks: Scope.department,
        Action.view_journal: NONE,
        Action.view_contracts: NONE,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: NONE,
    },
    Role.administrator: {
        Action.view_client: NONE,
        Action.call_client: NONE,
        Action.view_callbacks: NONE,
        Action.view_journal: Scope.all,
        Action.view_contracts: NONE,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: NONE,
    },
}


def scope_of(role: Role, action: Action) -> Scope | None:
    """How far `role` may do `action`; None: not at all."""
    return PERMISSIONS[role][action]


def may(role: Role, action: Action, *, owner_id: int | None, employee_id: int) -> bool:
    """May this employee do `action` on an object owned by `owner_id`?

    Department scope counts as all for objects that belong to nobody in particular
    (a client's card within the call centre's work); own scope needs the object to be
    the employee's.
    """
    scope = scope_of(role, action)
    if scope is None:
        return False
    if scope is Scope.own:
        return owner_id is not None and owner_id == employee_id
    return True
