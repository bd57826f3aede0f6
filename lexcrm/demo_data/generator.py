"""Generates the demo firm from its vocabulary: staff, clients and a year of their history."""

from __future__ import annotations

import bisect
import itertools
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, TextIO, TypeVar

from sqlalchemy import func, insert, select, text

from crm.calls.events import CallDirection
from crm.calls.models import Call, CallbackStatus, CallbackTask
from crm.calls.services import CALL_CENTRE_QUEUE, LEAD_NAME, LEAD_SOURCE
from crm.clients.models import Client, ClientPhone, ClientStatus
from crm.clients.services import short_name_of
from crm.contracts.models import Contract, ContractKind, ContractStatus
from crm.core.errors import InvalidPhoneNumber
from crm.core.formatting import FIRM_TIMEZONE, search_key
from crm.core.phones import normalise_phone
from crm.core.roles import Role
from crm.core.tables import Base
from crm.courts.models import Hearing
from crm.finance.models import Accrual, Expense, Payment, Payout, PlannedPayment
from crm.journal.models import JournalEntry, JournalOutcome
from crm.notes.models import Note
from crm.staff.models import Employee
from crm.staff.services import StaffService
from crm.visits.models import Visit, VisitOutcome
from lexcrm.demo_data.plan import (
    CLIENTS_PER_CHUNK,
    HISTORY_DAYS,
    MAX_CLIENTS,
    DemoDataRefused,
    FirmPlan,
    FirmSummary,
    Progress,
    StaffMember,
    grouped,
    moscow_now,
    staff_size,
)
from lexcrm.demo_data.vocabulary import (
    ARBITRATION_COURT,
    COURT_FEES,
    DECISIONS,
    DEFAULT_VISIT_SHARE,
    DEPARTMENT_SIZE,
    DISTRICT_COURTS,
    EXTENSION_BLOCK,
    FEMALE_NAMES,
    FEMININE_ENDINGS,
    LAWYER_CALL_COMMENTS,
    LAWYER_CLASSES,
    LAWYER_NOTES,
    LEAD_NOTES,
    LOGIN_PREFIX,
    MALE_NAMES,
    MONTH_NAMES,
    MONTHLY_EXPENSES,
    OPERATOR_CALL_COMMENTS,
    PATRONYMICS,
    POSTPONEMENTS,
    REMINDER_COMMENTS,
    SECOND_PHONE_LABELS,
    SOURCES,
    SURNAMES,
    TOPICS,
    VISIT_SHARE,
    WALK_IN,
    WEB_REQUEST,
    Topic,
)
from lexcrm.services import Services, open_services
from lexcrm.settings import Settings

CALLBACK_DELAY = timedelta(minutes=15)  # crm.calls.services.CallService's default


T = TypeVar("T")


Row = dict[str, Any]


def feminine_surname(surname: str) -> str:
    """Иванов → Иванова, Вишневский → Вишневская; Шевченко and Ковальчук do not change."""
    for masculine, feminine in FEMININE_ENDINGS:
        if surname.endswith(masculine):
            return surname[: -len(masculine)] + feminine
    return surname


_TOPIC_WEIGHTS = [(topic, topic.weight) for topic in TOPICS]


async def generate_firm(
    core: Services, plan: FirmPlan, *, progress_stream: TextIO | None = None
) -> FirmSummary:
    """Fill the database with a firm: staff first (through the real services), then clients
    and their history, written in bulk. Refuses a database with clients unless appending."""
    if not 1 <= plan.clients <= MAX_CLIENTS:
        raise DemoDataRefused(f"Число клиентов: от 1 до {grouped(MAX_CLIENTS)}")
    started = time.monotonic()
    async with core.sessionmaker() as session:
        existing = int(await session.scalar(select(func.count()).select_from(Client)) or 0)
    if existing and not plan.append:
        raise DemoDataRefused(
            f"В базе уже есть клиенты ({grouped(existing)}): демо-данные пишутся только в "
            "пустую базу. Чтобы добавить к имеющимся, укажите --append."
        )
    generator = _FirmGenerator(core, plan)
    staff = await generator.ensure_staff()
    await generator.start_ids()
    progress = Progress(plan.clients, "Клиенты и их история", progress_stream)
    for first in range(0, plan.clients, CLIENTS_PER_CHUNK):
        count = min(CLIENTS_PER_CHUNK, plan.clients - first)
        rows = generator.clients(first, count)
        await generator.write(rows)
        progress.advance(count)
    progress.finish()
    await generator.write(generator.firm_wide())
    await generator.advance_sequences()
    return FirmSummary(
        rows=dict(generator.written),
        staff=staff,
        password=plan.password,
        seconds=time.monotonic() - started,
    )


@dataclass(frozen=True)
class _Lawyer:
    id: int
    basis_points: int  # of the class: the share accrued from each payment
    workload: float


@dataclass
class _Staff:
    director: int
    lawyers: list[_Lawyer]
    operators: list[int]
    court: list[int]
    reception: list[int]
    cashiers: list[int]


@dataclass
class _Life:
    """What happened to one client so far, while their history is being made."""

    client_id: int
    topic: Topic | None
    lawyer_id: int | None = None
    visited: bool = False
    first_signed_at: datetime | None = None
    contract_statuses: list[ContractStatus] = field(default_factory=list)
    calls: list[Row] = field(default_factory=list)
    callbacks: list[Row] = field(default_factory=list)


