"""Statistics pages: the funnel, charts and tables for a period and cuts, and their export."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup

from crm.contracts.models import ContractKind, ContractStatus
from crm.core.formatting import format_date
from crm.core.periods import Period, PeriodPreset, preset_period
from crm.core.permissions import Action, scope_of
from crm.core.roles import Role
from crm.reports.grouping import Grouping, default_grouping
from crm.reports.rows import (
    FUNNEL_STAGES,
    BreakdownRow,
    Overview,
    ReportFilter,
    ReportScope,
    SeriesRow,
)
from web import charts
from web.access import signed_in
from web.exports import Column, Kind, Table, neutralise, to_csv, to_xlsx
from web.filters import parse_date, parse_id
from web.i18n import N_
from web.i18n import gettext as _
from web.keys import SERVICES
from web.render import render

STAGE_TITLES = {
    "contact": N_("Обращения"),
    "booked": N_("Записаны на визит"),
    "visited": N_("Пришли в офис"),
    "contract": N_("Заключили договор"),
    "paid": N_("Первая оплата"),
}
MONTHS = (
    N_("январь"),
    N_("февраль"),
    N_("март"),
    N_("апрель"),
    N_("май"),
    N_("июнь"),
    N_("июль"),
    N_("август"),
    N_("сентябрь"),
    N_("октябрь"),
    N_("ноябрь"),
    N_("декабрь"),
)
KIND_TITLES = {ContractKind.primary: N_("первичный"), ContractKind.secondary: N_("повторный")}
STATUS_TITLES = {
    ContractStatus.draft: N_("черновик"),
    ContractStatus.active: N_("действует"),
    ContractStatus.completed: N_("исполнен"),
    ContractStatus.terminated: N_("расторгнут"),
}
EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_TEXT_FILTER = 200

# The periods a report offers by name; any other span is a custom one, dates given.
REPORT_PRESETS = (PeriodPreset.day, PeriodPreset.week, PeriodPreset.month, PeriodPreset.custom)


@dataclass(frozen=True)
class ReportRequest:
    """The period, grouping and cuts a page or an export was asked for."""

    preset: PeriodPreset
    period: Period
    grouping: Grouping
    filters: ReportFilter

    def query(self) -> dict[str, str]:
        """The same report as a query string, with the period fixed to its dates."""
        values = {
            "period": PeriodPreset.custom.value,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "group": self.grouping.value,
            "operator": str(self.filters.operator_id or ""),
            "lawyer": str(self.filters.lawyer_id or ""),
            "topic": self.filters.topic or "",
            "source": self.filters.source or "",
        }
        return {key: value for key, value in values.items() if value}


def parse_report_request(query: Mapping[str, str], today: date) -> ReportRequest:
    """The report asked for in the query string; 400 with a Russian message if it makes no
    sense. Without a period, this month, grouped by day."""
    try:
        preset = PeriodPreset(query.get("period") or PeriodPreset.month.value)
    except ValueError:
        preset = None
    if preset not in REPORT_PRESETS:
        raise web.HTTPBadRequest(text=_("Неизвестный период"))
    if preset is PeriodPreset.custom:
        start, end = parse_date(query.get("from", "")), parse_date(query.get("to", ""))
        if start is None or end is None:
            raise web.HTTPBadRequest(text=_("Укажите даты начала и конца периода"))
        period = Period(start, end)
    else:
        period = preset_period(preset, today)
    group = query.get("group", "")
    try:
        grouping = Grouping(group) if group else default_grouping(period)
    except ValueError:
        raise web.HTTPBadRequest(text=_("Неизвестная группировка")) from None
    filters = ReportFilter(
        operator_id=parse_id(query.get("operator"), _("Оператор")),
        lawyer_id=parse_id(query.get("lawyer"), _("Юрист")),
        topic=query.get("topic", "").strip()[:MAX_TEXT_FILTER] or None,
        source=query.get("source", "").strip()[:MAX_TEXT_FILTER] or None,
    )
    return ReportRequest(preset, period, grouping, filters)


def report_scope(role: Role) -> ReportScope:
    """The whole firm's figures for whom the table allows them (the director); the call
    centre's for the other jobs that see statistics (the call-centre head)."""
    firm = scope_of(role, Action.view_firm_statistics) is not None
    return ReportScope.firm if firm else ReportScope.call_centre


def bucket_label(row: SeriesRow, grouping: Grouping, *, short: bool = False) -> str:
    """27.11.2026 (or 27.11 on a chart's axis), 23.11–29.11 for a week, "ноябрь 2026"."""
    if grouping is Grouping.day:
        return row.start.strftime("%d.%m") if short else format_date(row.start)
    if grouping is Grouping.week:
        return f"{row.start:%d.%m}–{row.end:%d.%m}"
    month = _(MONTHS[row.start.month - 1])
    return month if short else f"{month} {row.start.year}"


