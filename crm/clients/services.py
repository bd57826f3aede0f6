"""Clients: added with encrypted phones, found by number or name, their details kept."""

from __future__ import annotations

import uuid
from datetime import date, datetime, tzinfo

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from crm.clients.errors import NoSuchClient
from crm.clients.models import Client, ClientPhone, ClientStatus
from crm.contracts.models import Contract
from crm.core.clock import Clock, utc_now
from crm.core.crypto import PersonalDataCipher
from crm.core.errors import N_
from crm.core.formatting import FIRM_TIMEZONE, search_key
from crm.core.inputs import optional_text, required_text
from crm.core.phones import normalise_phone
from crm.core.service import Service
from crm.courts.models import Hearing
from crm.staff.errors import NoSuchEmployee
from crm.staff.models import Employee

PHONE_TABLE = "client_phones"
PHONE_COLUMN = "number_ciphertext"


def short_name_of(full_name: str) -> str:
    """ "Иванов Иван Иванович" → "Иванов И. И."; a lone surname stays as it is."""
    surname, *given_names = full_name.split()
    initials = " ".join(f"{name[0].upper()}." for name in given_names)
    return f"{surname} {initials}" if initials else surname


class ClientService(Service):
    """Clients and their phone numbers, which are stored only encrypted and blind-indexed."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        cipher: PersonalDataCipher,
        *,
        phone_region: str = "RU",
        firm_timezone: tzinfo = FIRM_TIMEZONE,
        now: Clock = utc_now,
    ) -> None:
        super().__init__(sessionmaker, now=now)
        self._cipher = cipher
        self._phone_region = phone_region
        self._firm_timezone = firm_timezone

    async def add_client(
        self,
        full_name: str,
        phones: list[str],
        *,
        topic: str | None = None,
        source: str | None = None,
        lawyer_id: int | None = None,
        first_contact_on: date | None = None,
    ) -> Client:
        """Create a client with its phones. Every input is checked before anything is
        written, so a bad number leaves no half-saved client behind."""
        full_name = required_text(full_name, N_("ФИО"), 200)
        numbers = self._normalise_all(phones)
        now = self._now()
        client = Client(
            full_name=full_name,
            short_name=short_name_of(full_name)[:100],
            name_key=search_key(full_name),
            first_contact_on=first_contact_on or now.astimezone(self._firm_timezone).date(),
            topic=optional_text(topic, N_("Тема"), 200),
            source=optional_text(source, N_("Источник"), 100),
            lawyer_id=lawyer_id,
            created_at=now,
        )
        async with self._sessionmaker() as session:
            if lawyer_id is not None and await session.get(Employee, lawyer_id) is None:
                raise NoSuchEmployee()
            session.add(client)
            await session.flush()  # the phones are bound to the client's id
            for number in numbers:
                session.add(self._encrypted_phone(client.id, number, None, now))
            await session.commit()
        return client

    async def add_phone(self, client_id: int, raw: str, *, label: str | None = None) -> None:
        """Add a number to a client; a number the client already has is not added twice."""
        number = normalise_phone(raw, self._phone_region)
        label = optional_text(label, N_("Метка"), 50)
        number_index = self._cipher.blind_index(number)
        async with self._sessionmaker() as session:
            if await session.get(Client, client_id) is None:
                raise NoSuchClient()
            if any(p.number_index == number_index for p in await _phones_of(session, client_id)):
                return
            session.add(self._encrypted_phone(client_id, number, label, self._now()))
            await session.commit()

    async def find_clients_by_phone(self, raw: str) -> list[Client]:
        """Clients having this number, in any format it may be typed in; oldest first."""
        number = normalise_phone(raw, self._phone_region)
        async with self._sessionmaker() as session:
            having = select(ClientPhone.client_id).where(
                ClientPhone.number_index == self._cipher.blind_index(number)
            )
            return list(
                await session.scalars(
                    select(Client).where(Client.id.in_(having)).order_by(Client.id)
                )
            )

    async def phone_numbers(self, client_id: int) -> list[str]:
        """The client's numbers in E.164, decrypted.

        For the telephony side only (dialling, matching a caller): no page, websocket
        message, export or log line may carry what this returns.
        """
        async with self._sessionmaker() as session:
            if await session.get(Client, client_id) is None:
                raise NoSuchClient()
            phones = await _phones_of(session, client_id)
        return [
            self._cipher.decrypt(
                phone.number_ciphertext, table=PHONE_TABLE, column=PHONE_COLUMN, row_id=phone.id
            )
            for phone in phones
        ]

    async def all_phone_numbers(self) -> list[tuple[int, str]]:
        """(client id, E.164) of every stored number, decrypted; for the masking table only."""
        async with self._sessionmaker() as session:
            phones = list(
                await session.scalars(
                    select(ClientPhone).order_by(ClientPhone.created_at, ClientPhone.id)
                )
            )
        return [
            (
                phone.client_id,
                self._cipher.decrypt(
                    phone.number_ciphertext, table=PHONE_TABLE, column=PHONE_COLUMN, row_id=phone.id
                ),
            )
            for phone in phones
        ]

    async def search_clients(
        self, query: str, *, lawyer_id: int | None = None, limit: int = 50
    ) -> list[Client]:
        """Clients whose name contains `query` (any case, ё as е), or whose code it is."""
        key = search_key(query)[:100]
        if not key:
            return []
        async with self._sessionmaker() as session:
            condition = Client.name_key.contains(key, autoescape=True)
            code = key.removeprefix("c")
            if code.isdigit():
                condition = condition | (Client.id == int(code))
            statement = (
                select(Client).where(condition).order_by(Client.full_name, Client.id).limit(limit)
            )
            if lawyer_id is not None:
                statement = statement.where(Client.lawyer_id == lawyer_id)
            return list(await session.scalars(statement))

    async def list_clients(self, *, lawyer_id: int | None = None, limit: int = 50) -> list[Client]:
        """The newest clients, or a lawyer's own; a start page's list, not a search."""
        async with self._sessionmaker() as session:
            query = select(Client).order_by(Client.id.desc()).limit(limit)
            if lawyer_id is not None:
                query = query.where(Client.lawyer_id == lawyer_id)
            return list(await session.scalars(query))

    async def filter_clients(
        self,
        *,
        name: str = "",
        came_from: date | None = None,
        came_to: date | None = None,
        topic: str = "",
        status: ClientStatus | None = None,
        lawyer_id: int | None = None,
        represented_by: int | None = None,
        limit: int = 200,
    ) -> tuple[list[tuple[Client, Employee | None]], int]:
        """The clients tab: by first-contact period, topic, status ("заключка"), lawyer and
        name; the newest first, with how many match in all."""
        condition: ColumnElement[bool] = true()
        key = search_key(name)[:100]
        if key:
            condition = condition & Client.name_key.contains(key, autoescape=True)
        if came_from is not None:
            condition = condition & (Client.first_contact_on >= came_from)
        if came_to is not None:
            condition = condition & (Client.first_contact_on <= came_to)
        if topic.strip():
            condition = condition & (Client.topic == topic.strip()[:200])
        if status is not None:
            condition = condition & (Client.status == status)
        if lawyer_id is not None:
            condition = condition & (Client.lawyer_id == lawyer_id)
        if represented_by is not None:
            # A court representative's clients: those in whose cases they go to court.
            condition = condition & Client.id.in_(
                select(Contract.client_id)
                .join(Hearing, Hearing.contract_id == Contract.id)
                .where(Hearing.representative_id == represented_by)
            )
        async with self._sessionmaker() as session:
            total = await session.scalar(select(func.count()).select_from(Client).where(condition))
            rows = (
                await session.execute(
                    select(Client, Employee)
                    .outerjoin(Employee, Employee.id == Client.lawyer_id)
                    .where(condition)
                    .order_by(Client.first_contact_on.desc(), Client.id.desc())
                    .limit(limit)
                )
            ).all()
        return [(client, lawyer) for client, lawyer in rows], int(total or 0)

    async def topics(self) -> list[str]:
        """The topics in use, for the filter's list."""
        async with self._sessionmaker() as session:
            return [
                topic
                for topic in await session.scalars(
                    select(Client.topic).where(Client.topic.is_not(None)).distinct().limit(200)
                )
                if topic
            ]

    async def update_details(
        self,
        client_id: int,
        *,
        full_name: str | None = None,
        topic: str | None = None,
        source: str | None = None,
    ) -> Client:
        """Name (a lead becomes a person), topic and source, as the operator learns them."""
        name = required_text(full_name, N_("ФИО"), 200) if full_name is not None else None
        topic_text = optional_text(topic, N_("Тема"), 200)
        source_text = optional_text(source, N_("Источник"), 100)
        async with self._sessionmaker() as session:
            client = await session.get(Client, client_id)
            if client is None:
                raise NoSuchClient()
            if name is not None:
                client.full_name = name
                client.short_name = short_name_of(name)[:100]
                client.name_key = search_key(name)
            client.topic = topic_text
            client.source = source_text
            await session.commit()
        return client

    async def count_clients(self) -> int:
        async with self._sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(Client)) or 0)

    async def get_client(self, client_id: int) -> Client:
        async with self._sessionmaker() as session:
            client = await session.get(Client, client_id)
        if client is None:
            raise NoSuchClient()
        return client

    def _normalise_all(self, raw_numbers: list[str]) -> list[str]:
        numbers: list[str] = []
        for raw in raw_numbers:
            number = normalise_phone(raw, self._phone_region)
            # The same number typed twice in two formats is one number.
            if number not in numbers:
                numbers.append(number)
        return numbers

    def _encrypted_phone(
        self, client_id: int, number: str, label: str | None, created_at: datetime
    ) -> ClientPhone:
        # The id is made here, not by the database: the ciphertext is bound to it.
        phone_id = uuid.uuid4().hex
        return ClientPhone(
            id=phone_id,
            client_id=client_id,
            number_ciphertext=self._cipher.encrypt(
                number, table=PHONE_TABLE, column=PHONE_COLUMN, row_id=phone_id
            ),
            number_index=self._cipher.blind_index(number),
            label=label,
            created_at=created_at,
        )


async def _phones_of(session: AsyncSession, client_id: int) -> list[ClientPhone]:
    return list(
        await session.scalars(
            select(ClientPhone)
            .where(ClientPhone.client_id == client_id)
            .order_by(ClientPhone.created_at, ClientPhone.id)
        )
    )
