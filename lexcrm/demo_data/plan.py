"""The demo firm's size and shape: the plan a run follows, its staff, summary and progress line."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock_time
from typing import TextIO

from crm.core.errors import CrmError
from crm.core.formatting import FIRM_TIMEZONE, parse_day
from crm.core.roles import Role
from lexcrm.demo_data.vocabulary import STAFFING

# Bump whenever the generated data changes: cached benchmark databases are keyed by it.
GENERATOR_VERSION = 1


# Every employee the generator creates gets this password; it is printed at the end.
DEMO_PASSWORD = "demo-lexcrm-2026"  # noqa: S105 - the demo firm's published password


MAX_CLIENTS = 1_000_000


HISTORY_DAYS = 365


CLIENTS_PER_CHUNK = 1000  # one transaction and one progress step


class DemoDataRefused(CrmError):
    """The database is not one demo data may be written into; the message says why."""

    error_id = "demo-data-refused"
    http_status = 409


def staff_size(role: Role, clients: int) -> int:
    """How many employees of a job a firm with this many clients a year keeps."""
    if role not in STAFFING:
        return 1
    at_least, clients_each = STAFFING[role]
    return max(at_least, min(90, round(clients / clients_each)))


@dataclass(frozen=True)
class FirmPlan:
    """What to generate: how many clients, from which seed, up to which moment."""

    clients: int
    seed: int = 1
    now: datetime | None = None  # the firm's "now", aware; None: the current time
    password: str = DEMO_PASSWORD  # of each employee this run creates
    append: bool = False  # allowed to add to a database that already has clients


@dataclass(frozen=True)
class StaffMember:
    login: str
    full_name: str
    role: Role
    extension: str | None
    created: bool  # made by this run, with the plan's password


@dataclass(frozen=True)
class FirmSummary:
    rows: dict[str, int]  # table name → rows added
    staff: list[StaffMember]
    password: str
    seconds: float


def moscow_now() -> datetime:
    return datetime.now(FIRM_TIMEZONE)


class Progress:
    """Progress of a long job on a stream: one line redrawn in place on a terminal, and a
    line every few seconds otherwise (a log file or a pipe gets no carriage returns)."""

    def __init__(
        self,
        total: int,
        label: str,
        stream: TextIO | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        line_every: float = 5.0,
    ) -> None:
        self._total = max(total, 1)
        self._label = label
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty()
        self._clock = clock
        self._line_every = line_every
        self._started = clock()
        self._last_shown = -float("inf")
        self._shown_done = -1
        self.done = 0

    def advance(self, count: int) -> None:
        self.done = min(self._total, self.done + count)
        now = self._clock()
        if self._tty:
            if now - self._last_shown >= 0.1:
                self._stream.write("\r" + self.line(now) + "\033[K")
                self._stream.flush()
                self._last_shown = now
        elif now - self._last_shown >= self._line_every:
            self._stream.write(self.line(now) + "\n")
            self._stream.flush()
            self._last_shown = now
            self._shown_done = self.done

    def finish(self) -> None:
        """The last state, once: a terminal's line is ended, a log gets it unless it has it."""
        now = self._clock()
        if self._tty:
            self._stream.write("\r" + self.line(now) + "\033[K\n")
        elif self._shown_done != self.done:
            self._stream.write(self.line(now) + "\n")
        self._stream.flush()

    def line(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        left = (self._total - self.done) / rate if rate > 0 else None
        eta = "—" if left is None else _minutes_seconds(left)
        return (
            f"{self._label}: {grouped(self.done)}/{grouped(self._total)} "
            f"({100 * self.done / self._total:3.0f} %), {grouped(round(rate))}/с, "
            f"прошло {_minutes_seconds(elapsed)}, осталось {eta}"
        )


def grouped(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def _minutes_seconds(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


ROW_LABELS = {
    "clients": "клиентов",
    "client_phones": "номеров",
    "calls": "звонков",
    "callback_tasks": "перезвонов",
    "visits": "визитов",
    "contracts": "договоров",
    "planned_payments": "плановых платежей",
    "payments": "платежей",
    "accruals": "начислений",
    "payouts": "выплат",
    "expenses": "расходов",
    "hearings": "заседаний",
    "notes": "заметок",
    "journal": "записей журнала",
}


def client_count(text: str) -> int:
    """--clients: a whole number within what the generator takes."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"число клиентов: целое число, а не {text!r}") from None
    if not 1 <= count <= MAX_CLIENTS:
        raise argparse.ArgumentTypeError(f"число клиентов: от 1 до {grouped(MAX_CLIENTS)}")
    return count


def firm_evening(text: str) -> datetime:
    """--today: a date (ГГГГ-ММ-ДД or ДД.ММ.ГГГГ), taken as 18:00 that day, Moscow time."""
    try:
        return datetime.combine(parse_day(text), clock_time(18), FIRM_TIMEZONE)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"дата {text!r} не распознана: ГГГГ-ММ-ДД или ДД.ММ.ГГГГ")


def summary_text(summary: FirmSummary) -> str:
    """What was made, and the logins to look at it with."""
    made = ", ".join(
        f"{ROW_LABELS.get(table, table)} {grouped(count)}"
        for table, count in summary.rows.items()
        if count
    )
    lines = [
        f"Демо-фирма готова за {_minutes_seconds(summary.seconds)}: {made}.",
        f"Сотрудники (пароль новых: {summary.password}):",
    ]
    for member in summary.staff:
        line = f"  {member.role.title_ru:<16} {member.login:<12} {member.full_name}"
        if member.extension:
            line += f", тел. {member.extension}"
        if not member.created:
            line += " (был в базе, пароль прежний)"
        lines.append(line)
    return "\n".join(lines)
