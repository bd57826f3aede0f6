"""The eight jobs of the firm and their Russian titles."""

from __future__ import annotations

from crm.core.roles import Role


def test_every_role_has_its_russian_title() -> None:
    assert {role.value: role.title_ru for role in Role} == {
        "director": "Руководитель",
        "lawyer": "Юрист",
        "court_representative": "Защитник в суде",
        "reception": "Ресепшин",
        "cashier": "Кассир",
        "call_centre_head": "Руководитель КЦ",
        "operator": "Оператор КЦ",
        "administrator": "Администратор",
    }


def test_role_is_its_stored_string() -> None:
    assert Role("call_centre_head") is Role.call_centre_head
    assert f"{Role.operator}" == "operator"
