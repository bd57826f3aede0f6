"""Bar charts drawn on the server as SVG: no script and nothing fetched from the internet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Colours as attributes, never style="": the pages' CSP allows no inline styles.
COLOURS = ("#2f6f9f", "#d9822b", "#b33")


@dataclass(frozen=True)
class Bar:
    label: str
    values: tuple[float, ...]  # stacked, bottom first


def stacked_columns(
    bars: Sequence[Bar], series: Sequence[str], *, title: str, height: int = 180
) -> Markup:
    """Vertical stacked columns, one per bar, with a legend of the series."""
    column, gap, left, bottom, top = 18, 6, 36, 34, 24
    width = left + len(bars) * (column + gap) + 10
    highest = max((sum(bar.values) for bar in bars), default=0) or 1
    scale = (height - bottom - top) / highest
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="14" font-size="12">{escape(title)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        'stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">'
        f"{_number(highest)}</text>",
    ]
    for index, bar in enumerate(bars):
        x = left + index * (column + gap) + gap
        y: float = height - bottom
        for series_index, value in enumerate(bar.values):
            size = value * scale
            y -= size
            colour = COLOURS[series_index % len(COLOURS)]
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{column}" height="{size:.1f}" '
                f'fill="{colour}"><title>{escape(bar.label)}: '
                f"{escape(series[series_index])} {_number(value)}</title></rect>"
            )
        parts.append(
            f'<text x="{x + column / 2}" y="{height - bottom + 12}" font-size="9" '
            f'text-anchor="middle">{escape(bar.label)}</text>'
        )
    for series_index, name in enumerate(series):
        x = left + series_index * 120
        parts.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="10" '
            f'fill="{COLOURS[series_index % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{height - 5}" font-size="10">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def horizontal_bars(
    rows: Sequence[tuple[str, float]], *, title: str, unit: str = "%", maximum: float = 100
) -> Markup:
    """One bar per row (a name and a value from 0 to `maximum`)."""
    label_width, bar_width, row_height, top = 200, 260, 20, 24
    height = top + row_height * len(rows) + 6
    width = label_width + bar_width + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="14" font-size="12">{escape(title)}</text>',
    ]
    for index, (label, value) in enumerate(rows):
        y = top + index * row_height
        size = bar_width * max(0.0, min(value, maximum)) / maximum if maximum else 0
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 13}" font-size="11" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{size:.1f}" height="13" '
            f'fill="{COLOURS[0]}"/>'
            f'<text x="{label_width + size + 4:.1f}" y="{y + 13}" font-size="11">'
            f"{_number(value)}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
