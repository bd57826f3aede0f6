"""Tables of the CRM: employees, clients and their encrypted phones, contracts, calls, sessions."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false

from crm.roles import Role

# Named constraints: Alembic's batch mode on SQLite recreates tables and can only drop or
# alter a constraint it can name.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    """The current time, tz-aware, in UTC: the default clock of the CRM."""
    return datetime.now(UTC)


def new_phone_id() -> str:
    """A fresh client_phones id; made in Python because the ciphertext is bound to it."""
    return uuid.uuid4().hex


class UtcDateTime(TypeDecorator[datetime]):
    """A tz-aware timestamp stored in UTC.

    SQLite has no time zone type, so `DateTime(timezone=True)` hands back naive values
    there; this type stores UTC and always returns aware UTC datetimes on every backend.
    Migrations render it as plain `sa.DateTime(timezone=True)` (see migrations/env.py).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # A naive time is ambiguous (UTC? Moscow?); refuse it rather than guess.
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _string_enum(enum_class: type[StrEnum]) -> Enum:
    # Stored as VARCHAR holding the value, with no CHECK constraint and no native enum type:
    # adding a value later needs no migration.
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


class ClientStatus(StrEnum):
    lead = "lead"
    visited = "visited"
    contracted = "contracted"
    former = "former"


class ContractStatus(StrEnum):
    draft = "draft"
    active = "active"
    completed = "completed"
    terminated = "terminated"


class ContractKind(StrEnum):
    primary = "primary"
    secondary = "secondary"


class CallDirection(StrEnum):
    inbound = "inbound"
    outbound = "outbound"
    internal = "internal"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


class Employee(Base):
    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_string_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The employee's SIP phone, e.g. "1001"; NULL for those without a phone.
    sip_extension: Mapped[str | None] = mapped_column(String(16), unique=True)
    # Lawyers only: the class decides the share of client payments accrued to them.
    lawyer_class_id: Mapped[int | None] = mapped_column(ForeignKey("lawyer_classes.id"))
    # The employee's head (a lawyer's head of department): where unanswered reminders go.
    head_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    def __repr__(self) -> str:
        return f"Employee(id={self.id!r}, login={self.login!r}, role={self.role!r})"


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # "Фамилия И. О.": what Asterisk shows as the caller's name.
    short_name: Mapped[str] = mapped_column(String(100))
    # crm.formatting.search_key(full_name): what name search compares (case and ё folded).
    name_key: Mapped[str] = mapped_column(String(200), index=True, server_default="")
    first_contact_on: Mapped[date] = mapped_column(Date, index=True)
    topic: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[ClientStatus] = mapped_column(
        _string_enum(ClientStatus), default=ClientStatus.lead
    )
    lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    @property
    def code(self) -> str:
        """The masked identity Asterisk shows instead of the client's number, e.g. "c1234"."""
        return f"c{self.id}"

    def __repr__(self) -> str:
        return f"Client(id={self.id!r})"


class ClientPhone(Base):
    """A client's phone number, encrypted; there is deliberately no plaintext column."""

    __tablename__ = "client_phones"

    # Generated in Python before the insert: the ciphertext's associated data includes it.
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_phone_id)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    number_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # HMAC of the E.164 number. Not unique: relatives and colleagues share numbers.
    number_index: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    def __repr__(self) -> str:
        return f"ClientPhone(id={self.id!r}, client_id={self.client_id!r})"


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    lawyer_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    # Kopecks, never floats: sums must add up to the kopeck.
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    essence: Mapped[str] = mapped_column(Text)
    status: Mapped[ContractStatus] = mapped_column(
        _string_enum(ContractStatus), default=ContractStatus.draft
    )
    kind: Mapped[ContractKind] = mapped_column(_string_enum(ContractKind))
    signed_on: Mapped[date | None] = mapped_column(Date, index=True)
    # How often the lawyer must call the client under this contract; NULL: the firm's rule.
    call_period_days: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    def __repr__(self) -> str:
        return f"Contract(id={self.id!r}, number={self.number!r})"


