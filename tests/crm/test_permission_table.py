"""The permission table: complete, and own scope really means own."""

from __future__ import annotations

import pytest

from crm.core.permissions import (
    OWNERSHIP,
    PERMISSIONS,
    Action,
    Ownership,
    Scope,
    may,
    own_as,
    scope_of,
)
from crm.core.roles import Role


def test_every_role_has_an_entry_for_every_action() -> None:
    assert set(PERMISSIONS) == set(Role)
    for role, rights in PERMISSIONS.items():
        assert set(rights) == set(Action), role


@pytest.mark.parametrize("role", [Role.lawyer, Role.court_representative])
def test_lawyers_see_only_their_own_clients(role: Role) -> None:
    assert scope_of(role, Action.view_client) is Scope.own
    assert may(role, Action.view_client, owner_id=7, employee_id=7)
    assert not may(role, Action.view_client, owner_id=8, employee_id=7)
    assert not may(role, Action.view_client, owner_id=None, employee_id=7)


def test_no_right_means_no_access_whatever_the_owner() -> None:
    assert scope_of(Role.administrator, Action.view_client) is None
    assert not may(Role.administrator, Action.view_client, owner_id=1, employee_id=1)


def test_call_centre_sees_callbacks_lawyers_do_not() -> None:
    assert scope_of(Role.operator, Action.view_callbacks) is not None
    assert scope_of(Role.call_centre_head, Action.view_callbacks) is not None
    assert scope_of(Role.lawyer, Action.view_callbacks) is None


def test_every_job_with_an_own_scope_says_what_makes_an_object_its_own() -> None:
    for role, rights in PERMISSIONS.items():
        if Scope.own in rights.values():
            assert role in OWNERSHIP, role


def test_own_lists_narrow_by_the_jobs_own_column_only() -> None:
    assert own_as(Role.lawyer, Action.view_visits, Ownership.lawyer)
    assert not own_as(Role.lawyer, Action.view_visits, Ownership.booked_by)
    assert own_as(Role.operator, Action.view_visits, Ownership.booked_by)
    # The director's scope is all: nothing narrows, whatever the column.
    assert not own_as(Role.director, Action.view_visits, Ownership.lawyer)
    # Representatives take cases from every lawyer: their contract list is not narrowed.
    assert not own_as(Role.court_representative, Action.view_contracts, Ownership.representative)
    assert own_as(Role.court_representative, Action.view_hearings, Ownership.representative)
