"""Server-side web sessions: tokens stored only as hashes, idle timeout, ending."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.auth.models import WebSession
from crm.auth.services import WebSessionService
from crm.core.roles import Role
from crm.staff.errors import NoSuchEmployee
from crm.staff.models import Employee
from crm.staff.services import StaffService

IDLE_MINUTES = 60


class ManualClock:
    """A clock that moves only when told: idle timeouts are tested without sleeping."""

    def __init__(self) -> None:
        self.current = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, minutes: float) -> None:
        self.current += timedelta(minutes=minutes)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sessions(
    sessionmaker: async_sessionmaker[AsyncSession], clock: ManualClock
) -> WebSessionService:
    return WebSessionService(sessionmaker, now=clock)


@pytest.fixture
async def employee(sessionmaker: async_sessionmaker[AsyncSession]) -> Employee:
    return await StaffService(sessionmaker).create_employee(
        "operator", "Операторова Ольга", Role.operator, "long enough password"
    )


async def _stored_sessions(sessionmaker: async_sessionmaker[AsyncSession]) -> list[WebSession]:
    async with sessionmaker() as session:
        return list((await session.execute(select(WebSession))).scalars())


async def test_start_stores_only_the_hash_of_the_token(
    sessions: WebSessionService,
    employee: Employee,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    token, csrf_token = await sessions.start(employee.id)
    assert len(token) >= 43 and len(csrf_token) >= 43
    assert token != csrf_token
    (stored,) = await _stored_sessions(sessionmaker)
    assert stored.id == hashlib.sha256(token.encode()).hexdigest()
    assert stored.id != token
    assert stored.csrf_token == csrf_token
    assert stored.ended_at is None


async def test_resolve(sessions: WebSessionService, employee: Employee) -> None:
    token, csrf_token = await sessions.start(employee.id)
    resolved = await sessions.resolve(token, IDLE_MINUTES)
    assert resolved is not None
    resolved_employee, web_session = resolved
    assert resolved_employee.id == employee.id
    assert resolved_employee.role is Role.operator
    assert web_session.csrf_token == csrf_token
    assert await sessions.resolve("not a token we gave", IDLE_MINUTES) is None
    assert await sessions.resolve(token + "x", IDLE_MINUTES) is None


async def test_activity_keeps_a_session_alive_and_idleness_ends_it(
    sessions: WebSessionService,
    employee: Employee,
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    token, _ = await sessions.start(employee.id)
    # Each visit moves last_seen_at, so a busy day is longer than the idle limit.
    for _ in range(3):
        clock.advance(IDLE_MINUTES - 1)
        assert await sessions.resolve(token, IDLE_MINUTES) is not None
    (stored,) = await _stored_sessions(sessionmaker)
    assert stored.last_seen_at == clock.current

    clock.advance(IDLE_MINUTES + 1)
    assert await sessions.resolve(token, IDLE_MINUTES) is None
    (stored,) = await _stored_sessions(sessionmaker)
    assert stored.ended_at == clock.current
    # Ended for good: coming back "earlier" does not revive it.
    assert await sessions.resolve(token, IDLE_MINUTES, now=stored.last_seen_at) is None


async def test_now_can_be_passed_to_resolve(
    sessions: WebSessionService, employee: Employee, clock: ManualClock
) -> None:
    token, _ = await sessions.start(employee.id)
    assert (
        await sessions.resolve(token, IDLE_MINUTES, now=clock.current + timedelta(hours=2)) is None
    )


async def test_end(sessions: WebSessionService, employee: Employee) -> None:
    token, _ = await sessions.start(employee.id)
    other_token, _ = await sessions.start(employee.id)
    await sessions.end(token)
    assert await sessions.resolve(token, IDLE_MINUTES) is None
    assert await sessions.resolve(other_token, IDLE_MINUTES) is not None
    await sessions.end(token)  # twice: harmless
    await sessions.end("never issued")


async def test_end_all_for(sessions: WebSessionService, employee: Employee) -> None:
    tokens = [(await sessions.start(employee.id))[0] for _ in range(3)]
    await sessions.end(tokens[0])
    assert await sessions.end_all_for(employee.id) == 2
    for token in tokens:
        assert await sessions.resolve(token, IDLE_MINUTES) is None
    assert await sessions.end_all_for(employee.id) == 0


async def test_no_session_for_a_deactivated_or_unknown_employee(
    sessions: WebSessionService, employee: Employee, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await StaffService(sessionmaker).deactivate(employee.id)
    with pytest.raises(NoSuchEmployee):
        await sessions.start(employee.id)
    with pytest.raises(NoSuchEmployee):
        await sessions.start(4242)


async def test_session_of_an_employee_switched_off_behind_our_back(
    sessions: WebSessionService, employee: Employee, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # Deactivation normally ends sessions itself; resolve must hold even if a row says
    # inactive while a session is still open (e.g. changed by hand in the database).
    token, _ = await sessions.start(employee.id)
    async with sessionmaker() as session:
        stored = await session.get(Employee, employee.id)
        assert stored is not None
        stored.is_active = False
        await session.commit()
    assert await sessions.resolve(token, IDLE_MINUTES) is None
