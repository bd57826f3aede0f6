"""SVG charts drawn on the server for the statistics pages: funnel, bars, columns and lines.

Every text that goes into a chart passes through markupsafe.escape; colours are attributes
(the pages' Content-Security-Policy allows no inline style), so the charts need neither a
script nor anything from the internet. Each chart is an image with a <title> and <desc>,
and each bar or point carries its own <title> with the exact figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from crm.core.formatting import NARROW_NBSP, format_money
from web.i18n import gettext as _

PALETTE = ("#2f6f9f", "#d9822b", "#4e9a50", "#b8423c", "#7a5aa6")
WIDTH = 720
AXIS_COLOUR = "#8a8a8a"
TEXT_COLOUR = "#333"
MAX_X_LABELS = 12
TITLE_HEIGHT = 24  # the chart's own heading, drawn above the plot


def format_count(value: float) -> str:
    """12 345 (grouped by a narrow no-break space); 12,5 for a fraction."""
    if abs(value - round(value)) < 0.005:
        return f"{round(value):,}".replace(",", NARROW_NBSP)
    return f"{value:,.1f}".replace(",", NARROW_NBSP).replace(".", ",")


def format_percent(value: float | None) -> str:
    """42,9 % (a no-break space before the sign, as Russian typography has it)."""
    if value is None:
        return "—"
    return f"{value:.1f}".replace(".", ",") + "\u00a0%"


def format_compact(value: float) -> str:
    """Axis figures: 950, 12 тыс., 1,2 млн, 3,4 млрд."""
    size = abs(value)
    for threshold, unit in ((1e9, _("млрд")), (1e6, _("млн")), (1e3, _("тыс."))):
        if size >= threshold:
            return f"{format_count(round(value / threshold, 1))}\u00a0{unit}"
    return format_count(value)


@dataclass(frozen=True)
class Measure:
    """How a chart shows its values: exactly (in the tooltips) and briefly (on the axis)."""

    exact: Callable[[float], str]
    compact: Callable[[float], str]


COUNT = Measure(format_count, format_compact)
PERCENT = Measure(format_percent, format_percent)
# Money is kept in kopecks: the tooltip shows it to the kopeck, the axis in roubles.
MONEY = Measure(
    lambda kopecks: format_money(round(kopecks)),
    lambda kopecks: format_compact(kopecks / 100),
)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


@dataclass(frozen=True)
class FunnelBar:
    label: str
    count: int
    of_previous: float | None  # percent of the stage before


def nice_ticks(highest: float, count: int = 4) -> list[float]:
    """Round axis ticks from 0 covering `highest`: steps of 1, 2 or 5 times a power of ten."""
    if highest <= 0:
        return [0.0, 1.0]
    rough = highest / count
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    ticks = [0.0]
    while ticks[-1] < highest:
        ticks.append(ticks[-1] + step)
    return ticks


def _open(chart_id: str, title: str, description: str, height: int) -> list[str]:
    key = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="{key}-title {key}-desc">',
        f'<title id="{key}-title">{escape(title)}</title>',
        f'<desc id="{key}-desc">{escape(description)}</desc>',
        # Drawn as well: <title> is only a tooltip and what a screen reader says.
        f'<text x="0" y="15" font-size="13" font-weight="600" fill="{TEXT_COLOUR}" '
        f'aria-hidden="true">{escape(title)}</text>',
    ]


def _close(parts: list[str]) -> Markup:
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{TEXT_COLOUR}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def _legend(series: Sequence[Series], y: float, left: float) -> list[str]:
    parts, x = [], left
    for index, item in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(x + 14, y, item.name))
        x += 24 + 7 * len(item.name)
    return parts


def funnel_chart(bars: Sequence[FunnelBar], *, title: str, chart_id: str) -> Markup:
    """Centred bars, each as wide as its stage's share of the first, with the step's rate."""
    row, top, label_width, value_width = 34, TITLE_HEIGHT + 4, 150, 130
    height = top + row * len(bars) + 4
    first = bars[0].count if bars else 0
    usable = WIDTH - label_width - value_width
    summary = "; ".join(f"{bar.label}: {format_count(bar.count)}" for bar in bars)
    parts = _open(chart_id, title, summary, height)
    for index, bar in enumerate(bars):
        y = top + index * row
        size = usable * bar.count / first if first else 0
        x = label_width + (usable - size) / 2
        colour = PALETTE[index % len(PALETTE)]
        tooltip = f"{bar.label}: {format_count(bar.count)}"
        if bar.of_previous is not None:
            share = {"share": format_percent(bar.of_previous)}
            tooltip += " (" + _("%(share)s от предыдущего этапа") % share + ")"
        parts.append(
            f'<rect class="funnel-bar" x="{x:.1f}" y="{y:.1f}" width="{max(size, 1):.1f}" '
            f'height="{row - 8}" fill="{colour}"><title>{escape(tooltip)}</title></rect>'
        )
        parts.append(_text(label_width - 8, y + row / 2, bar.label, anchor="end", size=12))
        value = format_count(bar.count)
        if bar.of_previous is not None:
            value += f" · {format_percent(bar.of_previous)}"
        parts.append(_text(WIDTH - value_width + 8, y + row / 2, value, size=12))
    return _close(parts)


def bar_chart(
    rows: Sequence[tuple[str, float]], *, title: str, chart_id: str, measure: Measure = COUNT
) -> Markup:
    """Horizontal bars, one per row, longest first as given: for figures by a cut."""
    row, top, label_width, value_width = 22, TITLE_HEIGHT + 2, 210, 130
    height = top + row * max(len(rows), 1) + 4
    highest = max((value for _label, value in rows), default=0) or 1
    usable = WIDTH - label_width - value_width
    summary = "; ".join(f"{label}: {measure.exact(value)}" for label, value in rows[:20])
    parts = _open(chart_id, title, summary or _("Нет данных"), height)
    for index, (label, value) in enumerate(rows):
        y = top + index * row
        size = usable * max(value, 0) / highest
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(_text(label_width - 8, y + 14, short, anchor="end"))
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{max(size, 1):.1f}" height="{row - 6}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {escape(measure.exact(value))}'
            "</title></rect>"
        )
        parts.append(_text(label_width + size + 6, y + 14, measure.exact(value)))
    return _close(parts)


class _Plot:
    """The frame of a chart over time: the y axis with round ticks and thinned x labels."""

    left, right, top, bottom = 64, 12, TITLE_HEIGHT + 14, 42
    height = 264

    def __init__(self, labels: Sequence[str], highest: float, measure: Measure) -> None:
        self.labels = labels
        self.ticks = nice_ticks(highest)
        self.measure = measure
        self.inner_width = WIDTH - self.left - self.right
        self.inner_height = self.height - self.top - self.bottom
        self.slot = self.inner_width / max(len(labels), 1)

    def y(self, value: float) -> float:
        top = self.ticks[-1] or 1
        return self.top + self.inner_height * (1 - max(value, 0) / top)

    def x_centre(self, index: int) -> float:
        return self.left + self.slot * (index + 0.5)

    def axes(self) -> list[str]:
        parts = []
        for tick in self.ticks:
            y = self.y(tick)
            parts.append(
                f'<line x1="{self.left}" y1="{y:.1f}" x2="{WIDTH - self.right}" y2="{y:.1f}" '
                f'stroke="{AXIS_COLOUR}" stroke-width="{1 if tick == 0 else 0.3}"/>'
            )
            parts.append(_text(self.left - 6, y + 4, self.measure.compact(tick), anchor="end"))
        step = math.ceil(len(self.labels) / MAX_X_LABELS) or 1
        for index in range(0, len(self.labels), step):
            parts.append(
                _text(
                    self.x_centre(index),
                    self.top + self.inner_height + 14,
                    self.labels[index],
                    anchor="middle",
                    size=10,
                )
            )
        return parts


def column_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    chart_id: str,
    measure: Measure = COUNT,
    stacked: bool = False,
) -> Markup:
    """Columns per period: side by side (plan against fact) or stacked (parts of a whole)."""
    if stacked:
        columns = zip(*(item.values for item in series), strict=True)
        highest = max((sum(values) for values in columns), default=0)
    else:
        highest = max((max(s.values, default=0) for s in series), default=0)
    plot = _Plot(labels, highest, measure)
    parts = _open(chart_id, title, _describe(labels, series, measure), plot.height)
    parts += plot.axes()
    width = plot.slot * 0.8 / (1 if stacked else max(len(series), 1))
    for index, label in enumerate(labels):
        x = plot.x_centre(index) - plot.slot * 0.4
        base = 0.0
        for number, item in enumerate(series):
            value = item.values[index]
            top, bottom = (base + value, base) if stacked else (value, 0.0)
            y, y0 = plot.y(top), plot.y(bottom)
            colour = PALETTE[number % len(PALETTE)]
            tooltip = f"{label} — {item.name}: {measure.exact(value)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width - 0.5, 0.5):.1f}" '
                f'height="{max(y0 - y, 0):.1f}" fill="{colour}">'
                f"<title>{escape(tooltip)}</title></rect>"
            )
            if stacked:
                base += value
            else:
                x += width
    parts += _legend(series, plot.height - 8, plot.left)
    return _close(parts)


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    chart_id: str,
    measure: Measure = COUNT,
    area: bool = True,
) -> Markup:
    """Lines over time, the first series shaded down to the axis when `area` is set."""
    highest = max((max(s.values, default=0) for s in series), default=0)
    plot = _Plot(labels, highest, measure)
    parts = _open(chart_id, title, _describe(labels, series, measure), plot.height)
    parts += plot.axes()
    for number, item in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        points = [(plot.x_centre(i), plot.y(v)) for i, v in enumerate(item.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        if area and number == 0 and points:
            floor = plot.y(0)
            parts.append(
                f'<polygon points="{points[0][0]:.1f},{floor:.1f} {path} '
                f'{points[-1][0]:.1f},{floor:.1f}" fill="{colour}" fill-opacity="0.15"/>'
            )
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        radius = 3 if len(points) <= 62 else 1.5
        for (x, y), label, value in zip(points, labels, item.values, strict=True):
            tooltip = f"{label} — {item.name}: {measure.exact(value)}"
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}">'
                f"<title>{escape(tooltip)}</title></circle>"
            )
    parts += _legend(series, plot.height - 8, plot.left)
    return _close(parts)


def _describe(labels: Sequence[str], series: Sequence[Series], measure: Measure) -> str:
    """What a screen reader says of a chart: each series' total and its peak."""
    if not labels:
        return _("Нет данных")
    sentences = []
    for item in series:
        peak = max(range(len(item.values)), key=lambda i: item.values[i])
        sentences.append(
            _("%(name)s: всего %(total)s, больше всего %(peak)s (%(when)s)")
            % {
                "name": item.name,
                "total": measure.exact(sum(item.values)),
                "peak": measure.exact(item.values[peak]),
                "when": labels[peak],
            }
        )
    return "; ".join(sentences)
