"""The listening queue and call statistics, counted in the database, against a plain loop."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.calls.statistics import CallStatistics, CallStatisticsService, CountRow
from crm.clients.models import Client, ClientStatus
from crm.contracts.models import Contract, ContractKind, ContractStatus
from crm.conversations.listening import (
    LISTEN_ACTION,
    LONG_SILENCE_MS,
    PAYMENT_SOON,
    SHORT_CALL,
    ListeningQueue,
    QueueItem,
)
from crm.conversations.models import CallFlag, CallFlagKind, Transcript
from crm.core.formatting import FIRM_TIMEZONE
from crm.core.roles import Role
from crm.finance.models import Payment, PlannedPayment
from crm.journal.models import JournalEntry, JournalOutcome
from crm.staff.models import Employee
from crm.visits.models import Visit

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def make_firm(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Forty days of calls made to hit every reason and edge: short talks a millisecond on
    either side of a minute, payments just inside and outside the week, leads with and
    without a visit, flags of both kinds, listened calls, unanswered and unfinished calls."""
    pick = random.Random(7)
    async with sessionmaker() as session:
        staff = [
            Employee(login=f"e{i}", full_name=name, role=Role.operator, password_hash="x")
            for i, name in enumerate(["Орлова А. А.", "Белов Б. Б.", "Орлова А. А.", "Пак В."])
        ]
        session.add_all(staff)
        clients = [
            Client(
                full_name=f"Клиент {i}",
                short_name=f"Клиент {i}",
                first_contact_on=date(2026, 1, 1),
                status=ClientStatus.lead if i % 2 else ClientStatus.contracted,
            )
            for i in range(24)
        ]
        session.add_all(clients)
        await session.flush()
        for number, client in enumerate(clients[::3]):
            contract = Contract(
                number=f"N-{client.id}",
                client_id=client.id,
                lawyer_id=staff[1].id,
                amount_kopecks=100,
                essence="-",
                status=ContractStatus.active,
                kind=ContractKind.primary,
            )
            session.add(contract)
            await session.flush()
            for offset in (-3, 2, 9, 16, 30):
                session.add(
                    PlannedPayment(
                        contract_id=contract.id,
                        due_on=(NOW + timedelta(days=offset - pick.randint(0, 20))).date(),
                        amount_kopecks=10,
                        created_by_id=staff[1].id,
                    )
                )
            if number % 2:
                # Paid ahead: the two earliest lines are covered, so no worry before them.
                session.add(
                    Payment(
                        contract_id=contract.id,
                        amount_kopecks=20,
                        received_on=(NOW - timedelta(days=60)).date(),
                        cashier_id=staff[1].id,
                    )
                )
        for client in clients[4::5]:
            session.add(Visit(client_id=client.id, scheduled_at=NOW - timedelta(days=50)))
        talks = [
            timedelta(seconds=59, microseconds=999_600),
            timedelta(seconds=60),
            timedelta(seconds=60, microseconds=400),
            timedelta(seconds=5),
            timedelta(minutes=4),
        ]
        for i in range(260):
            started = NOW - timedelta(days=40) + timedelta(minutes=pick.randint(0, 40 * 24 * 60))
            if i % 37 == 0:
                started = NOW - timedelta(days=30, seconds=-1 if i % 2 else 1)  # the edge
            client = pick.choice([None, *clients])
            answered = None if i % 6 == 0 else started + timedelta(seconds=pick.randint(1, 40))
            ended = (answered or started) + pick.choice(talks)
            if i % 29 == 0:
                ended = None  # still going
            call = Call(
                linkedid=f"L{i}",
                # Some outbound: only callers' waits make the average wait.
                direction=CallDirection.outbound if i % 7 == 3 else CallDirection.inbound,
                client_id=client.id if client else None,
                employee_id=pick.choice([None, *(e.id for e in staff)]),
                queue=pick.choice([None, "kc", "kc", "lawyers"]),
                started_at=started,
                answered_at=answered,
                ended_at=ended,
            )
            session.add(call)
            await session.flush()
            if i % 4 == 0:
                session.add(
                    Transcript(
                        linkedid=call.linkedid,
                        text="",
                        model="m",
                        language="ru",
                        duration_ms=1000,
                        client_talk_ms=pick.randint(0, 9000),
                        employee_talk_ms=pick.randint(0, 9000),
                        longest_silence_ms=pick.choice(
                            [0, LONG_SILENCE_MS - 1, LONG_SILENCE_MS, 41_000]
                        ),
                        overlaps=0,
                        interruptions=0,
                    )
                )
            for n in range(pick.choice([0, 0, 0, 1, 2, 5])):
                session.add(
                    CallFlag(
                        linkedid=call.linkedid,
                        kind=pick.choice(list(CallFlagKind)),
                        rule="r",
                        phrase=pick.choice(["верните деньги", "мой номер", "расторгнуть"]),
                        speaker="client",
                        at_ms=n,
                    )
                )
            if i % 5 == 0:
                session.add(
                    JournalEntry(
                        at=NOW - timedelta(days=1),
                        action=LISTEN_ACTION,
                        object_type="call",
                        object_id=str(call.id),
                        outcome=JournalOutcome.allowed,
                    )
                )
        await session.commit()


