"""Use-cases of the CRM: each method is one transaction over the repositories."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from crm.crypto import PersonalDataCipher
from crm.errors import (
    InvalidInput,
    LoginTaken,
    NoSuchClient,
    NoSuchEmployee,
    SipExtensionTaken,
)
from crm.formatting import FIRM_TIMEZONE as FIRM_TIMEZONE  # re-exported: older imports
from crm.formatting import search_key
from crm.inputs import optional_text as _optional_text
from crm.inputs import required_text as _required_text
from crm.models import (
    Client,
    ClientPhone,
    ClientStatus,
    Contract,
    Employee,
    Hearing,
    WebSession,
    utc_now,
)
from crm.passwords import (
    check_password_strength,
    dummy_password_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from crm.phones import normalise_phone
from crm.repositories import ClientRepository, EmployeeRepository, WebSessionRepository
from crm.roles import Role

Clock = Callable[[], datetime]

_LOGIN = re.compile(r"[a-z0-9._-]{2,64}")
_SIP_EXTENSION = re.compile(r"[0-9]{2,8}")

PHONE_TABLE = "client_phones"
PHONE_COLUMN = "number_ciphertext"


def normalise_login(login: str) -> str:
    """Logins are compared in lower case: "Ivanova" and "ivanova" are one login."""
    return login.strip().lower()


def short_name_of(full_name: str) -> str:
    """ "Иванов Иван Иванович" → "Иванов И. И."; a lone surname stays as it is."""
    surname, *given_names = full_name.split()
    initials = " ".join(f"{name[0].upper()}." for name in given_names)
    return f"{surname} {initials}" if initials else surname


class EmployeeService:
    """Accounts of the firm's employees: creating, signing in, switching off."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, now: Clock = utc_now
    ) -> None:
        self._sessionmaker = sessionmaker
        self._now = now

    async def create_employee(
        self,
        login: str,
        full_name: str,
        role: Role,
        password: str,
        sip_extension: str | None = None,
    ) -> Employee:
        login = normalise_login(login)
        if not _LOGIN.fullmatch(login):
            raise InvalidInput(
                "Логин: от 2 до 64 символов — латинские буквы, цифры, точка, дефис, подчёркивание"
            )
        full_name = _required_text(full_name, "ФИО", 200)
        if sip_extension is not None:
            sip_extension = sip_extension.strip()
            if not _SIP_EXTENSION.fullmatch(sip_extension):
                raise InvalidInput("Внутренний номер: от 2 до 8 цифр")
        check_password_strength(password)
        # argon2 takes tens of milliseconds of CPU: off the event loop, before the transaction.
        password_hash = await asyncio.to_thread(hash_password, password)
        employee = Employee(
            login=login,
            full_name=full_name,
            role=Role(role),
            password_hash=password_hash,
            is_active=True,
            sip_extension=sip_extension,
            created_at=self._now(),
        )
        async with self._sessionmaker() as session:
            employees = EmployeeRepository(session)
            if await employees.get_by_login(login) is not None:
                raise LoginTaken()
            if (
                sip_extension is not None
                and await employees.get_by_sip_extension(sip_extension) is not None
            ):
                raise SipExtensionTaken()
            employees.add(employee)
            try:
                await session.commit()
            except IntegrityError:
                # Someone took the login or extension between our check and our insert.
                await session.rollback()
                if await employees.get_by_login(login) is not None:
                    raise LoginTaken() from None
                raise SipExtensionTaken() from None
        return employee

    async def authenticate(self, login: str, password: str) -> Employee | None:
        """The employee if the login and password match and the account is active, else None.

        An unknown login still costs one argon2 check, so response times do not reveal
        which logins exist.
        """
        login = normalise_login(login)
        async with self._sessionmaker() as session:
            employees = EmployeeRepository(session)
            employee = await employees.get_by_login(login)
            if employee is None:
                await asyncio.to_thread(verify_password, dummy_password_hash(), password)
                return None
            if not await asyncio.to_thread(verify_password, employee.password_hash, password):
                return None
            if not employee.is_active:
                return None
            if needs_rehash(employee.password_hash):
                employee.password_hash = await asyncio.to_thread(hash_password, password)
                await session.commit()
            return employee

    async def get_employee(self, employee_id: int) -> Employee:
        async with self._sessionmaker() as session:
            employee = await EmployeeRepository(session).get(employee_id)
        if employee is None:
            raise NoSuchEmployee()
        return employee

    async def list_employees(self) -> list[Employee]:
        async with self._sessionmaker() as session:
            return list(await session.scalars(select(Employee).order_by(Employee.full_name)))

    async def find_by_login(self, login: str) -> Employee | None:
        async with self._sessionmaker() as session:
            return await EmployeeRepository(session).get_by_login(normalise_login(login))

    async def set_password(self, employee_id: int, password: str) -> None:
        """Give the account a new password; its open web sessions end with the old one."""
        check_password_strength(password)
        password_hash = await asyncio.to_thread(hash_password, password)
        async with self._sessionmaker() as session:
            employee = await EmployeeRepository(session).get(employee_id)
            if employee is None:
                raise NoSuchEmployee()
            employee.password_hash = password_hash
            await WebSessionRepository(session).end_all_for(employee_id, self._now())
            await session.commit()

    async def count_administrators(self) -> int:
        """How many active administrators there are (`lexcrm init` creates the first one)."""
        async with self._sessionmaker() as session:
            return await EmployeeRepository(session).count_active_with_role(Role.administrator)

    async def deactivate(self, employee_id: int) -> None:
        """Switch the account off and end its web sessions, in one transaction."""
        async with self._sessionmaker() as session:
            employee = await EmployeeRepository(session).get(employee_id)
            if employee is None:
                raise NoSuchEmployee()
            employee.is_active = False
            await WebSessionRepository(session).end_all_for(employee_id, self._now())
            await session.commit()