async def reports_page(request: web.Request) -> web.StreamResponse:
    """The statistics page: funnel, charts and tables; the call centre sees its own figures."""
    user = signed_in(request)
    services = request.app[SERVICES]
    role = user.employee.role
    scope = report_scope(role)
    asked = parse_report_request(request.query, services.reports.today())
    overview = await services.reports.overview(
        asked.period, filters=asked.filters, grouping=asked.grouping, scope=scope
    )
    choices = await services.reports.choices(asked.period)
    export_scope = scope_of(role, Action.export_reports)
    exports = {}
    if export_scope is not None:
        for kind in _kinds_for(report_scope(role)):
            exports[kind] = {
                fmt: "/reports/export?" + urlencode({**asked.query(), "kind": kind, "format": fmt})
                for fmt in EXPORT_FORMATS
            }
    return render(
        request,
        "reports.html",
        {
            "asked": asked,
            "overview": overview,
            "firm": scope is ReportScope.firm,
            "choices": choices,
            "funnel": overview.funnel.steps(),
            "stage_titles": {stage: _(title) for stage, title in STAGE_TITLES.items()},
            "charts": _charts(overview),
            "labels": [bucket_label(row, overview.grouping) for row in overview.series],
            "exports": exports,
            "percent": charts.format_percent,
            "count": charts.format_count,
            "groupings": {
                Grouping.day: _("по дням"),
                Grouping.week: _("по неделям"),
                Grouping.month: _("по месяцам"),
            },
            "presets": {
                PeriodPreset.day: _("Сегодня"),
                PeriodPreset.week: _("Эта неделя"),
                PeriodPreset.month: _("Этот месяц"),
                PeriodPreset.custom: _("Свой период"),
            },
        },
    )


def _charts(overview: Overview) -> dict[str, Markup]:
    series, grouping = overview.series, overview.grouping
    axis = [bucket_label(row, grouping, short=True) for row in series]

    def values(pick: Callable[[SeriesRow], int]) -> list[float]:
        return [float(pick(row)) for row in series]

    drawn = {
        "funnel": charts.funnel_chart(
            [
                charts.FunnelBar(_(STAGE_TITLES[step.stage]), step.count, step.of_previous)
                for step in overview.funnel.steps()
            ],
            title=_("Воронка продаж"),
            chart_id="chart-funnel",
        ),
        "calls": charts.line_chart(
            axis,
            [
                charts.Series(_("Входящие"), values(lambda r: r.calls_in)),
                charts.Series(_("Исходящие"), values(lambda r: r.calls_out)),
                charts.Series(_("Пропущенные"), values(lambda r: r.calls_missed)),
            ],
            title=_("Звонки"),
            chart_id="chart-calls",
        ),
        "visits": charts.column_chart(
            axis,
            [
                charts.Series(_("Записано визитов"), values(lambda r: r.visits_booked)),
                charts.Series(_("Пришли"), values(lambda r: r.visits_attended)),
            ],
            title=_("Визиты в офис"),
            chart_id="chart-visits",
        ),
        "operators": charts.bar_chart(
            [(row.name, float(row.booked)) for row in overview.operators],
            title=_("Записано клиентов на визит по операторам"),
            chart_id="chart-operators",
        ),
    }
    if overview.scope is ReportScope.firm:
        drawn["money"] = charts.line_chart(
            axis,
            [
                charts.Series(_("Поступления"), values(lambda r: r.income)),
                charts.Series(_("Расходы"), values(lambda r: r.expenses)),
            ],
            title=_("Поступления и расходы"),
            chart_id="chart-money",
            measure=charts.MONEY,
        )
        drawn["plan"] = charts.column_chart(
            axis,
            [
                charts.Series(_("План"), values(lambda r: r.plan)),
                charts.Series(_("Факт"), values(lambda r: r.income)),
            ],
            title=_("План поступлений и факт"),
            chart_id="chart-plan",
            measure=charts.MONEY,
        )
        drawn["contracts"] = charts.column_chart(
            axis,
            [
                charts.Series(_("Первичные"), values(lambda r: r.primary_contracts)),
                charts.Series(_("Повторные"), values(lambda r: r.secondary_contracts)),
            ],
            title=_("Заключено договоров"),
            chart_id="chart-contracts",
            stacked=True,
        )
        drawn["lawyers"] = charts.bar_chart(
            [(row.name, float(row.contract_kopecks)) for row in overview.lawyers],
            title=_("Сумма договоров по юристам"),
            chart_id="chart-lawyers",
            measure=charts.MONEY,
        )
        drawn["sources"] = charts.bar_chart(
            [(_source_label(row), float(row.funnel.contacts)) for row in overview.by_source],
            title=_("Обращения по источникам"),
            chart_id="chart-sources",
        )
    return drawn


