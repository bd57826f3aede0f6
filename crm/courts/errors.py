"""Errors of courts: no such hearing."""

from __future__ import annotations

from crm.core.errors import N_, NotFound


class NoSuchHearing(NotFound):
    error_id = "no-such-hearing"
    default_message = N_("Заседание не найдено")
