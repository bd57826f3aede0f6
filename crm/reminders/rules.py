"""The reminder rules: the cadence, working hours, the no-answer ladder, and their settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from crm.clients.models import Client
from crm.contracts.models import Contract
from crm.core.formatting import FIRM_TIMEZONE


@dataclass(frozen=True)
class RetryStep:
    """One rung of the no-answer ladder: a delay, or "the next working day"."""

    delay: timedelta | None = None
    next_working_day: bool = False

    @classmethod
    def parse(cls, text: str) -> RetryStep:
        """ "2h", "30m", "3d" or "next-day" (the next working day, at the start of work)."""
        text = text.strip().lower()
        if text in {"next-day", "next-working-day"}:
            return cls(next_working_day=True)
        units = {"m": "minutes", "h": "hours", "d": "days"}
        if len(text) >= 2 and text[-1] in units and text[:-1].isdigit() and int(text[:-1]) > 0:
            return cls(delay=timedelta(**{units[text[-1]]: int(text[:-1])}))
        raise ValueError(f"step {text!r}: expected e.g. 2h, 3d or next-day")


@dataclass(frozen=True)
class ReminderRules:
    """The firm's rules (from the settings): how often, when, and how hard to insist."""

    period_days: int = 30
    topic_period_days: dict[str, int] = field(default_factory=dict)
    # An unanswered call counts once it rang this long and the employee wrote a comment.
    min_ring_seconds: int = 20
    retry_ladder: tuple[RetryStep, ...] = (
        RetryStep(delay=timedelta(hours=2)),
        RetryStep(next_working_day=True),
        RetryStep(delay=timedelta(days=3)),
    )
    work_start: time = time(9, 0)
    work_end: time = time(19, 0)
    work_days: frozenset[int] = frozenset(range(5))  # Monday = 0
    briefing_days_before: int = 1
    debrief_days_after: int = 1
    timezone: tzinfo = FIRM_TIMEZONE

    def period_for(self, contract: Contract, client: Client) -> timedelta:
        """The contract's own period, else the topic's, else the firm's."""
        return self.period_of(contract.call_period_days, client.topic)

    def period_of(self, call_period_days: int | None, topic: str | None) -> timedelta:
        if call_period_days:
            return timedelta(days=call_period_days)
        if topic and topic in self.topic_period_days:
            return timedelta(days=self.topic_period_days[topic])
        return timedelta(days=self.period_days)

    def is_working_time(self, at: datetime) -> bool:
        local = at.astimezone(self.timezone)
        return local.weekday() in self.work_days and self.work_start <= local.time() < self.work_end

    def next_work_start(self, after: datetime) -> datetime:
        """The start of the first working day after `after`'s day."""
        day = after.astimezone(self.timezone).date()
        for _ in range(14):
            day += timedelta(days=1)
            if day.weekday() in self.work_days:
                return datetime.combine(day, self.work_start, tzinfo=self.timezone)
        raise ValueError("no working day within two weeks: check the working days setting")

    def work_start_on(self, day: date) -> datetime:
        return datetime.combine(day, self.work_start, tzinfo=self.timezone)

    def working_day_on_or_before(self, day: date) -> date:
        """`day` if the firm works then, else the last working day before it."""
        for _ in range(14):
            if day.weekday() in self.work_days:
                return day
            day -= timedelta(days=1)
        raise ValueError("no working day within two weeks: check the working days setting")


def parse_topic_periods(text: str) -> dict[str, int]:
    """ "банкротство=14; ДТП=21" → {"банкротство": 14, "ДТП": 21}."""
    periods: dict[str, int] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        topic, sep, days = part.partition("=")
        if not sep or not days.strip().isdigit() or int(days) <= 0 or not topic.strip():
            raise ValueError(f"{part.strip()!r}: expected topic=days, e.g. банкротство=14")
        periods[topic.strip()] = int(days)
    return periods


def parse_ladder(text: str) -> tuple[RetryStep, ...]:
    return tuple(RetryStep.parse(step) for step in text.split(",") if step.strip())


def parse_work_days(text: str) -> frozenset[int]:
    """ "1-5" (Monday to Friday) or "1,2,3,4,5,6" → weekday numbers counted from 0."""
    days: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.strip().partition("-")
        if not first.isdigit() or (sep and not last.isdigit()):
            raise ValueError(f"{part.strip()!r}: expected 1-5 or 1,2,3 (1 is Monday)")
        start, end = int(first), int(last) if sep else int(first)
        if not 1 <= start <= end <= 7:
            raise ValueError(f"{part.strip()!r}: days are 1 (Monday) to 7 (Sunday)")
        days.update(range(start - 1, end))
    return frozenset(days)


def parse_hours(text: str) -> tuple[time, time]:
    """ "09:00-19:00" → (09:00, 19:00); "00:00-24:00" means the whole day."""
    start_text, sep, end_text = text.partition("-")
    try:
        start = datetime.strptime(start_text.strip(), "%H:%M").time()
        end = (
            time.max
            if end_text.strip() == "24:00"
            else datetime.strptime(end_text.strip(), "%H:%M").time()
        )
    except ValueError:
        raise ValueError(f"{text!r}: expected HH:MM-HH:MM, e.g. 09:00-19:00") from None
    if not sep or start >= end:
        raise ValueError(f"{text!r}: the end of the working day must be after its start")
    return start, end
