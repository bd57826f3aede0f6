"""What the statistics answer with: filters, funnel counts, series, and rows by employee."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum

from crm.contracts.models import ContractKind, ContractStatus
from crm.core.periods import Period
from crm.reports.grouping import Grouping
from crm.staff.models import Employee


class ReportScope(StrEnum):
    firm = "firm"  # everything: money, lawyers, topics and sources (the director)
    call_centre = "call_centre"  # calls, bookings and the funnel, never money


class FunnelStage(StrEnum):
    contact = "contact"
    booked = "booked"
    visited = "visited"
    contract = "contract"
    paid = "paid"


FUNNEL_STAGES = tuple(FunnelStage)


@dataclass(frozen=True)
class ReportFilter:
    """The cuts a report can be narrowed to; None means any.

    - operator: the funnel keeps clients the operator talked to or booked a visit for;
      calls, bookings and the figures by operator keep the operator's own. Money is not
      counted per operator.
    - lawyer: the funnel keeps the lawyer's clients (Client.lawyer_id); money and contracts
      keep the lawyer's contracts (Contract.lawyer_id); calls keep the lawyer's calls;
      visits keep those with the lawyer.
    - topic, source: the client's, wherever a figure belongs to a client (an expense only
      when it was recorded under a contract).
    """

    operator_id: int | None = None
    lawyer_id: int | None = None
    topic: str | None = None
    source: str | None = None

    @property
    def by_client(self) -> bool:
        return self.topic is not None or self.source is not None


@dataclass(frozen=True)
class FunnelStep:
    stage: FunnelStage
    count: int
    of_previous: float | None  # percent of the stage before; None for the first or after 0
    of_first: float | None  # percent of first contacts


@dataclass(frozen=True)
class FunnelCounts:
    """How many clients of a cohort reached each stage (a later stage implies the earlier)."""

    contacts: int = 0
    booked: int = 0
    visited: int = 0
    contracted: int = 0
    paid: int = 0

    @classmethod
    def from_furthest(cls, furthest: Mapping[int, int]) -> FunnelCounts:
        """From {furthest stage index reached: clients} to the clients at or past each stage."""
        at_or_past = [sum(n for stage, n in furthest.items() if stage >= i) for i in range(5)]
        return cls(*at_or_past)

    def counts(self) -> tuple[int, ...]:
        return (self.contacts, self.booked, self.visited, self.contracted, self.paid)

    def steps(self) -> list[FunnelStep]:
        result, previous = [], None
        for stage, count in zip(FUNNEL_STAGES, self.counts(), strict=True):
            result.append(
                FunnelStep(
                    stage,
                    count,
                    None if previous is None else percent(count, previous),
                    percent(count, self.contacts) if stage is not FunnelStage.contact else None,
                )
            )
            previous = count
        return result

    @property
    def conversion(self) -> float | None:
        """First contact to contract, percent."""
        return percent(self.contracted, self.contacts)


def percent(part: int, whole: int | None) -> float | None:
    """`part` as a percent of `whole`, None when there is no whole to speak of."""
    if not whole:
        return None
    return 100.0 * part / whole


@dataclass
class SeriesRow:
    """Figures of one day, week or month (a bucket cut to the period at its ends)."""

    start: date
    end: date
    income: int = 0  # kopecks received (the plan's fact)
    expenses: int = 0
    plan: int = 0  # kopecks due under the income plan
    primary_contracts: int = 0
    secondary_contracts: int = 0
    primary_kopecks: int = 0
    secondary_kopecks: int = 0
    calls_in: int = 0
    calls_out: int = 0
    calls_missed: int = 0
    visits_booked: int = 0
    visits_attended: int = 0

    @property
    def contracts(self) -> int:
        return self.primary_contracts + self.secondary_contracts

    @property
    def contract_kopecks(self) -> int:
        return self.primary_kopecks + self.secondary_kopecks

    @property
    def plan_done(self) -> float | None:
        """Income as a percent of the plan."""
        return percent(self.income, self.plan)

    def add(self, other: SeriesRow) -> None:
        for item in fields(self):
            if item.name not in {"start", "end"}:
                setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


@dataclass(frozen=True)
class BreakdownRow:
    """The funnel of one topic, source or lawyer's clients."""

    key: str | None  # the topic or source itself; None: not filled in
    label: str
    funnel: FunnelCounts


@dataclass
class OperatorRow:
    """An operator's calls and the visits they booked in the period, and how those went."""

    employee_id: int
    name: str
    calls_in: int = 0  # inbound calls the operator answered
    calls_out: int = 0
    booked: int = 0  # clients the operator booked a visit for
    came: int = 0  # of them: came to one of those visits
    contracted: int = 0  # of them: have a contract
    paid: int = 0  # of them: have paid

    @property
    def booking_rate(self) -> float | None:
        """Clients booked per answered inbound call, percent."""
        return percent(self.booked, self.calls_in)

    @property
    def came_rate(self) -> float | None:
        return percent(self.came, self.booked)

    @property
    def contract_rate(self) -> float | None:
        return percent(self.contracted, self.booked)


@dataclass
class LawyerRow:
    """A lawyer's visits, contracts and money in the period."""

    employee_id: int
    name: str
    visits: int = 0  # visits with the lawyer that the client came to
    primary_contracts: int = 0
    secondary_contracts: int = 0
    contract_kopecks: int = 0
    plan: int = 0
    income: int = 0

    @property
    def contracts(self) -> int:
        return self.primary_contracts + self.secondary_contracts

    @property
    def plan_done(self) -> float | None:
        return percent(self.income, self.plan)


@dataclass(frozen=True)
class ContractLine:
    """A contract concluded in the period, as the contract list export shows it."""

    number: str
    signed_on: date  # never None here: drafts, the only unsigned ones, are left out
    client_name: str
    lawyer_name: str
    kind: ContractKind
    status: ContractStatus
    amount_kopecks: int


@dataclass(frozen=True)
class FilterChoices:
    """What the report's filters offer."""

    operators: list[Employee]
    lawyers: list[Employee]
    topics: list[str]
    sources: list[str]


@dataclass(frozen=True)
class Overview:
    """Everything the statistics page shows for one period and filter."""

    scope: ReportScope
    period: Period
    grouping: Grouping
    filters: ReportFilter
    funnel: FunnelCounts
    series: list[SeriesRow]
    totals: SeriesRow
    operators: list[OperatorRow]
    # Firm scope only (empty for the call centre):
    lawyers: list[LawyerRow] = field(default_factory=list)
    by_topic: list[BreakdownRow] = field(default_factory=list)
    by_source: list[BreakdownRow] = field(default_factory=list)
