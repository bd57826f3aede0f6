"""Errors of contracts: no such contract, a number already taken."""

from __future__ import annotations

from crm.core.errors import N_, InvalidInput, NotFound


class ContractNumberTaken(InvalidInput):
    error_id = "contract-number-taken"
    http_status = 409


class NoSuchContract(NotFound):
    error_id = "no-such-contract"
    default_message = N_("Договор не найден")
