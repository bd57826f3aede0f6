"""Errors of visits: no such visit."""

from __future__ import annotations

from crm.core.errors import N_, NotFound


class NoSuchVisit(NotFound):
    error_id = "no-such-visit"
    default_message = N_("Визит не найден")
