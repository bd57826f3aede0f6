"""Contracts at risk: active contracts whose client's recent calls said they may leave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from crm.calls.models import Call
from crm.clients.models import Client
from crm.contracts.models import Contract, ContractStatus
from crm.conversations.models import CallFlag, CallFlagKind
from crm.core.service import Service


@dataclass(frozen=True)
class ContractAtRisk:
    contract: Contract
    client: Client
    flags: int
    last_call: Call


class ContractRisk(Service):
    """Contracts whose client's recorded words flag a risk of losing them."""

    async def contracts(self, *, days: int = 30) -> list[ContractAtRisk]:
        """Active contracts whose client spoke of leaving on a call lately."""
        since = self._now() - timedelta(days=days)
        async with self._sessionmaker() as session:
            rows = (
                await session.execute(
                    select(Contract, Client, Call, CallFlag)
                    .join(Client, Client.id == Contract.client_id)
                    .join(Call, Call.client_id == Client.id)
                    .join(CallFlag, CallFlag.linkedid == Call.linkedid)
                    .where(
                        Contract.status.in_([ContractStatus.active, ContractStatus.draft]),
                        CallFlag.kind == CallFlagKind.risk,
                        Call.started_at >= since,
                        # Implied by the join, and lets the database start from the flags
                        # rather than read every call of the period.
                        Call.linkedid.in_(
                            select(CallFlag.linkedid).where(CallFlag.kind == CallFlagKind.risk)
                        ),
                    )
                    .order_by(Call.started_at, Call.id)
                )
            ).all()
        found: dict[int, ContractAtRisk] = {}
        for contract, client, call, _flag in rows:
            previous = found.get(contract.id)
            found[contract.id] = ContractAtRisk(
                contract, client, (previous.flags if previous else 0) + 1, call
            )
        return sorted(found.values(), key=lambda c: -c.last_call.started_at.timestamp())
