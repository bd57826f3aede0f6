"""Errors of courts: no such hearing."""

from __future__ import annotations

from crm.core.errors import InvalidInput


class NoSuchHearing(InvalidInput):
    error_id = "no-such-hearing"
    http_status = 404
