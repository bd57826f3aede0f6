"""The eight jobs in the firm; each employee has exactly one, and it decides their workspace."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A job in the firm. The value is what the database stores; never rename one."""

    director = "director"
    lawyer = "lawyer"
    court_representative = "court_representative"
    reception = "reception"
    cashier = "cashier"
    call_centre_head = "call_centre_head"
    operator = "operator"
    administrator = "administrator"

    @property
    def title_ru(self) -> str:
        """The job's name as the firm says it, for the interface."""
        return _TITLES_RU[self]


_TITLES_RU: dict[Role, str] = {
    Role.director: "Руководитель",
    Role.lawyer: "Юрист",
    Role.court_representative: "Защитник в суде",
    Role.reception: "Ресепшин",
    Role.cashier: "Кассир",
    Role.call_centre_head: "Руководитель КЦ",
    Role.operator: "Оператор КЦ",
    Role.administrator: "Администратор",
}
