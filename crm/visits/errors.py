"""Errors of visits: no such visit."""

from __future__ import annotations

from crm.core.errors import InvalidInput


class NoSuchVisit(InvalidInput):
    error_id = "no-such-visit"
    http_status = 404
