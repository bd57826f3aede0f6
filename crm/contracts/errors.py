"""Errors of contracts: no such contract, a number already taken."""

from __future__ import annotations

from crm.core.errors import InvalidInput


class ContractNumberTaken(InvalidInput):
    error_id = "contract-number-taken"
    http_status = 409


class NoSuchContract(InvalidInput):
    error_id = "no-such-contract"
    http_status = 404
