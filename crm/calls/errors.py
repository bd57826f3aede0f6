"""Errors of calls: no such call."""

from __future__ import annotations

from crm.core.errors import InvalidInput


class NoSuchCall(InvalidInput):
    error_id = "no-such-call"
    http_status = 404
