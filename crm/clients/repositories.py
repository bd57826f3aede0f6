"""Queries of clients and their phones; they flush at most and never commit."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.clients.models import Client, ClientPhone


class ClientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, client_id: int) -> Client | None:
        return await self._session.get(Client, client_id)

    async def count(self) -> int:
        return int(await self._session.scalar(select(func.count()).select_from(Client)) or 0)

    async def add(self, client: Client) -> None:
        """Add and flush, so that the client has its id (its phones need it)."""
        self._session.add(client)
        await self._session.flush()

    def add_phone(self, phone: ClientPhone) -> None:
        self._session.add(phone)

    async def phones_of(self, client_id: int) -> list[ClientPhone]:
        result = await self._session.execute(
            select(ClientPhone)
            .where(ClientPhone.client_id == client_id)
            .order_by(ClientPhone.created_at, ClientPhone.id)
        )
        return list(result.scalars())

    async def find_by_phone_index(self, number_index: str) -> list[Client]:
        result = await self._session.execute(
            select(Client)
            .where(
                Client.id.in_(
                    select(ClientPhone.client_id).where(ClientPhone.number_index == number_index)
                )
            )
            .order_by(Client.id)
        )
        return list(result.scalars())
