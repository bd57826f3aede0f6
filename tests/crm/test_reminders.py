"""Reminders to call clients: what makes one, what settles one, when it shows; real SQLite."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.clients.errors import NoSuchClient
from crm.clients.models import Client
from crm.contracts.models import Contract, ContractStatus
from crm.contracts.services import ContractService
from crm.core.errors import InvalidInput
from crm.core.formatting import FIRM_TIMEZONE, search_key
from crm.core.roles import Role
from crm.courts.services import CourtService
from crm.finance.services import FinanceService
from crm.reminders.models import Reminder, ReminderKind, ReminderStatus
from crm.reminders.oversight import ReminderOversight
from crm.reminders.rules import (
    ReminderRules,
    RetryStep,
    parse_hours,
    parse_ladder,
    parse_topic_periods,
    parse_work_days,
)
from crm.reminders.services import ReminderService
from crm.staff.models import Employee

MSK = FIRM_TIMEZONE
RULES = ReminderRules()  # the defaults: 30 days, 20 s, 2h / next day / 3d, 9-19 Mon-Fri MSK
_numbers = itertools.count(1)


def msk(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=MSK)


# Monday 30 November 2026, 10:00 in Moscow: a working morning.
MONDAY_MORNING = msk(11, 30, 10)


class Clock:
    """The injected clock: moves only when a test says so."""

    def __init__(self, at: datetime) -> None:
        self.now = at

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Firm:
    head: int
    lawyer: int
    other_lawyer: int
    defender: int
    client: int
    contract: int


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_MORNING)


@pytest.fixture
def reminders(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> ReminderService:
    return ReminderService(sessionmaker, RULES, now=clock)


@pytest.fixture
def oversight(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> ReminderOversight:
    return ReminderOversight(sessionmaker, now=clock)


async def _employee(
    sessionmaker: async_sessionmaker[AsyncSession],
    login: str,
    role: Role,
    head: int | None = None,
) -> int:
    async with sessionmaker() as session:
        employee = Employee(
            login=login, full_name=login.title(), role=role, password_hash="x", head_id=head
        )
        session.add(employee)
        await session.commit()
        return employee.id


async def _client(
    sessionmaker: async_sessionmaker[AsyncSession], name: str, topic: str | None = None
) -> int:
    async with sessionmaker() as session:
        client = Client(
            full_name=name,
            short_name=name,
            name_key=search_key(name),
            first_contact_on=date(2026, 9, 1),
            topic=topic,
        )
        session.add(client)
        await session.commit()
        return client.id


async def _contract(
    sessionmaker: async_sessionmaker[AsyncSession],
    client: int,
    lawyer: int,
    *,
    signed_on: date = date(2026, 10, 1),
    period_days: int | None = None,
) -> int:
    contract = await ContractService(sessionmaker, now=lambda: msk(10, 1, 12)).add_contract(
        client_id=client,
        lawyer_id=lawyer,
        number=f"Д-{next(_numbers)}",
        amount="1000",
        essence="Иск",
        signed_on=signed_on,
    )
    if period_days is not None:
        async with sessionmaker() as session:
            await session.execute(
                update(Contract)
                .where(Contract.id == contract.id)
                .values(call_period_days=period_days)
            )
            await session.commit()
    return contract.id


@pytest.fixture
async def firm(sessionmaker: async_sessionmaker[AsyncSession]) -> Firm:
    head = await _employee(sessionmaker, "head", Role.lawyer)
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer, head)
    other = await _employee(sessionmaker, "other", Role.lawyer, head)
    defender = await _employee(sessionmaker, "defender", Role.court_representative, head)
    client = await _client(sessionmaker, "Ёлкина Анна Петровна")
    contract = await _contract(sessionmaker, client, lawyer)
    return Firm(head, lawyer, other, defender, client, contract)


async def _call(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    employee: int,
    client: int,
    started: datetime,
    answered_after: float | None = None,
    ring: float = 30,
    direction: CallDirection = CallDirection.outbound,
    comment: str | None = None,
    ended: bool = True,
    own_phone: float | None = 0,
) -> int:
    """A call record as the controller leaves it: started, maybe answered, ended.

    `own_phone`: how long a click-to-call rang the employee's own phone before the client
    was dialled (None: the client never was)."""
    answered = started + timedelta(seconds=answered_after) if answered_after is not None else None
    end = (answered + timedelta(minutes=3)) if answered else started + timedelta(seconds=ring)
    dialled = None
    if direction is CallDirection.outbound and own_phone is not None:
        dialled = started + timedelta(seconds=own_phone)
    async with sessionmaker() as session:
        call = Call(
            linkedid=f"call-{next(_numbers)}",
            direction=direction,
            client_id=client,
            employee_id=employee,
            started_at=started,
            answered_at=answered,
            ended_at=end if ended else None,
            client_ringing_at=dialled,
            disposition=("answered" if answered else "no_answer") if ended else None,
            comment=comment,
        )
        session.add(call)
        await session.commit()
        return call.id


async def _end_call(
    sessionmaker: async_sessionmaker[AsyncSession], call_id: int, at: datetime, *, answered: bool
) -> None:
    async with sessionmaker() as session:
        call = await session.get(Call, call_id)
        assert call is not None
        call.ended_at = at
        if answered:
            call.answered_at = call.started_at + timedelta(seconds=5)
        await session.commit()


async def _comment(sessionmaker: async_sessionmaker[AsyncSession], call_id: int, text: str) -> None:
    async with sessionmaker() as session:
        await session.execute(update(Call).where(Call.id == call_id).values(comment=text))
        await session.commit()


async def _reminders(
    sessionmaker: async_sessionmaker[AsyncSession], *, client: int | None = None
) -> list[Reminder]:
    statement = select(Reminder).order_by(Reminder.id)
    if client is not None:
        statement = statement.where(Reminder.client_id == client)
    async with sessionmaker() as session:
        return list(await session.scalars(statement))


async def _open(
    sessionmaker: async_sessionmaker[AsyncSession], *, client: int | None = None
) -> list[Reminder]:
    return [
        r for r in await _reminders(sessionmaker, client=client) if r.status is ReminderStatus.open
    ]


async def _manual(
    reminders: ReminderService, firm: Firm, due_at: datetime, *, employee: int | None = None
) -> Reminder:
    return await reminders.add_manual(
        employee_id=employee or firm.lawyer,
        client_id=firm.client,
        due_at=due_at,
        reason="Уточнить дату суда",
        created_by_id=firm.head,
    )


async def _payment_reminder(reminders: ReminderService, firm: Firm, due_at: datetime) -> Reminder:
    """A second reminder about the same client, for a payment."""
    return await reminders.add_manual(
        employee_id=firm.lawyer,
        client_id=firm.client,
        due_at=due_at,
        reason="Напомнить об оплате",
        created_by_id=firm.head,
    )


# --- the rules on their own ------------------------------------------------------------


def test_settings_text_becomes_rules() -> None:
    assert parse_ladder("2h, next-day ,3d") == RULES.retry_ladder
    assert parse_ladder("30m") == (RetryStep(delay=timedelta(minutes=30)),)
    assert parse_topic_periods("банкротство=14; ДТП=21;") == {"банкротство": 14, "ДТП": 21}
    assert parse_work_days("1-5") == frozenset(range(5))
    assert parse_work_days("1,3,6-7") == frozenset({0, 2, 5, 6})
    assert parse_hours("09:00-19:00") == (time(9), time(19))
    assert parse_hours("00:00-24:00") == (time(0), time.max)


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_ladder, "2x"),
        (parse_ladder, "0h"),
        (parse_ladder, "-2h"),
        (parse_topic_periods, "банкротство"),
        (parse_topic_periods, "банкротство=0"),
        (parse_topic_periods, "=14"),
        (parse_work_days, "0-5"),
        (parse_work_days, "5-1"),
        (parse_work_days, "пн"),
        (parse_hours, "19:00-09:00"),
        (parse_hours, "25:99-26:00"),
        (parse_hours, "09:00"),
    ],
)
def test_bad_settings_text_is_refused(parse: Callable[[str], object], text: str) -> None:
    with pytest.raises(ValueError):
        parse(text)


@given(
    at=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    work_days=st.frozensets(st.integers(min_value=0, max_value=6), min_size=1),
)
def test_the_next_working_day_is_the_first_working_day_after_the_local_day(
    at: datetime, work_days: frozenset[int]
) -> None:
    rules = ReminderRules(work_days=work_days)
    start = rules.next_work_start(at)
    local_day = at.astimezone(MSK).date()
    assert start.astimezone(MSK).time() == rules.work_start
    assert start.date() > local_day and start.weekday() in work_days
    skipped = (local_day + timedelta(days=n) for n in range(1, (start.date() - local_day).days))
    assert all(day.weekday() not in work_days for day in skipped)
    assert rules.is_working_time(start)


@given(
    at=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    )
)
def test_working_time_is_judged_on_the_moscow_clock(at: datetime) -> None:
    local = at.astimezone(MSK)
    expected = local.weekday() < 5 and time(9) <= local.time() < time(19)
    assert RULES.is_working_time(at) is expected


def test_working_hours_edges_in_utc_and_moscow() -> None:
    # Moscow is UTC+3 all year: 09:00-19:00 there is 06:00-16:00 UTC.
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    assert not RULES.is_working_time(monday.replace(hour=5, minute=59, second=59))
    assert RULES.is_working_time(monday.replace(hour=6))
    assert RULES.is_working_time(monday.replace(hour=15, minute=59, second=59))
    assert not RULES.is_working_time(monday.replace(hour=16))
    # The same instants under a firm on UTC hours give the other answer.
    on_utc = ReminderRules(timezone=UTC)
    assert on_utc.is_working_time(monday.replace(hour=9))
    assert not RULES.is_working_time(monday.replace(hour=18))
    assert on_utc.is_working_time(monday.replace(hour=18))
    # Friday 23:30 UTC is already Saturday in Moscow.
    assert not RULES.is_working_time(datetime(2026, 11, 27, 23, 30, tzinfo=UTC))
    assert RULES.next_work_start(datetime(2026, 11, 27, 20, 59, tzinfo=UTC)) == msk(11, 30, 9)


# --- the monthly cadence ---------------------------------------------------------------


@pytest.mark.parametrize(("offset", "made"), [(-1, 0), (0, 1), (1, 1)])
async def test_cadence_falls_due_exactly_one_period_after_the_last_talk(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
    offset: int,
    made: int,
) -> None:
    talked = msk(10, 20, 15, 30)
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=talked,
        ring=5,
        answered_after=5,
    )
    clock.now = talked + timedelta(days=30, seconds=offset)
    assert await reminders.generate() == made
    if made:
        (reminder,) = await _reminders(sessionmaker)
        assert reminder.kind is ReminderKind.cadence and reminder.employee_id == firm.lawyer
        assert reminder.due_at == talked + timedelta(days=30)
        assert reminder.contract_id == firm.contract


async def test_a_contract_never_talked_about_counts_from_its_signing_day_in_moscow(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    # Signed 1 October; day one starts at 00:00 Moscow, which is 21:00 UTC on 30 September.
    due = datetime(2026, 10, 30, 21, 0, tzinfo=UTC)
    clock.now = due - timedelta(seconds=1)
    assert await reminders.generate() == 0
    clock.now = due
    assert await reminders.generate() == 1
    (reminder,) = await _reminders(sessionmaker)
    assert reminder.due_at == due


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    # Each example adds its own client and contract to the one database of the test and
    # looks only at that client's reminders.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    period=st.integers(min_value=1, max_value=120),
    talked=st.datetimes(
        min_value=datetime(2026, 10, 1), max_value=datetime(2026, 11, 1), timezones=st.just(UTC)
    ),
    offset=st.integers(min_value=-3 * 86_400, max_value=3 * 86_400),
)
async def test_cadence_exists_exactly_from_the_period_boundary(
    sessionmaker: async_sessionmaker[AsyncSession],
    firm: Firm,
    period: int,
    talked: datetime,
    offset: int,
) -> None:
    client = await _client(sessionmaker, f"Клиент {next(_numbers)}")
    await _contract(
        sessionmaker, client, firm.lawyer, signed_on=date(2026, 9, 1), period_days=period
    )
    await _call(sessionmaker, employee=firm.lawyer, client=client, started=talked, answered_after=3)
    now = talked + timedelta(days=period, seconds=offset)
    await ReminderService(sessionmaker, RULES, now=lambda: now).generate()
    made = await _reminders(sessionmaker, client=client)
    if offset < 0:
        assert made == []
    else:
        assert [r.due_at for r in made] == [talked + timedelta(days=period)]


async def test_only_an_answered_call_of_the_clients_own_lawyer_restarts_the_period(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    talked = msk(10, 20, 12)
    await _call(
        sessionmaker, employee=firm.lawyer, client=firm.client, started=talked, answered_after=5
    )
    # Later: another lawyer talked to the client, and our lawyer's own call went unanswered.
    await _call(
        sessionmaker,
        employee=firm.other_lawyer,
        client=firm.client,
        started=msk(11, 5, 12),
        answered_after=5,
    )
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=msk(11, 6, 12),
        comment="не взял трубку",
    )
    clock.now = talked + timedelta(days=30)
    assert await reminders.generate() == 1
    (reminder,) = await _reminders(sessionmaker)
    assert reminder.employee_id == firm.lawyer and reminder.due_at == talked + timedelta(days=30)


async def test_topic_period_then_contract_period_override_the_firms(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, firm: Firm
) -> None:
    rules = ReminderRules(topic_period_days={"банкротство": 14, "ДТП": 21})
    service = ReminderService(sessionmaker, rules, now=clock)
    bankrupt = await _client(sessionmaker, "Банкротов", topic="банкротство")
    await _contract(sessionmaker, bankrupt, firm.lawyer)
    urgent = await _client(sessionmaker, "Срочный", topic="банкротство")
    await _contract(sessionmaker, urgent, firm.lawyer, period_days=7)
    crash = await _client(sessionmaker, "Аварийный", topic="ДТП")
    await _contract(sessionmaker, crash, firm.lawyer)
    # Everyone signed 1 October (00:00 Moscow): the firm's client falls due on 31 October.
    starts = msk(10, 1)
    expected = {
        urgent: starts + timedelta(days=7),
        bankrupt: starts + timedelta(days=14),
        crash: starts + timedelta(days=21),
        firm.client: starts + timedelta(days=30),
    }
    clock.now = starts + timedelta(days=14) - timedelta(seconds=1)
    await service.generate()
    assert {r.client_id: r.due_at for r in await _reminders(sessionmaker)} == {
        urgent: expected[urgent]
    }
    clock.now = starts + timedelta(days=30)
    await service.generate()
    assert {r.client_id: r.due_at for r in await _reminders(sessionmaker)} == expected


async def test_two_contracts_with_one_lawyer_make_one_reminder_under_the_stricter(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    strict = await _contract(sessionmaker, firm.client, firm.lawyer, period_days=10)
    clock.now = msk(11, 30, 10)
    assert await reminders.generate() == 1
    (reminder,) = await _reminders(sessionmaker)
    assert reminder.contract_id == strict and reminder.due_at == msk(10, 11)


async def test_generating_again_makes_nothing_new(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    other_client = await _client(sessionmaker, "Второй")
    await _contract(sessionmaker, other_client, firm.other_lawyer)
    assert await reminders.generate() == 2
    before = [(r.id, r.occasion, r.due_at) for r in await _reminders(sessionmaker)]
    assert await reminders.generate() == 0
    clock.now += timedelta(hours=5)
    assert await reminders.generate() == 0
    assert [(r.id, r.occasion, r.due_at) for r in await _reminders(sessionmaker)] == before


async def test_after_a_talk_the_next_period_is_a_new_reminder(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    assert await reminders.generate() == 1
    assert await reminders.due_for(firm.lawyer) is not None
    talked = clock.now + timedelta(minutes=5)
    await _call(
        sessionmaker, employee=firm.lawyer, client=firm.client, started=talked, answered_after=8
    )
    clock.now = talked + timedelta(minutes=10)
    assert await reminders.due_for(firm.lawyer) is None
    assert await _open(sessionmaker) == []
    clock.now = talked + timedelta(days=30)
    assert await reminders.generate() == 1
    (new,) = await _open(sessionmaker)
    assert new.due_at == talked + timedelta(days=30)


async def test_a_contract_closed_in_between_cancels_its_reminder_and_makes_no_new_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await FinanceService(sessionmaker, now=clock).plan_payment(
        firm.contract, due_on=date(2026, 11, 30), amount="500", by_employee_id=firm.lawyer
    )
    assert await reminders.generate() == 2  # the cadence and the payment
    await ContractService(sessionmaker).set_status(firm.contract, ContractStatus.completed)
    clock.now += timedelta(minutes=1)
    assert await reminders.generate() == 0
    assert {r.status for r in await _reminders(sessionmaker)} == {ReminderStatus.cancelled}
    assert all(r.done_at == clock.now for r in await _reminders(sessionmaker))
    assert await reminders.due_for(firm.lawyer) is None
    clock.now += timedelta(days=45)
    assert await reminders.generate() == 0
    assert await _open(sessionmaker) == []


async def test_closing_one_of_two_contracts_keeps_the_client_on_the_cadence(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=msk(10, 20, 12),
        answered_after=5,
    )
    await _contract(sessionmaker, firm.client, firm.lawyer)
    assert await reminders.generate() == 1
    (first,) = await _open(sessionmaker)
    assert first.contract_id == firm.contract  # the first of equally strict contracts
    await ContractService(sessionmaker).set_status(firm.contract, ContractStatus.terminated)
    clock.now += timedelta(minutes=1)
    await reminders.generate()
    # The client still has an active contract with the lawyer: they must still be called.
    assert len(await _open(sessionmaker)) == 1


async def test_a_contract_handed_to_another_lawyer_moves_the_cadence_with_it(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    assert await reminders.generate() == 1
    async with sessionmaker() as session:
        await session.execute(
            update(Contract).where(Contract.id == firm.contract).values(lawyer_id=firm.other_lawyer)
        )
        await session.commit()
    clock.now += timedelta(minutes=1)
    assert await reminders.generate() == 1
    assert {(r.employee_id, r.status) for r in await _reminders(sessionmaker)} == {
        (firm.lawyer, ReminderStatus.cancelled),
        (firm.other_lawyer, ReminderStatus.open),
    }


# --- what settles a reminder -----------------------------------------------------------


async def test_an_answered_call_after_the_reminder_was_shown_settles_it(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    reminder = await _manual(reminders, firm, msk(11, 30, 9, 30))
    due = await reminders.due_for(firm.lawyer)
    assert due is not None and due.reminder.id == reminder.id and due.client.id == firm.client
    assert due.reminder.shown_at == clock.now and due.queued == 0
    call = await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=1),
        answered_after=10,
    )
    clock.now += timedelta(minutes=10)
    (settled,) = await reminders.settle(firm.lawyer)
    assert settled.id == reminder.id and settled.call_id == call
    assert settled.status is ReminderStatus.done and settled.done_at == clock.now
    assert await reminders.due_for(firm.lawyer) is None
    # Answered: nothing to try again.
    assert await _open(sessionmaker) == []


async def test_a_call_that_began_before_the_window_showed_does_not_settle_it(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    # A call already under way (started after the reminder fell due) when the window shows.
    call = await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now - timedelta(minutes=2),
        ended=False,
    )
    assert await reminders.due_for(firm.lawyer) is not None
    await _end_call(sessionmaker, call, clock.now + timedelta(minutes=3), answered=True)
    clock.now += timedelta(minutes=5)
    assert await reminders.settle(firm.lawyer) == []
    due = await reminders.due_for(firm.lawyer)
    assert due is not None and due.reminder.shown_at == MONDAY_MORNING


async def test_a_call_before_the_reminder_fell_due_does_not_settle_it(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=msk(11, 30, 9, 29, 59),
        answered_after=5,
    )
    assert await reminders.due_for(firm.lawyer) is not None


async def test_a_call_after_due_time_but_before_any_showing_settles_it_unseen(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    """The rule as built: a reminder never shown counts calls from its due time, so a lawyer
    who already rang the client (from the desk phone, say) is not stopped to ring again."""
    reminder = await _manual(reminders, firm, msk(11, 30, 9, 30))
    call = await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=msk(11, 30, 9, 30),
        answered_after=5,
    )
    assert await reminders.due_for(firm.lawyer) is None
    (stored,) = await _reminders(sessionmaker)
    assert stored.id == reminder.id and stored.status is ReminderStatus.done
    assert stored.shown_at is None and stored.call_id == call


@pytest.mark.parametrize(
    ("ring", "comment", "counts"),
    [
        (19.9, "не взял трубку", False),  # rang too briefly, even with a comment
        (45, None, False),  # rang long enough, but nobody wrote why
        (45, "   \n ", False),  # a blank comment is no comment
        (20, "не взял трубку", True),  # exactly the minimum ring
        (45, "не взял трубку", True),
    ],
)
async def test_an_unanswered_call_counts_only_after_a_long_ring_and_a_comment(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
    ring: float,
    comment: str | None,
    counts: bool,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    assert await reminders.due_for(firm.lawyer) is not None
    started = clock.now + timedelta(minutes=1)
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=started,
        ring=ring,
        comment=comment,
    )
    ended = started + timedelta(seconds=ring)
    clock.now += timedelta(minutes=10)
    settled = await reminders.settle(firm.lawyer)
    assert bool(settled) is counts
    if counts:
        (retry,) = await _open(sessionmaker)
        assert retry.kind is ReminderKind.retry and retry.attempt == 1
        # "In two hours" after the unanswered call.
        assert retry.due_at == ended + timedelta(hours=2)
        assert retry.contract_id is None and retry.employee_id == firm.lawyer


@pytest.mark.parametrize(
    ("ring", "own_phone", "counts"),
    [
        (45, None, False),  # the employee never picked up: the client was never dialled
        (45, 30, False),  # 30 s on the employee's phone, then 15 s on the client's
        (50, 25, True),  # the client's phone rang 25 s
    ],
)
async def test_a_click_to_call_counts_by_the_clients_ring_not_the_employees(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
    ring: float,
    own_phone: float | None,
    counts: bool,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    assert await reminders.due_for(firm.lawyer) is not None
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=1),
        ring=ring,
        own_phone=own_phone,
        comment="не взял трубку",
    )
    clock.now += timedelta(minutes=10)
    assert bool(await reminders.settle(firm.lawyer)) is counts
    due = await reminders.due_for(firm.lawyer)
    # A call that does not count leaves the window up.
    assert (due is None) is counts


async def test_one_unanswered_call_books_one_retry_for_all_the_clients_reminders(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    await _payment_reminder(reminders, firm, msk(11, 30, 9, 45))
    clock.now = msk(11, 30, 10)
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=1),
        ring=40,
        comment="не взял трубку",
    )
    clock.now += timedelta(minutes=5)
    assert len(await reminders.settle(firm.lawyer)) == 2
    (retry,) = await _open(sessionmaker)
    assert retry.kind is ReminderKind.retry and retry.attempt == 1
    assert retry.reason == (
        "Клиент не ответил (Уточнить дату суда); Клиент не ответил (Напомнить об оплате)"
    )


async def test_two_unanswered_calls_in_one_settling_book_one_retry(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    clock.now = msk(11, 30, 9, 40)
    assert await reminders.due_for(firm.lawyer) is not None
    first = clock.now + timedelta(minutes=1)
    await _call(sessionmaker, employee=firm.lawyer, client=firm.client, started=first, ring=40)
    await _payment_reminder(reminders, firm, msk(11, 30, 10))
    clock.now = msk(11, 30, 10, 5)
    assert await reminders.due_for(firm.lawyer) is not None
    second = clock.now + timedelta(minutes=1)
    await _call(sessionmaker, employee=firm.lawyer, client=firm.client, started=second, ring=40)
    # Both commented only now: one settling finds a call for each reminder.
    async with sessionmaker() as session:
        await session.execute(update(Call).values(comment="не ответил"))
        await session.commit()
    clock.now += timedelta(minutes=5)
    assert len(await reminders.settle(firm.lawyer)) == 2
    (retry,) = await _open(sessionmaker)
    assert retry.attempt == 1
    # Two hours from the later try.
    assert retry.due_at == second + timedelta(seconds=40) + timedelta(hours=2)


async def test_a_reminder_tried_while_a_retry_waits_joins_that_retry(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    clock.now = msk(11, 30, 9, 40)
    started = clock.now + timedelta(minutes=1)
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=started,
        ring=40,
        comment="не ответил",
    )
    clock.now += timedelta(minutes=5)
    assert len(await reminders.settle(firm.lawyer)) == 1
    (retry,) = await _open(sessionmaker)
    # Before the retry is due, a payment reminder of the same client falls due and is
    # tried, unanswered.
    await _payment_reminder(reminders, firm, clock.now)
    started = clock.now + timedelta(minutes=1)
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=started,
        ring=40,
        comment="снова не ответил",
    )
    clock.now += timedelta(minutes=5)
    assert len(await reminders.settle(firm.lawyer)) == 1
    (joined,) = await _open(sessionmaker)
    assert joined.id == retry.id and joined.due_at == retry.due_at and joined.attempt == 1
    assert joined.reason == (
        "Клиент не ответил (Уточнить дату суда); Клиент не ответил (Напомнить об оплате)"
    )


async def test_past_the_last_rung_every_reminder_the_call_settled_goes_to_the_head(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    oversight: ReminderOversight,
    firm: Firm,
) -> None:
    clock.now = msk(11, 30, 10)
    async with sessionmaker() as session:
        session.add(
            Reminder(
                employee_id=firm.lawyer,
                client_id=firm.client,
                kind=ReminderKind.retry,
                reason="Клиент не ответил (Уточнить дату суда)",
                due_at=clock.now - timedelta(minutes=5),
                attempt=len(RULES.retry_ladder),
                created_at=clock.now - timedelta(days=3),
            )
        )
        await session.commit()
    await _payment_reminder(reminders, firm, clock.now - timedelta(minutes=5))
    started = clock.now + timedelta(minutes=1)
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=started,
        ring=40,
        comment="не ответил",
    )
    clock.now += timedelta(minutes=5)
    assert len(await reminders.settle(firm.lawyer)) == 2
    assert await _open(sessionmaker) == []
    escalated = await oversight.escalated_to(firm.head)
    assert sorted(r.reason for r, _, _ in escalated) == [
        "Клиент не ответил (Уточнить дату суда)",
        "Напомнить об оплате",
    ]


async def test_the_comment_written_later_lets_the_unanswered_call_count(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    assert await reminders.due_for(firm.lawyer) is not None
    # Neither a short ring nor the client's missed call would count with a comment, so
    # the window does not ask for one.
    for ring, direction in ((5, CallDirection.outbound), (40, CallDirection.inbound)):
        await _call(
            sessionmaker,
            employee=firm.lawyer,
            client=firm.client,
            started=clock.now + timedelta(seconds=10),
            ring=ring,
            direction=direction,
        )
        clock.now += timedelta(minutes=1)
        due = await reminders.due_for(firm.lawyer)
        assert due is not None and due.waiting_comment_call is None
    call = await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=1),
        ring=40,
    )
    clock.now += timedelta(minutes=3)
    due = await reminders.due_for(firm.lawyer)
    assert due is not None and due.waiting_comment_call is not None
    assert due.waiting_comment_call.id == call
    await _comment(sessionmaker, call, "Абонент недоступен")
    assert await reminders.due_for(firm.lawyer) is None


async def test_the_whole_ladder_from_friday_evening_to_escalation(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    friday = msk(11, 27, 16)
    clock.now = friday
    await _manual(reminders, firm, friday)

    async def unanswered_try(at: datetime) -> datetime:
        clock.now = at
        assert await reminders.due_for(firm.lawyer) is not None
        started = at + timedelta(minutes=1)
        await _call(
            sessionmaker,
            employee=firm.lawyer,
            client=firm.client,
            started=started,
            ring=30,
            comment="не отвечает",
        )
        clock.now = started + timedelta(seconds=30)
        assert len(await reminders.settle(firm.lawyer)) == 1
        return clock.now

    ended = await unanswered_try(friday)
    (first,) = await _open(sessionmaker)
    assert (first.attempt, first.due_at) == (1, ended + timedelta(hours=2))
    assert first.reason == "Клиент не ответил (Уточнить дату суда)"

    # Friday 18:10: no answer again; "the next working day" is Monday, at 09:00 Moscow.
    await unanswered_try(first.due_at)
    (second,) = await _open(sessionmaker)
    assert (second.attempt, second.due_at) == (2, msk(11, 30, 9))
    clock.now = msk(11, 28, 10)  # Saturday morning: nothing shows
    assert await reminders.due_for(firm.lawyer) is None

    ended = await unanswered_try(msk(11, 30, 9))
    (third,) = await _open(sessionmaker)
    assert (third.attempt, third.due_at) == (3, ended + timedelta(days=3))

    assert third.reason == first.reason  # not "не ответил (не ответил (…))"

    await unanswered_try(third.due_at)
    assert await _open(sessionmaker) == []
    statuses = [(r.kind, r.status) for r in await _reminders(sessionmaker)]
    assert statuses == [
        (ReminderKind.manual, ReminderStatus.done),
        (ReminderKind.retry, ReminderStatus.done),
        (ReminderKind.retry, ReminderStatus.done),
        (ReminderKind.retry, ReminderStatus.escalated),
    ]


async def test_two_settles_at_once_book_one_retry(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    """The call's end and the window's poll every second both settle, at the same time."""
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    assert await reminders.due_for(firm.lawyer) is not None
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=1),
        comment="не ответил",
    )
    clock.now += timedelta(minutes=5)
    first, second = await asyncio.gather(
        reminders.settle(firm.lawyer), reminders.settle(firm.lawyer)
    )
    assert len(first) + len(second) == 1
    (retry,) = await _open(sessionmaker)
    assert retry.attempt == 1


async def test_an_answered_try_on_the_ladder_ends_it(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    assert await reminders.due_for(firm.lawyer) is not None
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=1),
        comment="сбросил",
    )
    clock.now += timedelta(minutes=5)
    await reminders.settle(firm.lawyer)
    (retry,) = await _open(sessionmaker)
    clock.now = retry.due_at
    assert await reminders.due_for(firm.lawyer) is not None
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=1),
        answered_after=4,
    )
    clock.now += timedelta(minutes=10)
    assert await reminders.due_for(firm.lawyer) is None
    assert await _open(sessionmaker) == []


async def test_the_clients_answered_call_back_settles_the_reminder(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    assert await reminders.due_for(firm.lawyer) is not None
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=1),
        answered_after=12,
        direction=CallDirection.inbound,
    )
    clock.now += timedelta(minutes=10)
    assert await reminders.due_for(firm.lawyer) is None
    assert await _open(sessionmaker) == []


async def test_a_call_back_between_two_tries_settles_the_waiting_retry(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    assert await reminders.due_for(firm.lawyer) is not None
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=1),
        comment="не ответил",
    )
    clock.now += timedelta(minutes=2)
    await reminders.settle(firm.lawyer)
    (retry,) = await _open(sessionmaker)
    # Half an hour later the client rings back and the lawyer answers: the retry is done
    # as soon as that call ends, not left to pop up in two hours.
    back = await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=30),
        answered_after=6,
        direction=CallDirection.inbound,
    )
    clock.now += timedelta(minutes=40)
    (settled,) = await reminders.settle(firm.lawyer)
    assert (settled.id, settled.call_id, settled.status) == (retry.id, back, ReminderStatus.done)
    clock.now = retry.due_at
    assert await reminders.due_for(firm.lawyer) is None
    assert await _open(sessionmaker) == []


async def test_another_unanswered_try_before_the_retry_is_due_does_not_climb_the_ladder(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    assert await reminders.due_for(firm.lawyer) is not None
    for minutes in (1, 3):
        await _call(
            sessionmaker,
            employee=firm.lawyer,
            client=firm.client,
            started=clock.now + timedelta(minutes=minutes),
            comment="не ответил",
        )
    clock.now += timedelta(minutes=5)
    assert len(await reminders.settle(firm.lawyer)) == 1
    (retry,) = await _open(sessionmaker)
    assert retry.attempt == 1
    # The second try was made before the retry was due: it does not count for it.
    clock.now = retry.due_at
    due = await reminders.due_for(firm.lawyer)
    assert due is not None and due.reminder.id == retry.id


async def test_a_missed_call_from_the_client_does_not_count_even_with_a_comment(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    assert await reminders.due_for(firm.lawyer) is not None
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=1),
        ring=60,
        comment="перезвоню",
        direction=CallDirection.inbound,
    )
    clock.now += timedelta(minutes=10)
    assert await reminders.settle(firm.lawyer) == []


async def test_calls_by_another_employee_or_with_another_client_do_not_settle_it(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    assert await reminders.due_for(firm.lawyer) is not None
    later = clock.now + timedelta(minutes=1)
    stranger = await _client(sessionmaker, "Посторонний")
    await _call(
        sessionmaker,
        employee=firm.other_lawyer,
        client=firm.client,
        started=later,
        answered_after=3,
    )
    await _call(
        sessionmaker,
        employee=firm.other_lawyer,
        client=firm.client,
        started=later,
        ring=60,
        comment="за коллегу",
    )
    await _call(
        sessionmaker, employee=firm.lawyer, client=stranger, started=later, answered_after=3
    )
    clock.now += timedelta(minutes=10)
    assert await reminders.settle(firm.lawyer) == []
    assert await reminders.settle(firm.other_lawyer) == []
    assert len(await _open(sessionmaker)) == 1


async def test_a_call_still_going_on_does_not_settle_it_yet(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    await _manual(reminders, firm, msk(11, 30, 9, 30))
    assert await reminders.due_for(firm.lawyer) is not None
    call = await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=1),
        ended=False,
    )
    await _end_call(sessionmaker, call, clock.now + timedelta(minutes=1, seconds=8), answered=True)
    async with sessionmaker() as session:  # re-open it: answered, not yet hung up
        await session.execute(update(Call).where(Call.id == call).values(ended_at=None))
        await session.commit()
    clock.now += timedelta(minutes=2)
    assert await reminders.settle(firm.lawyer) == []
    await _end_call(sessionmaker, call, clock.now, answered=True)
    assert len(await reminders.settle(firm.lawyer)) == 1


# --- payments and hearings -------------------------------------------------------------


async def test_a_payment_falling_due_makes_a_reminder_that_morning(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    # Signed recently, so the cadence stays quiet.
    client = await _client(sessionmaker, "Плательщиков")
    await _contract(sessionmaker, firm.client, firm.other_lawyer)  # not this lawyer's turn
    await ContractService(sessionmaker).set_status(firm.contract, ContractStatus.completed)
    contract = await _contract(sessionmaker, client, firm.lawyer, signed_on=date(2026, 11, 20))
    finance = FinanceService(sessionmaker, now=clock)
    await finance.plan_payment(
        contract, due_on=date(2026, 12, 1), amount="10 000", by_employee_id=firm.lawyer
    )
    await finance.plan_payment(
        contract, due_on=date(2026, 11, 10), amount="10 000", by_employee_id=firm.lawyer
    )  # too old to chase
    clock.now = msk(11, 30, 23, 59)
    await reminders.generate()
    assert await _reminders(sessionmaker, client=client) == []
    clock.now = msk(12, 1, 0, 1)  # the due day has begun in Moscow (still 30 Nov in UTC)
    assert await reminders.generate() == 1
    (reminder,) = await _reminders(sessionmaker, client=client)
    assert reminder.kind is ReminderKind.payment and reminder.due_at == msk(12, 1, 9)
    assert "01.12.2026" in reminder.reason and reminder.employee_id == firm.lawyer
    assert await reminders.due_for(firm.lawyer) is None  # not before the working day
    clock.now = msk(12, 1, 9)
    due = await reminders.due_for(firm.lawyer)
    assert due is not None and due.reminder.id == reminder.id
    assert await reminders.generate() == 0


async def test_a_payment_already_paid_makes_no_reminder(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    client = await _client(sessionmaker, "Аккуратный")
    contract = await _contract(sessionmaker, client, firm.lawyer, signed_on=date(2026, 11, 20))
    cashier = await _employee(sessionmaker, "cashier", Role.cashier)
    finance = FinanceService(sessionmaker, now=clock)
    await finance.plan_payment(
        contract, due_on=date(2026, 12, 1), amount="10 000", by_employee_id=firm.lawyer
    )
    await finance.plan_payment(
        contract, due_on=date(2026, 12, 2), amount="5 000", by_employee_id=firm.lawyer
    )
    await finance.receive_payment(contract, amount="12 000", cashier_id=cashier)
    clock.now = msk(12, 2, 10)
    await reminders.generate()
    # The first line is covered; the second only in part, so the client is still asked.
    reasons = [r.reason for r in await _reminders(sessionmaker, client=client)]
    assert len(reasons) == 1 and "02.12.2026" in reasons[0]
    # The rest comes in before the lawyer got to call: the reminder has nothing to ask.
    await finance.receive_payment(contract, amount="3 000", cashier_id=cashier)
    clock.now += timedelta(minutes=1)
    assert await reminders.generate() == 0
    (cancelled,) = await _reminders(sessionmaker, client=client)
    assert cancelled.status is ReminderStatus.cancelled and cancelled.done_at == clock.now


async def _hearing(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm, starts_at: datetime
) -> int:
    hearing = await CourtService(sessionmaker, now=lambda: msk(11, 20)).schedule(
        firm.contract,
        court="Куйбышевский районный суд",
        case_number=f"2-{next(_numbers)}/2026",
        starts_at=starts_at,
        representative_id=firm.defender,
        by_employee_id=firm.lawyer,
    )
    return hearing.id


async def test_a_hearing_makes_a_briefing_the_day_before_and_a_debrief_the_day_after(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, firm: Firm
) -> None:
    service = ReminderService(sessionmaker, RULES, now=clock)
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=msk(11, 25, 12),
        answered_after=3,
    )  # keeps the cadence quiet
    await _hearing(sessionmaker, firm, msk(12, 2, 14, 30))  # a Wednesday
    clock.now = msk(12, 1, 8, 59)
    assert await service.generate() == 0
    clock.now = msk(12, 1, 9)
    assert await service.generate() == 1
    (briefing,) = await _reminders(sessionmaker)
    assert briefing.kind is ReminderKind.briefing and briefing.employee_id == firm.defender
    assert briefing.due_at == msk(12, 1, 9) and "02.12.2026 14:30" in briefing.reason
    clock.now = msk(12, 3, 9)
    assert await service.generate() == 1
    debrief = (await _reminders(sessionmaker))[-1]
    assert debrief.kind is ReminderKind.debrief and debrief.due_at == msk(12, 3, 9)
    assert await service.generate() == 0


async def test_the_briefing_for_a_monday_hearing_is_on_the_friday_before(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, firm: Firm
) -> None:
    service = ReminderService(sessionmaker, RULES, now=clock)
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=msk(11, 25, 12),
        answered_after=3,
    )
    await _hearing(sessionmaker, firm, msk(12, 7, 10))  # Monday 7 December, 10:00
    clock.now = msk(12, 4, 9)  # Friday
    assert await service.generate() == 1
    (briefing,) = await _reminders(sessionmaker)
    assert briefing.kind is ReminderKind.briefing and briefing.due_at == msk(12, 4, 9)


async def test_a_hearing_entered_after_it_took_place_gets_no_briefing(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, firm: Firm
) -> None:
    service = ReminderService(sessionmaker, RULES, now=clock)
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=msk(11, 25, 12),
        answered_after=3,
    )
    await _hearing(sessionmaker, firm, msk(11, 27, 11))  # last Friday
    assert await service.generate() == 1
    assert [r.kind for r in await _reminders(sessionmaker)] == [ReminderKind.debrief]


async def test_with_no_days_before_the_debrief_still_comes_after_the_hearing(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, firm: Firm
) -> None:
    rules = ReminderRules(briefing_days_before=0, debrief_days_after=0)
    service = ReminderService(sessionmaker, rules, now=clock)
    await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=msk(11, 25, 12),
        answered_after=3,
    )
    await _hearing(sessionmaker, firm, msk(12, 1, 14))
    clock.now = msk(12, 1, 9)
    assert await service.generate() == 1
    assert [r.kind for r in await _reminders(sessionmaker)] == [ReminderKind.briefing]
    clock.now = msk(12, 1, 13, 59)
    assert await service.generate() == 0


# --- when the window shows -------------------------------------------------------------


async def test_nothing_shows_outside_working_hours_and_nothing_is_lost(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    # Due on Saturday, while the lawyer is away.
    clock.now = msk(11, 27, 18, 58)
    reminder = await _manual(reminders, firm, msk(11, 28, 11))
    for at in (
        msk(11, 28, 11),
        msk(11, 29, 23),
        msk(11, 30, 8, 59, 59),
        datetime(2026, 11, 30, 5, 59, tzinfo=UTC),
    ):
        clock.now = at
        assert await reminders.due_for(firm.lawyer) is None
    (stored,) = await _open(sessionmaker)
    assert stored.shown_at is None
    # Monday 09:00 Moscow is 06:00 UTC: the reminder is there.
    clock.now = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    due = await reminders.due_for(firm.lawyer)
    assert due is not None and due.reminder.id == reminder.id
    assert due.reminder.shown_at == clock.now
    # Evening: hidden again, still open, shown_at unchanged.
    clock.now = msk(11, 30, 19)
    assert await reminders.due_for(firm.lawyer) is None
    clock.now = msk(12, 1, 9)
    again = await reminders.due_for(firm.lawyer)
    assert again is not None and again.reminder.shown_at == datetime(2026, 11, 30, 6, tzinfo=UTC)


async def test_the_oldest_due_reminder_comes_first_and_the_rest_queue(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    second = await _manual(reminders, firm, msk(11, 30, 9, 45))
    first = await _manual(reminders, firm, msk(11, 30, 9, 15))
    await _manual(reminders, firm, msk(11, 30, 12))  # not due yet
    await _manual(reminders, firm, msk(11, 30, 9), employee=firm.other_lawyer)
    due = await reminders.due_for(firm.lawyer)
    assert due is not None and due.reminder.id == first.id and due.queued == 1
    (stored_second,) = [r for r in await _reminders(sessionmaker) if r.id == second.id]
    assert stored_second.shown_at is None  # only what the window shows is marked shown


async def test_hand_set_reminders_are_checked(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    firm: Firm,
) -> None:
    async def add(
        due_at: datetime, reason: str, client: int | None = None, employee: int | None = None
    ) -> Reminder:
        return await reminders.add_manual(
            employee_id=employee or firm.lawyer,
            client_id=client or firm.client,
            due_at=due_at,
            reason=reason,
            created_by_id=firm.lawyer,
        )

    for due_at, reason in [
        (clock.now, ""),
        (clock.now, "  \n "),
        (clock.now, "я" * 501),
        (clock.now - timedelta(days=1, seconds=1), "вчера"),
        (clock.now + timedelta(days=367), "через год"),
    ]:
        with pytest.raises(InvalidInput):
            await add(due_at, reason)
    with pytest.raises(NoSuchClient):
        await add(clock.now, "нет клиента", client=10_000)
    # Only to someone who can settle it: the director does not call clients, and a lawyer
    # who has left never logs in again.
    director = await _employee(sessionmaker, "director", Role.director)
    gone = await _employee(sessionmaker, "gone", Role.lawyer)
    async with sessionmaker() as session:
        await session.execute(update(Employee).where(Employee.id == gone).values(is_active=False))
        await session.commit()
    for employee in (director, gone, 10_000):
        with pytest.raises(InvalidInput, match="некому адресовать"):
            await add(clock.now, "позвонить", employee=employee)
    assert await _reminders(sessionmaker) == []
    made = await add(clock.now + timedelta(days=2), "  позвонить   про   документы ")
    assert made.reason == "позвонить про документы" and made.kind is ReminderKind.manual
    assert made.occasion is None and made.created_by_id == firm.lawyer


# --- oversight -------------------------------------------------------------------------


async def test_oversight_lists(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    reminders: ReminderService,
    oversight: ReminderOversight,
    firm: Firm,
) -> None:
    assert await reminders.generate() == 1
    await _manual(reminders, firm, msk(11, 30, 9), employee=firm.other_lawyer)
    await _manual(reminders, firm, msk(11, 30, 11), employee=firm.other_lawyer)  # not yet
    overdue = {
        row.employee.id: (row.overdue, row.oldest_due_at)
        for row in await oversight.overdue_by_employee()
    }
    assert overdue == {
        firm.lawyer: (1, msk(10, 31)),
        firm.other_lawyer: (1, msk(11, 30, 9)),
    }
    (neglected,) = await oversight.neglected_clients()
    assert (neglected.client.id, neglected.lawyer.id, neglected.last_call_at) == (
        firm.client,
        firm.lawyer,
        None,
    )
    assert [r.id for r, _client in await reminders.of_employee(firm.other_lawyer)] == [
        r.id for r in await _open(sessionmaker) if r.employee_id == firm.other_lawyer
    ]
    assert await reminders.due_for(firm.lawyer) is not None
    call = await _call(
        sessionmaker,
        employee=firm.lawyer,
        client=firm.client,
        started=clock.now + timedelta(minutes=1),
        answered_after=2,
    )
    clock.now += timedelta(minutes=10)
    await reminders.settle(firm.lawyer)
    ((reminder, client, employee, settled_by),) = await oversight.history(employee_id=firm.lawyer)
    assert (client.id, employee.id) == (firm.client, firm.lawyer)
    assert settled_by is not None and settled_by.id == call
    assert reminder.status is ReminderStatus.done
    assert await oversight.neglected_clients() == []
    assert await oversight.history(employee_id=firm.other_lawyer) == []
