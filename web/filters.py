"""What the pages read from a request: a period (presets or dates), an employee, ids, dates and
times typed in forms, and where a form goes back to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from aiohttp import web
from multidict import MultiMapping

from crm.core.formatting import FIRM_TIMEZONE, parse_day
from crm.core.periods import PeriodPreset, preset_period
from crm.core.permissions import Action, Scope, scope_of
from web.i18n import gettext as _
from web.keys import CurrentUser

# The presets a list offers (a report offers fewer: see web/reports.py).
LIST_PRESETS = (PeriodPreset.day, PeriodPreset.week, PeriodPreset.month, PeriodPreset.year)


def parse_date(text: str) -> date | None:
    """27.11.2026 (or 2026-11-27, as a date input sends it); empty means no date."""
    text = text.strip()
    if not text:
        return None
    try:
        return parse_day(text)
    except ValueError:
        pass
    raise web.HTTPBadRequest(text=_("Дата «%(date)s»: ожидается ДД.ММ.ГГГГ") % {"date": text[:20]})


def parse_id(text: str | None, what: str) -> int | None:
    """A numeric id from a form or query; empty means none, anything else is a 400."""
    if text is None or not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise web.HTTPBadRequest(
            text=_("Неверное значение поля «%(field)s»") % {"field": what}
        ) from None
    if not 0 < value < 2**62:
        raise web.HTTPBadRequest(text=_("Неверное значение поля «%(field)s»") % {"field": what})
    return value


def firm_today() -> date:
    return datetime.now(FIRM_TIMEZONE).date()


@dataclass(frozen=True)
class DayRange:
    """The days a list shows, inclusive, on the firm's clock; None on a side means open."""

    day_from: date | None
    day_to: date | None
    preset: str

    @property
    def from_text(self) -> str:
        return self.day_from.strftime("%d.%m.%Y") if self.day_from else ""

    @property
    def to_text(self) -> str:
        return self.day_to.strftime("%d.%m.%Y") if self.day_to else ""


def period_of(
    query: MultiMapping[str], *, default: str = "", today: date | None = None
) -> DayRange:
    """`period=day|week|month|year`: the whole current one (this week is Monday to Sunday,
    so visits and hearings later this week show too), or `from`/`to` dates; a reversed
    range is a 400, not an empty list."""
    preset = query.get("period", default)
    if preset in LIST_PRESETS:
        period = preset_period(PeriodPreset(preset), today or firm_today())
        return DayRange(period.start, period.end, preset)
    day_from, day_to = parse_date(query.get("from", "")), parse_date(query.get("to", ""))
    if day_from and day_to and day_from > day_to:
        raise web.HTTPBadRequest(text=_("Начало периода позже его конца"))
    return DayRange(day_from, day_to, "")


def employee_filter(user: CurrentUser, action: Action, query: MultiMapping[str]) -> int | None:
    """The employee a list is narrowed to: oneself under own scope, whatever the query says;
    otherwise the `employee` the viewer picked ("filter by employee" in every tab)."""
    if scope_of(user.employee.role, action) is Scope.own:
        return user.employee.id
    return parse_id(query.get("employee"), _("Сотрудник"))


def parse_time(text: str) -> time:
    text = text.strip()
    try:
        return datetime.strptime(text, "%H:%M").time()
    except ValueError:
        raise web.HTTPBadRequest(text=_("Время «%s»: ожидается ЧЧ:ММ") % text[:10]) from None


def back_to(request: web.Request, fallback: str) -> str:
    """Where a form goes back to: its `back` field if it is a path of this site."""
    back = request.query.get("back", "")
    return back if back.startswith("/") and not back.startswith("//") else fallback