async def looped_queue(
    sessionmaker: async_sessionmaker[AsyncSession], days: int, limit: int
) -> list[tuple[int, int, list[str]]]:
    """The queue as a loop over every recent call, each call's rows loaded whole."""
    since = NOW - timedelta(days=days)
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(Call, Client, Transcript)
                .outerjoin(Client, Client.id == Call.client_id)
                .outerjoin(Transcript, Transcript.linkedid == Call.linkedid)
                .where(Call.started_at >= since, Call.ended_at.is_not(None))
                .order_by(Call.started_at, Call.id)
            )
        ).all()
        flags = defaultdict(list)
        for flag in await session.scalars(select(CallFlag)):
            flags[flag.linkedid].append(flag)
        first_calls = defaultdict(list)
        for call in await session.scalars(select(Call)):
            first_calls[call.client_id].append(call.id)
        with_visits = set(await session.scalars(select(Visit.client_id)))
        received = defaultdict(int)
        for payment in await session.scalars(select(Payment)):
            received[payment.contract_id] += payment.amount_kopecks
        due = defaultdict(list)
        planned_so_far = defaultdict(int)
        for client_id, line in await session.execute(
            select(Contract.client_id, PlannedPayment)
            .join(PlannedPayment, PlannedPayment.contract_id == Contract.id)
            .order_by(PlannedPayment.due_on, PlannedPayment.id)
        ):
            planned_so_far[line.contract_id] += line.amount_kopecks
            if received[line.contract_id] < planned_so_far[line.contract_id]:
                due[client_id].append(line.due_on)  # not paid yet
        listened = set(
            await session.scalars(
                select(JournalEntry.object_id).where(
                    JournalEntry.action == LISTEN_ACTION, JournalEntry.at >= since
                )
            )
        )
    items = []
    for call, client, transcript in rows:
        reasons, score = [], 0
        kinds = [f for f in flags[call.linkedid]]
        poaching = [f.phrase for f in kinds if f.kind == CallFlagKind.poaching]
        risk = [f.phrase for f in kinds if f.kind == CallFlagKind.risk]
        if poaching:
            score += 60
            reasons.append("сотрудник уводит клиента: " + quoted(poaching))
        if risk:
            score += 40 + 10 * min(len(risk) - 1, 3)
            reasons.append("риск расторжения: " + quoted(risk))
        if transcript is not None and transcript.longest_silence_ms >= LONG_SILENCE_MS:
            score += 20
            reasons.append(f"долгая пауза {transcript.longest_silence_ms // 1000} с")
        talk = call.ended_at - call.answered_at if call.answered_at and call.ended_at else None
        if (
            client is not None
            and talk is not None
            and talk < SHORT_CALL
            and any(
                call.started_at.date() <= day <= (call.started_at + PAYMENT_SOON).date()
                for day in due[client.id]
            )
        ):
            score += 30
            reasons.append(f"короткий звонок ({int(talk.total_seconds())} с) перед оплатой")
        if (
            client is not None
            and client.status == ClientStatus.lead
            and min(first_calls[client.id]) == call.id
            and client.id not in with_visits
        ):
            score += 25
            reasons.append("первый звонок нового клиента без записи на приём")
        if score == 0:
            continue
        if str(call.id) in listened:
            score //= 2
        items.append((call, score, reasons))
    items.sort(key=lambda item: (-item[1], -item[0].started_at.timestamp()))
    return [(call.id, score, reasons) for call, score, reasons in items[:limit]]


def quoted(phrases: list[str]) -> str:
    return ", ".join(sorted({f"«{phrase}»" for phrase in phrases}))


