"""Errors of calls: no such call."""

from __future__ import annotations

from crm.core.errors import N_, NotFound


class NoSuchCall(NotFound):
    error_id = "no-such-call"
    default_message = N_("Звонок не найден")
