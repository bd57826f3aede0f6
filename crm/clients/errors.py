"""Errors of clients: no such client."""

from __future__ import annotations

from crm.core.errors import CrmError


class NoSuchClient(CrmError):
    error_id = "no-such-client"
    http_status = 404
    default_message = "Клиент не найден"