class Call(Base):
    __tablename__ = "calls"
    # Statistics read a period's calls by day, direction and employee: with every column
    # they need in the index, SQLite never visits the table (a year at 60,000 clients:
    # 208 ms → 107 ms).
    __table_args__ = (
        Index("ix_calls_period_figures", "started_at", "direction", "employee_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Asterisk's linkedid: shared by every channel of one call, so it identifies the call.
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[CallDirection] = mapped_column(_string_enum(CallDirection))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    queue: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # On a call the firm placed, when the client's phone began to ring: an unanswered
    # call counts for a reminder by how long the client's phone rang, not the employee's.
    client_ringing_at: Mapped[datetime | None]
    disposition: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    # Host paths of the recording: mix, client's side, employee's side ("\n"-separated).
    recording_files: Mapped[str | None] = mapped_column(Text)
    # True when the record was rebuilt from Asterisk's CDRs after the controller was away.
    reconciled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def __repr__(self) -> str:
        return f"Call(id={self.id!r}, linkedid={self.linkedid!r})"


class CallbackStatus(StrEnum):
    open = "open"
    done = "done"


class CallbackTask(Base):
    """A missed inbound call the call centre must return; nothing missed is ever lost."""

    __tablename__ = "callback_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[CallbackStatus] = mapped_column(
        _string_enum(CallbackStatus), default=CallbackStatus.open
    )
    done_at: Mapped[datetime | None]


class ClickToCallStatus(StrEnum):
    pending = "pending"  # asked for, not yet sent to Asterisk
    sending = "sending"  # being sent: after a crash, check Asterisk before sending again
    originated = "originated"
    failed = "failed"


class ClickToCallRequest(Base):
    """A "Call" click: kept so that a restart neither loses it nor dials the client twice."""

    __tablename__ = "click_to_call_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_phone_id)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    status: Mapped[ClickToCallStatus] = mapped_column(
        _string_enum(ClickToCallStatus), default=ClickToCallStatus.pending
    )
    detail: Mapped[str | None] = mapped_column(String(200))

    @property
    def channel_id(self) -> str:
        """The id Asterisk gives the employee's channel: the same on every retry."""
        return f"c2c-{self.id}"  # crm.calls.CLICK_TO_CALL_PREFIX


class WebSession(Base):
    __tablename__ = "web_sessions"

    # sha256 hex of the session token: a stolen database does not yield live sessions.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    ended_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"WebSession(employee_id={self.employee_id!r}, ended_at={self.ended_at!r})"


class JournalOutcome(StrEnum):
    allowed = "allowed"
    denied = "denied"


class JournalEntry(Base):
    """The employee-activity journal: who looked at, exported or was refused what, when."""

    __tablename__ = "journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[JournalOutcome] = mapped_column(_string_enum(JournalOutcome))
    detail: Mapped[str | None] = mapped_column(String(500))


class PlannedPayment(Base):
    """The income plan: a payment a lawyer expects from the client under a contract."""

    __tablename__ = "planned_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Payment(Base):
    """Money the cashier received from a client under a contract."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class LawyerClass(Base):
    """A lawyer's class: the share of each client payment accrued to the contract's lawyer."""

    __tablename__ = "lawyer_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    # Hundredths of a percent: 2500 is 25 %; integers so that accruals add up exactly.
    accrual_basis_points: Mapped[int] = mapped_column()


class VisitOutcome(StrEnum):
    booked = "booked"  # an operator booked it; the client has not come yet
    arrived = "arrived"  # reception checked the client in; the talk is going on
    contract = "contract"  # the visit ended with a contract
    no_contract = "no_contract"
    no_show = "no_show"


class Visit(Base):
    """A client's visit to the office: booked by an operator, checked in by reception."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    # The call during which it was booked: outgoing-call lists show the visit it led to.
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    scheduled_at: Mapped[datetime] = mapped_column(index=True)
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    outcome: Mapped[VisitOutcome] = mapped_column(
        _string_enum(VisitOutcome), default=VisitOutcome.booked
    )
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Expense(Base):
    """Money the firm paid out: how much, to whom, for what (under a contract or not)."""

    __tablename__ = "expenses"

    id: Mapped[int] = mapped_column(primary_key=True)
    spent_on: Mapped[date] = mapped_column(Date, index=True)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    payee: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(500))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Accrual(Base):
    """A lawyer's share of one client payment, fixed when the payment is received."""

    __tablename__ = "accruals"

    id: Mapped[int] = mapped_column(primary_key=True)
    lawyer_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    # The class rate at the time: a later change of class does not rewrite past accruals.
    basis_points: Mapped[int] = mapped_column()
    accrued_on: Mapped[date] = mapped_column(Date, index=True)