class _Rows:
    """Rows of one write, by model; written parents first, so foreign keys hold."""

    ORDER: tuple[type[Base], ...] = (
        Client,
        ClientPhone,
        Call,
        CallbackTask,
        Visit,
        Contract,
        PlannedPayment,
        Payment,
        Accrual,
        Hearing,
        Expense,
        Payout,
        Note,
        JournalEntry,
    )

    def __init__(self) -> None:
        self.by_model: dict[type[Base], list[Row]] = defaultdict(list)

    def add(self, model: type[Base], row: Row) -> None:
        self.by_model[model].append(row)


class _FirmGenerator:
    def __init__(self, core: Services, plan: FirmPlan) -> None:
        self._core = core
        self._plan = plan
        # Not for secrets: a seeded generator, so that one seed always gives one firm.
        self._rng = random.Random(plan.seed)  # noqa: S311
        self._now = (plan.now or moscow_now()).astimezone(FIRM_TIMEZONE)
        self._today = self._now.date()
        self._start = self._today - timedelta(days=HISTORY_DAYS)
        self._numbers: set[str] = set()
        self._next_id: dict[type[Base], int] = {}
        self._contract_numbers: set[str] = set()
        self._accrued: dict[int, list[tuple[date, int]]] = defaultdict(list)
        self._journal: list[tuple[datetime, int, int]] = []  # (at, employee, client)
        self._first_contacts: list[datetime] = []
        self.written: dict[str, int] = defaultdict(int)
        self._staff: _Staff | None = None
        self._rates: dict[int, int] = {}

    # --- staff, through the services a person would use -------------------------------------

    async def ensure_staff(self) -> list[StaffMember]:
        """Employees of every job in the numbers the firm's size asks for; those already in
        the database (the `lexcrm demo` accounts, an administrator) count and are kept."""
        hired_at = datetime.combine(self._start, clock_time(9), tzinfo=FIRM_TIMEZONE)
        hiring = StaffService(self._core.sessionmaker, now=lambda: hired_at)
        employees = [e for e in await self._core.staff.list_employees() if e.is_active]
        logins = {e.login for e in employees}
        extensions = {e.sip_extension for e in employees if e.sip_extension}
        names = {e.full_name for e in employees}
        created: set[str] = set()
        for role in Role:
            have = sum(1 for e in employees if e.role is role)
            for _ in range(staff_size(role, self._plan.clients) - have):
                login = _free_login(LOGIN_PREFIX[role], logins)
                extension = _free_extension(EXTENSION_BLOCK.get(role), extensions)
                name = self._person_name(self._rng.random() < 0.5)
                while name in names:
                    name = self._person_name(self._rng.random() < 0.5)
                employee = await hiring.create_employee(
                    login, name, role, self._plan.password, sip_extension=extension
                )
                employees.append(employee)
                logins.add(login)
                names.add(name)
                created.add(login)
                if extension:
                    extensions.add(extension)
        employees.sort(key=lambda e: e.id)
        self._staff = await self._organise(employees)
        self._rates = {lawyer.id: lawyer.basis_points for lawyer in self._staff.lawyers}
        return [
            StaffMember(e.login, e.full_name, e.role, e.sip_extension, e.login in created)
            for e in sorted(employees, key=lambda e: (list(Role).index(e.role), e.id))
        ]

    async def _organise(self, employees: list[Employee]) -> _Staff:
        """Lawyer classes, departments with their heads, and who reports to whom."""
        staff = self._core.staff
        classes = {c.name: c for c in await staff.lawyer_classes()}
        for name, percent, _share, _load in LAWYER_CLASSES:
            if name not in classes:
                classes[name] = await staff.add_lawyer_class(name, percent)
        by_role: dict[Role, list[Employee]] = defaultdict(list)
        for employee in employees:
            by_role[employee.role].append(employee)
        director = by_role[Role.director][0]
        call_centre_head = by_role[Role.call_centre_head][0]
        class_names = [name for name, _p, share, _l in LAWYER_CLASSES for _ in range(share)]
        head_class = LAWYER_CLASSES[-1][0]
        workload = {name: load for name, _p, _s, load in LAWYER_CLASSES}
        lawyers: list[_Lawyer] = []
        department_head = director
        for index, lawyer in enumerate(by_role[Role.lawyer]):
            heads_department = index % DEPARTMENT_SIZE == 0
            class_id, head_id = lawyer.lawyer_class_id, lawyer.head_id
            if class_id is None:
                name = head_class if heads_department else self._rng.choice(class_names)
                class_id = classes[name].id
            if head_id is None:
                head_id = director.id if heads_department else department_head.id
            if (class_id, head_id) != (lawyer.lawyer_class_id, lawyer.head_id):
                lawyer = await staff.update_employee(
                    lawyer.id,
                    lawyer_class_id=class_id,
                    head_id=head_id,
                    sip_extension=lawyer.sip_extension,
                )
            if heads_department:
                department_head = lawyer
            lawyer_class = next(c for c in classes.values() if c.id == class_id)
            lawyers.append(
                _Lawyer(
                    lawyer.id,
                    lawyer_class.accrual_basis_points,
                    workload.get(lawyer_class.name, 1.0),
                )
            )
        for employee in employees:
            if employee.head_id is not None or employee.role in (Role.lawyer, Role.director):
                continue
            head = call_centre_head if employee.role is Role.operator else director
            if head.id != employee.id:
                await staff.update_employee(
                    employee.id,
                    lawyer_class_id=employee.lawyer_class_id,
                    head_id=head.id,
                    sip_extension=employee.sip_extension,
                )
        return _Staff(
            director=director.id,
            lawyers=lawyers,
            operators=[e.id for e in by_role[Role.operator]],
            court=[e.id for e in by_role[Role.court_representative]],
            reception=[e.id for e in by_role[Role.reception]],
            cashiers=[e.id for e in by_role[Role.cashier]],
        )

    async def start_ids(self) -> None:
        """Ids are handed out here, not by the database: rows refer to each other before
        they are written. With --append they continue after the largest id in use."""
        async with self._core.sessionmaker() as session:
            for model in _Rows.ORDER:
                if model is ClientPhone:
                    continue  # string ids, made by ClientService
                largest = await session.scalar(select(func.max(model.__table__.c.id)))
                self._next_id[model] = int(largest or 0) + 1
            if self._plan.append:
                self._contract_numbers = set(await session.scalars(select(Contract.number)))
        # Sorted, so that client ids grow with the first contact, as they do in a real firm.
        self._first_contacts = sorted(self._first_contact() for _ in range(self._plan.clients))

    async def advance_sequences(self) -> None:
        """PostgreSQL hands out a table's ids from a sequence, which rows written here with
        their own ids never move: each is set past the largest id, or the next row a service
        adds (a journal entry, a client) collides with a generated one. SQLite needs nothing."""
        if self._core.engine.dialect.name != "postgresql":
            return
        async with self._core.engine.begin() as connection:
            for model in _Rows.ORDER:
                if model is ClientPhone:
                    continue
                table = model.__tablename__
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                    )
                )

    def _new_id(self, model: type[Base]) -> int:
        value = self._next_id[model]
        self._next_id[model] = value + 1
        return value

    async def write(self, rows: _Rows) -> None:
        async with self._core.engine.begin() as connection:
            for model in _Rows.ORDER:
                batch = rows.by_model.get(model)
                if batch:
                    await connection.execute(insert(model), batch)
                    self.written[model.__tablename__] += len(batch)

    # --- people and moments ---------------------------------------------------------------

    def _person_name(self, female: bool) -> str:
        rng = self._rng
        surname = rng.choice(SURNAMES)
        son, daughter = rng.choice(PATRONYMICS)
        if female:
            return f"{feminine_surname(surname)} {rng.choice(FEMALE_NAMES)} {daughter}"
        return f"{surname} {rng.choice(MALE_NAMES)} {son}"

    def _mobile_number(self) -> str:
        """A made-up Russian mobile number in E.164, checked as the CRM checks typed ones."""
        while True:
            candidate = f"+79{self._rng.randrange(10**9):09d}"
            if candidate in self._numbers:
                continue
            try:
                number = normalise_phone(candidate, "RU")
            except InvalidPhoneNumber:
                continue
            self._numbers.add(number)
            return number

    def _first_contact(self) -> datetime:
        # Skewed to recent months: the firm grows. Sundays are quiet.
        rng = self._rng
        day = self._start + timedelta(days=round(HISTORY_DAYS * rng.random() ** 0.8))
        if day.weekday() == 6 and rng.random() < 0.7:
            day -= timedelta(days=1)
        if day >= self._today and self._now.hour < 10:
            day = self._today - timedelta(days=1)
        return self._past_moment(day)

    def _moment(self, day: date, start_hour: int = 9, end_hour: int = 20) -> datetime:
        """A moment of the working day, to the second, on the firm's clock."""
        seconds = self._rng.randrange(start_hour * 3600, end_hour * 3600)
        return datetime.combine(
            day, clock_time(seconds // 3600, seconds // 60 % 60, seconds % 60), FIRM_TIMEZONE
        )

    def _past_moment(self, day: date) -> datetime:
        """A working moment of `day` that has already happened."""
        moment = self._moment(day)
        if moment >= self._now:
            moment = self._now - timedelta(minutes=self._rng.randint(1, 90))
        return moment

    def _between(self, start: datetime, end: datetime) -> datetime:
        """A working moment between two moments (the day is uniform, the hour working)."""
        days = max(0, (end.date() - start.date()).days)
        moment = self._moment(start.date() + timedelta(days=self._rng.randint(0, days)))
        return min(max(moment, start + timedelta(minutes=5)), end)

    def _weekday(self, day: date) -> date:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day

    def _pick_lawyer(self) -> int:
        staff = self._require_staff()
        return self._rng.choices(
            [lawyer.id for lawyer in staff.lawyers],
            weights=[lawyer.workload for lawyer in staff.lawyers],
        )[0]

    def _require_staff(self) -> _Staff:
        assert self._staff is not None, "ensure_staff() runs first"
        return self._staff

    # --- clients ------------------------------------------------------------------------------

    def clients(self, first: int, count: int) -> _Rows:
        rows = _Rows()
        for index in range(first, first + count):
            self._client(rows, self._first_contacts[index])
        return rows

    def _client(self, rows: _Rows, first_at: datetime) -> None:
        rng = self._rng
        staff = self._require_staff()
        client_id = self._new_id(Client)
        unnamed = rng.random() < 0.04  # a caller who hung up before giving a name
        if unnamed:
            full_name, source, topic = LEAD_NAME, LEAD_SOURCE, None
        else:
            full_name = self._person_name(rng.random() < 0.56)
            source = _weighted(rng, SOURCES)
            topic = _weighted(rng, _TOPIC_WEIGHTS)
        life = _Life(client_id, topic)
        client: Row = {
            "id": client_id,
            "full_name": full_name,
            "short_name": short_name_of(full_name)[:100],
            "name_key": search_key(full_name),
            "first_contact_on": first_at.date(),
            "topic": topic.name if topic else None,
            "source": source,
            "status": ClientStatus.lead,
            "lawyer_id": None,
            "created_at": first_at,
        }
        rows.add(Client, client)
        self._phones(rows, client_id, first_at)

        if source == WALK_IN:
            self._visit(rows, life, booked_at=first_at, booked_by=None, call_id=None, walk_in=True)
        else:
            answered = self._first_call(rows, life, first_at, outbound=source == WEB_REQUEST)
            visit_share = 0.05 if unnamed else VISIT_SHARE.get(source, DEFAULT_VISIT_SHARE)
            if answered is not None and rng.random() < visit_share:
                self._visit(
                    rows,
                    life,
                    booked_at=answered["ended_at"],
                    booked_by=answered["employee_id"],
                    call_id=answered["id"],
                )
            elif answered is not None:
                self._follow_up_lead(rows, life, answered)
        if life.contract_statuses and rng.random() < 0.15:
            self._repeat_contract(rows, life)
        if not life.visited and rng.random() < 0.25:
            author = rng.choice(staff.operators)
            self._note(rows, life, author, rng.choice(LEAD_NOTES), first_at, None)

        client["lawyer_id"] = life.lawyer_id
        if life.contract_statuses:
            active = ContractStatus.active in life.contract_statuses
            client["status"] = ClientStatus.contracted if active else ClientStatus.former
        elif life.visited:
            client["status"] = ClientStatus.visited
        self._settle_callbacks(life)

    def _phones(self, rows: _Rows, client_id: int, created_at: datetime) -> None:
        labels: list[str | None] = [None]
        if self._rng.random() < 0.14:
            labels.append(self._rng.choice(SECOND_PHONE_LABELS))
        for label in labels:
            # The CRM's own encryption and blind index, so cards, masking and lookups by
            # number work on these rows exactly as on clients added through the web.
            phone = self._core.clients._encrypted_phone(
                client_id, self._mobile_number(), label, created_at
            )
            rows.add(
                ClientPhone,
                {
                    "id": phone.id,
                    "client_id": phone.client_id,
                    "number_ciphertext": phone.number_ciphertext,
                    "number_index": phone.number_index,
                    "label": phone.label,
                    "created_at": phone.created_at,
                },
            )

    # --- calls ----------------------------------------------------------------------------------

    def _call(
        self,
        rows: _Rows,
        life: _Life,
        *,
        direction: CallDirection,
        employee_id: int | None,
        at: datetime,
        disposition: str = "answered",
        queue: str | None = None,
        talk_seconds: tuple[int, int] = (60, 600),
        comments: Sequence[str] = (),
    ) -> Row | None:
        """A call that has ended by now (None if it would not have); a missed inbound call
        leaves a callback task, as crm.calls.services.CallService.call_ended does."""
        if at >= self._now:
            return None
        rng = self._rng
        call_id = self._new_id(Call)
        answered = disposition == "answered"
        if answered:
            answered_at: datetime | None = at + timedelta(seconds=rng.randint(3, 25))
            assert answered_at is not None
            ended_at = answered_at + timedelta(seconds=rng.randint(*talk_seconds))
        else:
            answered_at = None
            ended_at = at + timedelta(seconds=rng.randint(10, 50))
        ended_at = min(ended_at, self._now)
        row: Row = {
            "id": call_id,
            # Asterisk's linkedids are "epoch.sequence"; the prefix keeps these apart from any.
            "linkedid": f"demo-{int(at.timestamp())}.{call_id}",
            "direction": direction,
            "client_id": life.client_id,
            "employee_id": employee_id,
            "queue": queue,
            "started_at": at,
            "answered_at": answered_at,
            "ended_at": ended_at,
            "disposition": disposition,
            "comment": rng.choice(comments)
            if answered and comments and rng.random() < 0.6
            else None,
            "reconciled": False,
        }
        rows.add(Call, row)
        life.calls.append(row)
        if answered_at is not None and employee_id is not None:
            self._journal.append((answered_at, employee_id, life.client_id))
        if direction is CallDirection.inbound and not answered:
            task: Row = {
                "id": self._new_id(CallbackTask),
                "call_id": call_id,
                "client_id": life.client_id,
                "reason": disposition,
                "created_at": ended_at,
                "due_at": ended_at + CALLBACK_DELAY,
                "status": CallbackStatus.open,
                "done_at": None,
            }
            rows.add(CallbackTask, task)
            life.callbacks.append(task)
        return row

    def _settle_callbacks(self, life: _Life) -> None:
        # CallService.call_ended: a call that reaches the client closes their open callbacks.
        answered = sorted(
            (call for call in life.calls if call["disposition"] == "answered"),
            key=lambda call: call["ended_at"],
        )
        ends = [call["ended_at"] for call in answered]
        for task in life.callbacks:
            later = bisect.bisect_right(ends, task["created_at"])
            if later < len(ends):
                task["status"] = CallbackStatus.done
                task["done_at"] = ends[later]

    def _first_call(self, rows: _Rows, life: _Life, at: datetime, *, outbound: bool) -> Row | None:
        """The first contact by phone (a web request is called back); returns the call in
        which someone talked to the client, after the call centre's retries if it was missed."""
        rng = self._rng
        operators = self._require_staff().operators
        if outbound:
            call = self._call(
                rows,
                life,
                direction=CallDirection.outbound,
                employee_id=rng.choice(operators),
                at=at,
                disposition="answered" if rng.random() < 0.8 else "no_answer",
                talk_seconds=(60, 480),
                comments=OPERATOR_CALL_COMMENTS,
            )
        else:
            missed = rng.random() < 0.12
            abandoned = missed and rng.random() < 0.6
            call = self._call(
                rows,
                life,
                direction=CallDirection.inbound,
                employee_id=None if abandoned else rng.choice(operators),
                at=at,
                disposition=("abandoned" if abandoned else "no_answer") if missed else "answered",
                queue=CALL_CENTRE_QUEUE,
                talk_seconds=(60, 480),
                comments=OPERATOR_CALL_COMMENTS,
            )
        if call is None or call["disposition"] == "answered":
            return call
        return self._call_back(rows, life, call, operators, OPERATOR_CALL_COMMENTS)

    def _call_back(
        self,
        rows: _Rows,
        life: _Life,
        missed: Row,
        employees: Sequence[int],
        comments: Sequence[str],
    ) -> Row | None:
        """Returning a missed call: soon, then on the next two days; the call that reached
        the client (which closes the callback task), or None."""
        rng = self._rng
        retry_at = missed["ended_at"] + timedelta(minutes=rng.randint(10, 90))
        for _attempt in range(3):
            retry = self._call(
                rows,
                life,
                direction=CallDirection.outbound,
                employee_id=rng.choice(employees),
                at=retry_at,
                disposition="answered" if rng.random() < 0.7 else rng.choice(("no_answer", "busy")),
                talk_seconds=(60, 420),
                comments=comments,
            )
            if retry is None or retry["disposition"] == "answered":
                return retry
            retry_at = self._moment(retry_at.date() + timedelta(days=1))
        return None

    def _follow_up_lead(self, rows: _Rows, life: _Life, answered: Row) -> None:
        """A lead who did not book at once: the call centre calls again in a few days."""
        rng = self._rng
        if rng.random() >= 0.35:
            return
        day = answered["ended_at"].date() + timedelta(days=rng.randint(2, 10))
        call = self._call(
            rows,
            life,
            direction=CallDirection.outbound,
            employee_id=rng.choice(self._require_staff().operators),
            at=self._moment(day),
            disposition="answered" if rng.random() < 0.6 else "no_answer",
            talk_seconds=(30, 300),
            comments=OPERATOR_CALL_COMMENTS,
        )
        if call is not None and call["disposition"] == "answered" and rng.random() < 0.3:
            self._visit(
                rows,
                life,
                booked_at=call["ended_at"],
                booked_by=call["employee_id"],
                call_id=call["id"],
            )

    # --- visits and contracts -----------------------------------------------------------------

    def _visit(
        self,
        rows: _Rows,
        life: _Life,
        *,
        booked_at: datetime,
        booked_by: int | None,
        call_id: int | None,
        walk_in: bool = False,
        lawyer_id: int | None = None,
        contract_share: float = 0.47,
        rebooked: bool = False,
    ) -> None:
        """Booked by an operator, checked in by reception, ended by the lawyer; or a walk-in."""
        rng = self._rng
        staff = self._require_staff()
        if walk_in:
            scheduled_at = booked_at
        else:
            day = self._weekday(booked_at.date() + timedelta(days=rng.randint(1, 6)))
            scheduled_at = datetime.combine(
                day, clock_time(rng.randint(10, 18), rng.choice((0, 30))), FIRM_TIMEZONE
            )
            if lawyer_id is None and rng.random() < 0.3:
                lawyer_id = life.lawyer_id or self._pick_lawyer()
        visit: Row = {
            "id": self._new_id(Visit),
            "client_id": life.client_id,
            "booked_by_id": booked_by,
            "lawyer_id": lawyer_id,
            "call_id": call_id,
            "scheduled_at": scheduled_at,
            "checked_in_at": None,
            "checked_in_by_id": None,
            "outcome": VisitOutcome.booked,
            "comment": None,
            "created_at": booked_at,
        }
        rows.add(Visit, visit)
        if scheduled_at >= self._now:
            return  # still ahead
        if not walk_in and rng.random() < 0.5:
            reminder_day = max(booked_at.date(), scheduled_at.date() - timedelta(days=1))
            reminder_at = max(self._moment(reminder_day), booked_at + timedelta(minutes=30))
            self._call(
                rows,
                life,
                direction=CallDirection.outbound,
                employee_id=rng.choice(staff.operators),
                at=min(reminder_at, scheduled_at - timedelta(hours=1)),
                disposition="answered" if rng.random() < 0.8 else "no_answer",
                talk_seconds=(20, 120),
                comments=REMINDER_COMMENTS,
            )
        if not walk_in and rng.random() < 0.15:
            visit["outcome"] = VisitOutcome.no_show
            if not rebooked and rng.random() < 0.3:
                call = self._call(
                    rows,
                    life,
                    direction=CallDirection.outbound,
                    employee_id=rng.choice(staff.operators),
                    at=self._moment(scheduled_at.date() + timedelta(days=1)),
                    talk_seconds=(30, 240),
                    comments=OPERATOR_CALL_COMMENTS,
                )
                if call is not None:
                    self._visit(
                        rows,
                        life,
                        booked_at=call["ended_at"],
                        booked_by=call["employee_id"],
                        call_id=call["id"],
                        rebooked=True,
                    )
            return
        checked_in_at = scheduled_at + timedelta(minutes=0 if walk_in else rng.randint(-10, 20))
        if checked_in_at >= self._now:
            return  # the client is on the way
        lawyer = life.lawyer_id or lawyer_id or self._pick_lawyer()
        visit.update(
            lawyer_id=lawyer,
            checked_in_at=checked_in_at,
            checked_in_by_id=rng.choice(staff.reception),
            outcome=VisitOutcome.arrived,
        )
        # VisitService.check_in: the client becomes "visited" and gets the lawyer if none.
        life.visited = True
        if life.lawyer_id is None:
            life.lawyer_id = lawyer
        talk_ends = checked_in_at + timedelta(minutes=rng.randint(40, 100))
        if talk_ends >= self._now:
            return  # the talk is going on
        if rng.random() < contract_share:
            visit["outcome"] = VisitOutcome.contract
            self._contract(rows, life, talk_ends)
        else:
            visit["outcome"] = VisitOutcome.no_contract

    def _repeat_contract(self, rows: _Rows, life: _Life) -> None:
        """A client comes back with a new matter: they call their lawyer, who books them."""
        rng = self._rng
        lawyer = life.lawyer_id
        if lawyer is None or life.first_signed_at is None:
            return
        earliest = life.first_signed_at + timedelta(days=30)
        if earliest >= self._now:
            return
        at = self._between(earliest, min(self._now, earliest + timedelta(days=170)))
        call = self._call(
            rows,
            life,
            direction=CallDirection.inbound,
            employee_id=lawyer,
            at=at,
            talk_seconds=(120, 900),
            comments=LAWYER_CALL_COMMENTS,
        )
        if call is not None:
            if rng.random() < 0.4:
                life.topic = _weighted(rng, _TOPIC_WEIGHTS)
            self._visit(
                rows,
                life,
                booked_at=call["ended_at"],
                booked_by=lawyer,
                call_id=call["id"],
                lawyer_id=lawyer,
                contract_share=0.75,
            )

    def _contract(self, rows: _Rows, life: _Life, signed_at: datetime) -> None:
        """A contract as ContractService.add_contract makes it, with what follows from it."""
        rng = self._rng
        lawyer_id = life.lawyer_id
        assert lawyer_id is not None  # the client came, so has a lawyer
        topic = life.topic or _weighted(rng, _TOPIC_WEIGHTS)
        contract_id = self._new_id(Contract)
        signed_on = signed_at.date()
        number = f"{signed_on:%y}-{contract_id:05d}"
        while number in self._contract_numbers:
            number += "Д"
        self._contract_numbers.add(number)
        low, high = topic.fee_rubles
        amount = rng.randrange(low, high + 1, 1000) * 100
        age = (self._today - signed_on).days
        ends_on = self._today  # when the work (and the money) stops
        draw = rng.random()
        if age > 20 and draw < 0.07:
            status = ContractStatus.terminated
            ends_on = signed_on + timedelta(days=rng.randint(15, age))
        elif age > 120 and draw < 0.07 + 0.5 * min(1.0, age / HISTORY_DAYS):
            status = ContractStatus.completed
        else:
            status = ContractStatus.active
        kind = ContractKind.secondary if life.contract_statuses else ContractKind.primary
        life.contract_statuses.append(status)
        if life.first_signed_at is None:
            life.first_signed_at = signed_at
        rows.add(
            Contract,
            {
                "id": contract_id,
                "number": number,
                "client_id": life.client_id,
                "lawyer_id": lawyer_id,
                "amount_kopecks": amount,
                "essence": rng.choice(topic.essences),
                "status": status,
                "kind": kind,
                "signed_on": signed_on,
                "created_at": signed_at,
            },
        )
        self._plan_and_payments(rows, contract_id, lawyer_id, amount, signed_at, status, ends_on)
        ends_at = min(self._now, datetime.combine(ends_on, clock_time(20), FIRM_TIMEZONE))
        # An active case has hearings ahead too; a finished one only behind.
        hearings_until = self._today + timedelta(days=75)
        if status is not ContractStatus.active:
            hearings_until = min(ends_on, self._today - timedelta(days=1))
        self._hearings(rows, contract_id, lawyer_id, topic, signed_at, hearings_until)
        for _ in range(rng.randint(1, 5)):
            self._call(
                rows,
                life,
                direction=CallDirection.outbound,
                employee_id=lawyer_id,
                at=self._between(signed_at, ends_at),
                disposition="answered" if rng.random() < 0.75 else "no_answer",
                talk_seconds=(60, 1200),
                comments=LAWYER_CALL_COMMENTS,
            )
        for _ in range(rng.randint(0, 2)):
            # The client calls their lawyer directly (the dialplan routes them there).
            call = self._call(
                rows,
                life,
                direction=CallDirection.inbound,
                employee_id=lawyer_id,
                at=self._between(signed_at, ends_at),
                disposition="answered" if rng.random() < 0.85 else "no_answer",
                talk_seconds=(60, 900),
                comments=LAWYER_CALL_COMMENTS,
            )
            if call is not None and call["disposition"] != "answered":
                self._call_back(rows, life, call, [lawyer_id], LAWYER_CALL_COMMENTS)
        for _ in range(rng.randint(0, 3)):
            text = rng.choice(LAWYER_NOTES)
            self._note(rows, life, lawyer_id, text, self._between(signed_at, ends_at), contract_id)

    def _plan_and_payments(
        self,
        rows: _Rows,
        contract_id: int,
        lawyer_id: int,
        amount: int,
        signed_at: datetime,
        status: ContractStatus,
        ends_on: date,
    ) -> None:
        """The income plan in monthly instalments, the first at signing; what was paid."""
        rng = self._rng
        staff = self._require_staff()
        signed_on = signed_at.date()
        instalments = _weighted(rng, [(1, 25), (2, 20), (3, 25), (4, 15), (6, 15)])
        if status is ContractStatus.completed:
            instalments = min(instalments, 1 + (self._today - signed_on).days // 31)
        each = amount // instalments // 10_000 * 10_000  # whole hundreds of roubles
        paying = True
        for index in range(instalments):
            due_on = signed_on + timedelta(days=31 * index)
            line = each if index < instalments - 1 else amount - each * (instalments - 1)
            rows.add(
                PlannedPayment,
                {
                    "id": self._new_id(PlannedPayment),
                    "contract_id": contract_id,
                    "due_on": due_on,
                    "amount_kopecks": line,
                    "created_by_id": lawyer_id,
                    "created_at": signed_at,
                },
            )
            if due_on > ends_on or not paying:
                continue
            if status is not ContractStatus.completed and index > 0:
                if rng.random() > (0.92 if status is ContractStatus.active else 0.7):
                    paying = rng.random() < 0.5  # a missed instalment; some pay on later
                    continue
            received_on = due_on
            if index > 0:
                received_on = due_on + timedelta(days=rng.randint(-3, 6))
            received_on = min(max(received_on, signed_on), ends_on, self._today)
            paid = line if rng.random() > 0.06 else line // 2 // 10_000 * 10_000 or line
            self._payment(rows, contract_id, lawyer_id, paid, received_on, staff.cashiers)

    def _payment(
        self,
        rows: _Rows,
        contract_id: int,
        lawyer_id: int,
        amount: int,
        received_on: date,
        cashiers: list[int],
    ) -> None:
        payment_id = self._new_id(Payment)
        rows.add(
            Payment,
            {
                "id": payment_id,
                "contract_id": contract_id,
                "amount_kopecks": amount,
                "received_on": received_on,
                "cashier_id": self._rng.choice(cashiers),
                "created_at": self._past_moment(received_on),
            },
        )
        # As FinanceService.receive_payment: the contract lawyer's class rate now, the
        # share rounded down to the kopeck, and no accrual for a lawyer without a class.
        rate = self._rates[lawyer_id]
        if rate:
            accrual = amount * rate // 10_000
            rows.add(
                Accrual,
                {
                    "id": self._new_id(Accrual),
                    "lawyer_id": lawyer_id,
                    "payment_id": payment_id,
                    "amount_kopecks": accrual,
                    "basis_points": rate,
                    "accrued_on": received_on,
                },
            )
            self._accrued[lawyer_id].append((received_on, accrual))

    def _hearings(
        self,
        rows: _Rows,
        contract_id: int,
        lawyer_id: int,
        topic: Topic,
        signed_at: datetime,
        until: date,
    ) -> None:
        rng = self._rng
        staff = self._require_staff()
        if not staff.court or rng.random() >= topic.court_share:
            return
        court, case_number = self._court_case(topic, signed_at.date())
        count = _weighted(rng, [(1, 30), (2, 30), (3, 20), (4, 12), (5, 8)])
        representative = rng.choice(staff.court)
        created_at = signed_at + timedelta(days=rng.randint(2, 14))
        day = signed_at.date() + timedelta(days=rng.randint(21, 60))
        for index in range(count):
            day = self._weekday(day)
            if created_at >= self._now or day > until:
                break
            starts_at = datetime.combine(
                day, clock_time(rng.randint(9, 16), rng.choice((0, 15, 30, 45))), FIRM_TIMEZONE
            )
            result, recorded_at = None, None
            if starts_at < self._now - timedelta(hours=3) and rng.random() < 0.93:
                kind = topic.court if topic.court in DECISIONS else "other"
                result = rng.choice(DECISIONS[kind] if index == count - 1 else POSTPONEMENTS)
                recorded_at = min(self._now, starts_at + timedelta(hours=rng.randint(2, 30)))
            rows.add(
                Hearing,
                {
                    "id": self._new_id(Hearing),
                    "contract_id": contract_id,
                    "court": court,
                    "case_number": case_number,
                    "starts_at": starts_at,
                    "representative_id": representative,
                    "result": result,
                    "result_recorded_at": recorded_at,
                    "created_by_id": lawyer_id,
                    "created_at": created_at,
                },
            )
            if index == 0:
                payee, purpose, (low, high) = COURT_FEES[topic.court]
                self._expense(
                    rows,
                    created_at.date(),
                    rng.randrange(low, high + 1, 100) * 100,
                    payee,
                    f"{purpose} № {case_number}",
                    contract_id,
                )
            created_at = starts_at + timedelta(hours=rng.randint(2, 8))
            day = day + timedelta(days=rng.randint(21, 50))

    def _court_case(self, topic: Topic, signed_on: date) -> tuple[str, str]:
        rng = self._rng
        year = signed_on.year
        if topic.court == "arbitration":
            return ARBITRATION_COURT, f"А56-{rng.randint(1000, 130000)}/{year}"
        if topic.court == "magistrate":
            plot = rng.randint(1, 210)
            court = f"Судебный участок № {plot} Санкт-Петербурга"
            return court, f"2-{rng.randint(100, 4000)}/{year}-{plot}"
        district = rng.choice(DISTRICT_COURTS)
        court = f"{district} районный суд Санкт-Петербурга"
        prefix = "1" if topic.court == "criminal" else "2"
        return court, f"{prefix}-{rng.randint(100, 12000)}/{year}"

    def _expense(
        self,
        rows: _Rows,
        day: date,
        amount: int,
        payee: str,
        purpose: str,
        contract_id: int | None,
    ) -> None:
        rows.add(
            Expense,
            {
                "id": self._new_id(Expense),
                "spent_on": day,
                "amount_kopecks": amount,
                "payee": payee,
                "purpose": purpose,
                "contract_id": contract_id,
                "cashier_id": self._rng.choice(self._require_staff().cashiers),
                "created_at": self._past_moment(day),
            },
        )

    def _note(
        self,
        rows: _Rows,
        life: _Life,
        author_id: int,
        text: str,
        at: datetime,
        contract_id: int | None,
    ) -> None:
        if at >= self._now:
            return
        rows.add(
            Note,
            {
                "id": self._new_id(Note),
                "client_id": life.client_id,
                "contract_id": contract_id,
                "author_id": author_id,
                "text": text,
                "created_at": at,
            },
        )

    # --- the firm as a whole ----------------------------------------------------------------------

    def firm_wide(self) -> _Rows:
        """Running costs, the lawyers' monthly payouts and the journal of card views."""
        rows = _Rows()
        rng = self._rng
        scale = self._plan.clients / 60_000
        for month_start in _month_starts(self._start, self._today):
            month_end = min(_next_month(month_start) - timedelta(days=1), self._today)
            days = (month_end - month_start).days
            for payee, purpose, per_month, (low, high) in MONTHLY_EXPENSES:
                for _ in range(max(1, round(per_month * scale))):
                    day = self._weekday(month_start + timedelta(days=rng.randint(0, days)))
                    if day > self._today:
                        day = month_start
                    amount = rng.randrange(low, high + 1, 100) * 100
                    self._expense(rows, day, amount, payee, purpose, None)
        self._payouts(rows)
        self._journal.sort()
        for at, employee_id, client_id in self._journal:
            rows.add(
                JournalEntry,
                {
                    "id": self._new_id(JournalEntry),
                    "at": at,
                    "employee_id": employee_id,
                    "action": "view_client",
                    "object_type": "client",
                    "object_id": str(client_id),
                    "outcome": JournalOutcome.allowed,
                    "detail": None,
                },
            )
        return rows

    def _payouts(self, rows: _Rows) -> None:
        """On the 5th (or the next weekday) each lawyer is paid most of what was accrued up
        to the month's end; never more than accrued, as FinanceService.pay_out requires."""
        rng = self._rng
        cashiers = self._require_staff().cashiers
        for lawyer_id, accruals in self._accrued.items():
            accruals.sort()
            paid_out = 0
            for month_start in _month_starts(self._start, self._today):
                paid_on = self._weekday(_next_month(month_start) + timedelta(days=4))
                if paid_on > self._today:
                    break
                accrued = sum(amount for day, amount in accruals if day < _next_month(month_start))
                payout = int((accrued - paid_out) * rng.uniform(0.8, 1.0)) // 10_000 * 10_000
                if payout <= 0:
                    continue
                paid_out += payout
                month = f"{MONTH_NAMES[month_start.month - 1]} {month_start.year}"
                rows.add(
                    Payout,
                    {
                        "id": self._new_id(Payout),
                        "lawyer_id": lawyer_id,
                        "amount_kopecks": payout,
                        "paid_on": paid_on,
                        "cashier_id": rng.choice(cashiers),
                        "comment": f"Выплата начислений за {month}",
                        "created_at": self._past_moment(paid_on),
                    },
                )


def _weighted(rng: random.Random, choices: Sequence[tuple[T, float]]) -> T:
    values = [value for value, _weight in choices]
    return rng.choices(values, weights=[weight for _value, weight in choices])[0]


def _free_login(prefix: str, taken: set[str]) -> str:
    for number in itertools.count(1):
        login = prefix if number == 1 else f"{prefix}{number}"
        if login not in taken:
            return login
    raise AssertionError("unreachable")


def _free_extension(block: int | None, taken: set[str]) -> str | None:
    if block is None:
        return None
    for extension in range(block + 1, block + 100):
        if str(extension) not in taken:
            return str(extension)
    raise DemoDataRefused(f"Нет свободных внутренних номеров {block + 1}–{block + 99}")


def _month_starts(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = _next_month(month)
    return months


def _next_month(month_start: date) -> date:
    return (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)


async def load_firm(
    settings: Settings, plan: FirmPlan, *, progress_stream: TextIO | None = None
) -> FirmSummary:
    """`lexcrm demo-data`: the firm, into the database of these settings."""
    async with open_services(settings, migrate=False) as core:
        return await generate_firm(core, plan, progress_stream=progress_stream)