def _source_label(row: BreakdownRow) -> str:
    return row.label or _("не указано")


# Export ----------------------------------------------------------------------------------

CALL_CENTRE_KINDS = ("funnel", "series", "operators")
FIRM_KINDS = (*CALL_CENTRE_KINDS, "lawyers", "topics", "sources", "contracts")


def _kinds_for(scope: ReportScope) -> Sequence[str]:
    return FIRM_KINDS if scope is ReportScope.firm else CALL_CENTRE_KINDS


async def export_report(request: web.Request) -> web.StreamResponse:
    """A report as CSV or XLSX; the journal records which, for what period, how many rows."""
    user = signed_in(request)
    services = request.app[SERVICES]
    me = user.employee.id
    scope = report_scope(user.employee.role)
    kind, fmt = request.query.get("kind", ""), request.query.get("format", "")
    if fmt not in EXPORT_FORMATS:
        raise web.HTTPBadRequest(text=_("Формат выгрузки: csv или xlsx"))
    if kind not in FIRM_KINDS:
        raise web.HTTPBadRequest(text=_("Неизвестный отчёт"))
    if kind not in _kinds_for(scope):
        await services.journal.record(
            me,
            Action.export_reports.value,
            object_type="report",
            object_id=kind,
            allowed=False,
            detail="Отчёт вне прав колл-центра",
        )
        raise web.HTTPForbidden(text=_("Этот отчёт колл-центру недоступен"))
    asked = parse_report_request(request.query, services.reports.today())
    table = await _export_table(request, kind, asked, scope)
    # A year's contract list is tens of thousands of rows: written off the event loop.
    body = await asyncio.to_thread(to_csv if fmt == "csv" else to_xlsx, table)
    await services.journal.record(
        me,
        Action.export_reports.value,
        object_type="report",
        object_id=kind,
        detail=_journal_detail(kind, fmt, asked, len(table.rows)),
    )
    name = f"lexcrm-{kind}-{asked.period.start:%Y%m%d}-{asked.period.end:%Y%m%d}.{fmt}"
    return web.Response(
        body=body,
        headers={
            "Content-Type": EXPORT_FORMATS[fmt],
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _journal_detail(kind: str, fmt: str, asked: ReportRequest, rows: int) -> str:
    """Which report, in what format, for what period and cuts, how many rows: in Russian,
    as the journal page shows it; free text through the same neutralising as the files."""
    cuts = []
    if asked.filters.operator_id is not None:
        cuts.append(f"оператор #{asked.filters.operator_id}")
    if asked.filters.lawyer_id is not None:
        cuts.append(f"юрист #{asked.filters.lawyer_id}")
    if asked.filters.topic is not None:
        cuts.append(f"тема «{neutralise(asked.filters.topic)[:60]}»")
    if asked.filters.source is not None:
        cuts.append(f"источник «{neutralise(asked.filters.source)[:60]}»")
    period = f"{format_date(asked.period.start)}–{format_date(asked.period.end)}"
    detail = f"Выгрузка {kind}.{fmt}: период {period}, строк {rows}"
    return detail + (f"; отбор: {', '.join(cuts)}" if cuts else "")


async def _export_table(
    request: web.Request, kind: str, asked: ReportRequest, scope: ReportScope
) -> Table:
    reports = request.app[SERVICES].reports
    name = f"{kind} {asked.period.start:%d.%m.%Y}-{asked.period.end:%d.%m.%Y}"
    if kind == "contracts":
        lines = await reports.contract_lines(asked.period, asked.filters)
        return Table(
            name,
            [
                Column(_("Номер договора")),
                Column(_("Подписан"), Kind.date),
                Column(_("Клиент")),
                Column(_("Юрист")),
                Column(_("Вид")),
                Column(_("Статус")),
                Column(_("Сумма, ₽"), Kind.money),
            ],
            [
                [
                    line.number,
                    line.signed_on,
                    line.client_name,
                    line.lawyer_name,
                    _(KIND_TITLES[line.kind]),
                    _(STATUS_TITLES[line.status]),
                    line.amount_kopecks,
                ]
                for line in lines
            ],
        )
    if kind == "funnel":
        funnel = await reports.funnel(asked.period, asked.filters)
        return Table(
            name,
            [
                Column(_("Этап")),
                Column(_("Клиентов"), Kind.number),
                Column(_("От предыдущего этапа"), Kind.percent),
                Column(_("От обращений"), Kind.percent),
            ],
            [
                [_(STAGE_TITLES[step.stage]), step.count, step.of_previous, step.of_first]
                for step in funnel.steps()
            ],
        )
    overview = await reports.overview(
        asked.period, filters=asked.filters, grouping=asked.grouping, scope=scope
    )
    if kind == "series":
        return _series_table(name, overview)
    if kind == "operators":
        return Table(
            name,
            [
                Column(_("Оператор")),
                Column(_("Принято звонков"), Kind.number),
                Column(_("Исходящих звонков"), Kind.number),
                Column(_("Записал клиентов"), Kind.number),
                Column(_("Пришли"), Kind.number),
                Column(_("Заключили договор"), Kind.number),
                Column(_("Оплатили"), Kind.number),
                Column(_("Конверсия звонков в запись"), Kind.percent),
                Column(_("Конверсия записанных в договор"), Kind.percent),
            ],
            [
                [
                    row.name,
                    row.calls_in,
                    row.calls_out,
                    row.booked,
                    row.came,
                    row.contracted,
                    row.paid,
                    row.booking_rate,
                    row.contract_rate,
                ]
                for row in overview.operators
            ],
        )
    if kind == "lawyers":
        return Table(
            name,
            [
                Column(_("Юрист")),
                Column(_("Проведено визитов"), Kind.number),
                Column(_("Первичных договоров"), Kind.number),
                Column(_("Повторных договоров"), Kind.number),
                Column(_("Сумма договоров, ₽"), Kind.money),
                Column(_("План, ₽"), Kind.money),
                Column(_("Поступило, ₽"), Kind.money),
                Column(_("Выполнение плана"), Kind.percent),
            ],
            [
                [
                    row.name,
                    row.visits,
                    row.primary_contracts,
                    row.secondary_contracts,
                    row.contract_kopecks,
                    row.plan,
                    row.income,
                    row.plan_done,
                ]
                for row in overview.lawyers
            ],
        )
    rows = overview.by_topic if kind == "topics" else overview.by_source
    return _breakdown_table(name, _("Тема") if kind == "topics" else _("Источник"), rows)


def _series_table(name: str, overview: Overview) -> Table:
    columns = [Column(_("С"), Kind.date), Column(_("По"), Kind.date)]
    picks: list[Callable[[SeriesRow], Any]] = [lambda r: r.start, lambda r: r.end]
    if overview.scope is ReportScope.firm:
        money = [
            (_("Поступления, ₽"), lambda r: r.income),
            (_("Расходы, ₽"), lambda r: r.expenses),
            (_("План, ₽"), lambda r: r.plan),
        ]
        columns += [Column(title, Kind.money) for title, _pick in money]
        picks += [pick for _title, pick in money]
        columns.append(Column(_("Выполнение плана"), Kind.percent))
        picks.append(lambda r: r.plan_done)
        contracts: list[tuple[str, Kind, Callable[[SeriesRow], Any]]] = [
            (_("Первичных договоров"), Kind.number, lambda r: r.primary_contracts),
            (_("Сумма первичных, ₽"), Kind.money, lambda r: r.primary_kopecks),
            (_("Повторных договоров"), Kind.number, lambda r: r.secondary_contracts),
            (_("Сумма повторных, ₽"), Kind.money, lambda r: r.secondary_kopecks),
        ]
        columns += [Column(title, kind) for title, kind, _pick in contracts]
        picks += [pick for _title, _kind, pick in contracts]
    counts: list[tuple[str, Callable[[SeriesRow], Any]]] = [
        (_("Входящих звонков"), lambda r: r.calls_in),
        (_("Пропущенных"), lambda r: r.calls_missed),
        (_("Исходящих звонков"), lambda r: r.calls_out),
        (_("Записано визитов"), lambda r: r.visits_booked),
        (_("Пришли на визит"), lambda r: r.visits_attended),
    ]
    columns += [Column(title, Kind.number) for title, _pick in counts]
    picks += [pick for _title, pick in counts]
    return Table(name, columns, [[pick(row) for pick in picks] for row in overview.series])


def _breakdown_table(name: str, title: str, rows: Sequence[BreakdownRow]) -> Table:
    stage_columns = [Column(_(STAGE_TITLES[stage]), Kind.number) for stage in FUNNEL_STAGES]
    return Table(
        name,
        [Column(title), *stage_columns, Column(_("Конверсия в договор"), Kind.percent)],
        [[_source_label(row), *row.funnel.counts(), row.funnel.conversion] for row in rows],
    )