class ClientService:
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
        self._sessionmaker = sessionmaker
        self._cipher = cipher
        self._phone_region = phone_region
        self._firm_timezone = firm_timezone
        self._now = now

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
        full_name = _required_text(full_name, "ФИО", 200)
        numbers = self._normalise_all(phones)
        now = self._now()
        client = Client(
            full_name=full_name,
            short_name=short_name_of(full_name)[:100],
            name_key=search_key(full_name),
            first_contact_on=first_contact_on or now.astimezone(self._firm_timezone).date(),
            topic=_optional_text(topic, "Тема", 200),
            source=_optional_text(source, "Источник", 100),
            lawyer_id=lawyer_id,
            created_at=now,
        )
        async with self._sessionmaker() as session:
            if lawyer_id is not None and await EmployeeRepository(session).get(lawyer_id) is None:
                raise NoSuchEmployee()
            clients = ClientRepository(session)
            await clients.add(client)
            for number in numbers:
                clients.add_phone(self._encrypted_phone(client.id, number, None, now))
            await session.commit()
        return client

    async def add_phone(self, client_id: int, raw: str, *, label: str | None = None) -> None:
        """Add a number to a client; a number the client already has is not added twice."""
        number = normalise_phone(raw, self._phone_region)
        label = _optional_text(label, "Метка", 50)
        number_index = self._cipher.blind_index(number)
        async with self._sessionmaker() as session:
            clients = ClientRepository(session)
            if await clients.get(client_id) is None:
                raise NoSuchClient()
            if any(p.number_index == number_index for p in await clients.phones_of(client_id)):
                return
            clients.add_phone(self._encrypted_phone(client_id, number, label, self._now()))
            await session.commit()

    async def find_clients_by_phone(self, raw: str) -> list[Client]:
        """Clients having this number, in any format it may be typed in; oldest first."""
        number = normalise_phone(raw, self._phone_region)
        async with self._sessionmaker() as session:
            return await ClientRepository(session).find_by_phone_index(
                self._cipher.blind_index(number)
            )

    async def phone_numbers(self, client_id: int) -> list[str]:
        """The client's numbers in E.164, decrypted.

        For the telephony side only (dialling, matching a caller): no page, websocket
        message, export or log line may carry what this returns.
        """
        async with self._sessionmaker() as session:
            clients = ClientRepository(session)
            if await clients.get(client_id) is None:
                raise NoSuchClient()
            phones = await clients.phones_of(client_id)
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
                await session.scalars(select(ClientPhone).order_by(ClientPhone.created_at))
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
            statement = select(Client).where(condition).order_by(Client.full_name).limit(limit)
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
        name = _required_text(full_name, "ФИО", 200) if full_name is not None else None
        topic_text = _optional_text(topic, "Тема", 200)
        source_text = _optional_text(source, "Источник", 100)
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
            return await ClientRepository(session).count()

    async def get_client(self, client_id: int) -> Client:
        async with self._sessionmaker() as session:
            client = await ClientRepository(session).get(client_id)
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


def _session_id(token: str) -> str:
    # Only the hash is stored: a copy of the database does not let anyone sign in.
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()


class WebSessionService:
    """Server-side sessions of the web interface; the browser holds only a random token."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, now: Clock = utc_now
    ) -> None:
        self._sessionmaker = sessionmaker
        self._now = now

    async def start(self, employee_id: int) -> tuple[str, str]:
        """Open a session for an active employee; returns (session token, CSRF token)."""
        token = secrets.token_urlsafe(32)
        csrf_token = secrets.token_urlsafe(32)
        now = self._now()
        async with self._sessionmaker() as session:
            employee = await EmployeeRepository(session).get(employee_id)
            if employee is None or not employee.is_active:
                raise NoSuchEmployee("Сотрудник не найден или его учётная запись отключена")
            WebSessionRepository(session).add(
                WebSession(
                    id=_session_id(token),
                    employee_id=employee_id,
                    csrf_token=csrf_token,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            await session.commit()
        return token, csrf_token

    async def resolve(
        self, token: str, idle_minutes: int, now: datetime | None = None
    ) -> tuple[Employee, WebSession] | None:
        """The employee and session behind a token, marking the session as just seen.

        None if there is no such session, it was ended, it has been idle longer than
        `idle_minutes` (it is ended then), or the employee has been switched off.
        """
        now = now or self._now()
        async with self._sessionmaker() as session:
            found = await WebSessionRepository(session).get_with_employee(_session_id(token))
            if found is None:
                return None
            web_session, employee = found
            if web_session.ended_at is not None:
                return None
            if (
                now - web_session.last_seen_at > timedelta(minutes=idle_minutes)
                or not employee.is_active
            ):
                web_session.ended_at = now
                await session.commit()
                return None
            web_session.last_seen_at = now
            await session.commit()
            return employee, web_session

    async def end(self, token: str) -> None:
        """End the session behind the token (signing out); an unknown token is ignored."""
        async with self._sessionmaker() as session:
            found = await WebSessionRepository(session).get_with_employee(_session_id(token))
            if found is None or found[0].ended_at is not None:
                return
            found[0].ended_at = self._now()
            await session.commit()

    async def end_all_for(self, employee_id: int) -> int:
        """End every open session of the employee; returns how many there were."""
        async with self._sessionmaker() as session:
            ended = await WebSessionRepository(session).end_all_for(employee_id, self._now())
            await session.commit()
        return ended