async def looped_statistics(
    sessionmaker: async_sessionmaker[AsyncSession], since: date, until: date
) -> CallStatistics:
    """The statistics as a loop over every call of the period (the firm's days)."""
    start = datetime.combine(since, datetime.min.time(), tzinfo=FIRM_TIMEZONE)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=FIRM_TIMEZONE)
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(Call, Employee, Transcript)
                .outerjoin(Employee, Employee.id == Call.employee_id)
                .outerjoin(Transcript, Transcript.linkedid == Call.linkedid)
                .where(Call.started_at >= start, Call.started_at < end)
                .order_by(Call.started_at, Call.id)
            )
        ).all()
        flagged = set(await session.scalars(select(CallFlag.linkedid)))
    stats = CallStatistics(since=since, until=until)
    days: dict[str, CountRow] = {}
    day = since
    while day <= until:
        days[day.isoformat()] = CountRow(day.strftime("%d.%m"))
        day += timedelta(days=1)
    employees: dict[str, CountRow] = {}
    queues: dict[str, CountRow] = {}
    waits, talks = [], []
    for call, employee, transcript in rows:
        is_flagged = call.linkedid in flagged
        talk = call.ended_at - call.answered_at if call.answered_at and call.ended_at else None
        if call.direction is CallDirection.inbound and (call.answered_at or call.ended_at):
            waited_until = call.answered_at or call.ended_at
            waits.append((waited_until - call.started_at).total_seconds())
        if talk is not None:
            talks.append(talk.total_seconds())
        who = employee.full_name if employee else "—"
        for row in (
            days.setdefault(
                call.started_at.astimezone(FIRM_TIMEZONE).date().isoformat(), CountRow("?")
            ),
            employees.setdefault(who, CountRow(who)),
            queues.setdefault(call.queue or "без очереди", CountRow(call.queue or "без очереди")),
        ):
            row.total += 1
            row.answered += call.answered_at is not None
            row.flagged += is_flagged
            row.talk_seconds += talk.total_seconds() if talk is not None else 0.0
        if transcript is not None:
            employees[who].employee_talk_ms += transcript.employee_talk_ms
            employees[who].all_talk_ms += transcript.employee_talk_ms + transcript.client_talk_ms
        stats.flagged += is_flagged
    stats.by_day = list(days.values())
    stats.by_employee = sorted(employees.values(), key=lambda r: -r.total)
    stats.by_queue = sorted(queues.values(), key=lambda r: -r.total)
    stats.total = len(rows)
    stats.answered = sum(1 for row in rows if row[0].answered_at is not None)
    stats.average_wait_seconds = sum(waits) / len(waits) if waits else 0.0
    stats.average_talk_seconds = sum(talks) / len(talks) if talks else 0.0
    return stats


def summary(items: list[QueueItem]) -> list[tuple[int, int, list[str]]]:
    return [(item.call.id, item.score, item.reasons) for item in items]


def figures(row: CountRow) -> tuple[object, ...]:
    return (row.label, row.total, row.answered, row.flagged, row.employee_talk_ms, row.all_talk_ms)


async def test_listening_queue_picks_and_scores_as_a_loop_over_every_call_would(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_firm(sessionmaker)
    service = ListeningQueue(sessionmaker, now=lambda: NOW)
    for days, limit in ((30, 100), (30, 7), (3, 100), (60, 1000)):
        expected = await looped_queue(sessionmaker, days, limit)
        assert summary(await service.calls(days=days, limit=limit)) == expected
    # The data reaches every reason, so the comparison above means something.
    reasons = " ".join(r for _id, _score, found in expected for r in found)
    for words in ("уводит", "риск", "пауза", "перед оплатой", "первый звонок"):
        assert words in reasons


async def test_queue_items_carry_the_call_its_client_and_employee(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_firm(sessionmaker)
    items = await ListeningQueue(sessionmaker, now=lambda: NOW).calls()
    assert items
    for item in items:
        assert (item.client.id if item.client else None) == item.call.client_id
        assert (item.employee.id if item.employee else None) == item.call.employee_id


async def test_call_statistics_count_as_a_loop_over_every_call_would(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_firm(sessionmaker)
    service = CallStatisticsService(sessionmaker, now=lambda: NOW)
    for since, until in (
        (date(2026, 1, 29), date(2026, 3, 10)),
        (date(2026, 2, 8), date(2026, 2, 8)),
        (date(2025, 1, 1), date(2025, 1, 3)),  # no calls
    ):
        expected = await looped_statistics(sessionmaker, since, until)
        found = await service.of_period(since, until)
        assert (found.total, found.answered, found.flagged) == (
            expected.total,
            expected.answered,
            expected.flagged,
        )
        assert abs(found.average_wait_seconds - expected.average_wait_seconds) < 0.001
        assert abs(found.average_talk_seconds - expected.average_talk_seconds) < 0.001
        assert [r.label for r in found.by_day] == [d.strftime("%d.%m") for d in _days(since, until)]
        for found_rows, expected_rows in (
            (found.by_day, expected.by_day),
            (found.by_employee, expected.by_employee),
            (found.by_queue, expected.by_queue),
        ):
            assert [figures(r)[1:] for r in found_rows] == [figures(r)[1:] for r in expected_rows]
            for got, want in zip(found_rows, expected_rows, strict=True):
                assert abs(got.talk_seconds - want.talk_seconds) < 0.01
        assert [r.label for r in found.by_employee] == [r.label for r in expected.by_employee]
        assert [r.label for r in found.by_queue] == [r.label for r in expected.by_queue]
    assert expected.total == 0
    assert (await service.of_period(date(2026, 1, 29), date(2026, 3, 10))).flagged > 0


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]