class Payout(Base):
    """Money the cashier paid a lawyer against their accruals."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    lawyer_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date, index=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Hearing(Base):
    """A court hearing under a contract, attended by a court representative."""

    __tablename__ = "hearings"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    court: Mapped[str] = mapped_column(String(200))
    case_number: Mapped[str] = mapped_column(String(64), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    representative_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    result: Mapped[str | None] = mapped_column(Text)
    result_recorded_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Note(Base):
    """A note in a client's communication history (on the client or one of their contracts)."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


class RecordingFile(Base):
    """One encrypted recording of a call (the mix or one party's channel) and its SHA-256."""

    __tablename__ = "recording_files"
    __table_args__ = (UniqueConstraint("linkedid", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The call's linkedid rather than a foreign key: a recording may be stored before the
    # controller has the call's record (a call rebuilt from CDRs later).
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    part: Mapped[str] = mapped_column(String(16))  # mix, client, employee
    path: Mapped[str] = mapped_column(Text)
    # Of the WAV as Asterisk wrote it, taken before encryption: evidence in a dispute.
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # Set when the retention period removed the file; the hash stays as a record.
    deleted_at: Mapped[datetime | None]


class TranscriptionStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class TranscriptionJob(Base):
    """A call to transcribe. Kept in the database so a worker that dies leaves it to the next."""

    __tablename__ = "transcription_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[TranscriptionStatus] = mapped_column(
        _string_enum(TranscriptionStatus), default=TranscriptionStatus.queued, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    # Who holds the job: a token per claim, so a worker whose lease ran out cannot finish it.
    claim: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Transcript(Base):
    """What was said on a call, and how: talk time of each side, silences, overlaps."""

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    # The spoken words in time order, numbers removed: what search and rules read.
    text: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    duration_ms: Mapped[int] = mapped_column()
    client_talk_ms: Mapped[int] = mapped_column()
    employee_talk_ms: Mapped[int] = mapped_column()
    longest_silence_ms: Mapped[int] = mapped_column()
    overlaps: Mapped[int] = mapped_column()
    interruptions: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


class TranscriptSegment(Base):
    """One utterance of one side, from that side's own channel: no guessing who spoke."""

    __tablename__ = "transcript_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(
        ForeignKey("transcripts.id", ondelete="CASCADE"), index=True
    )
    speaker: Mapped[str] = mapped_column(String(16))  # client, employee
    start_ms: Mapped[int] = mapped_column()
    end_ms: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(Text)


class CallFlagKind(StrEnum):
    risk = "risk"  # the client speaks of ending the contract, refunds, complaints
    poaching = "poaching"  # the employee takes the client off the firm's channels


class CallFlag(Base):
    """A keyword rule that matched a call's transcript."""

    __tablename__ = "call_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[CallFlagKind] = mapped_column(_string_enum(CallFlagKind))
    rule: Mapped[str] = mapped_column(String(100))
    phrase: Mapped[str] = mapped_column(String(200))
    speaker: Mapped[str] = mapped_column(String(16))
    at_ms: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ReminderKind(StrEnum):
    cadence = "cadence"  # the client was not called for a whole period
    manual = "manual"  # set by a person on a client or contract
    payment = "payment"  # a planned payment falls due
    briefing = "briefing"  # the representative calls the client before a hearing
    debrief = "debrief"  # ... and after it
    retry = "retry"  # the client did not answer last time


class ReminderStatus(StrEnum):
    open = "open"
    done = "done"  # a real call settled it
    escalated = "escalated"  # the client did not answer through the whole ladder
    cancelled = "cancelled"  # nothing left to call about (contract closed)


class Reminder(Base):
    """A call an employee must make; it blocks their workspace until a real call settles it."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    kind: Mapped[ReminderKind] = mapped_column(_string_enum(ReminderKind))
    reason: Mapped[str] = mapped_column(String(500))
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[ReminderStatus] = mapped_column(
        _string_enum(ReminderStatus), default=ReminderStatus.open, index=True
    )
    # One generated reminder per occasion (e.g. "payment:17"): the generator can run again
    # and again without doubling anything.
    occasion: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Which try of the no-answer ladder this is (0: the first).
    attempt: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the employee's browser first showed it: only a call after that settles it.
    shown_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
