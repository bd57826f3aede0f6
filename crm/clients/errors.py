"""Errors of clients: no such client."""

from __future__ import annotations

from crm.core.errors import N_, CrmError


class NoSuchClient(CrmError):
    error_id = "no-such-client"
    http_status = 404
    default_message = N_("Клиент не найден")
