"""The statistics charts: escaped labels, a title and description, Russian figures, round axes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from markupsafe import Markup

from web.charts import (
    MONEY,
    FunnelBar,
    Series,
    bar_chart,
    column_chart,
    format_compact,
    format_count,
    format_percent,
    funnel_chart,
    line_chart,
    nice_ticks,
)

HOSTILE = '<script>alert("x")</script> & «Сайт»'
SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    """The chart as XML: it must be well formed, whatever the labels held."""
    return ET.fromstring(markup)  # noqa: S314 - markup this test just drew, no outside XML


@pytest.mark.parametrize(
    "draw",
    [
        lambda: funnel_chart([FunnelBar(HOSTILE, 10, None)], title=HOSTILE, chart_id="c"),
        lambda: bar_chart([(HOSTILE, 5.0)], title=HOSTILE, chart_id="c"),
        lambda: column_chart(["01.11"], [Series(HOSTILE, [3.0])], title=HOSTILE, chart_id="c"),
        lambda: line_chart(["01.11"], [Series(HOSTILE, [3.0])], title=HOSTILE, chart_id="c"),
    ],
)
def test_every_chart_escapes_its_labels_and_names_itself(draw: Callable[[], Markup]) -> None:
    markup = str(draw())
    assert "<script>" not in markup
    svg = _parse(markup)
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c-title c-desc"
    title = svg.find(f"{SVG}title")
    assert title is not None and title.text == HOSTILE
    assert svg.find(f"{SVG}desc") is not None
    # Each bar or point says its own figure when hovered.
    assert any(HOSTILE in (element.text or "") for element in svg.iter(f"{SVG}title"))
    assert "style=" not in markup  # the pages' Content-Security-Policy allows no inline style


def test_money_is_exact_in_tooltips_and_brief_on_the_axis() -> None:
    markup = str(
        column_chart(
            ["ноябрь"],
            [Series("План", [125_000_050.0]), Series("Факт", [0.0])],
            title="План и факт",
            chart_id="plan",
            measure=MONEY,
        )
    )
    assert "ноябрь — План: 1\u202f250\u202f000,50\u00a0₽" in markup
    axis = re.findall(r">([^<>]*млн)</text>", markup)
    assert axis and axis[0].endswith("\u00a0млн")


def test_russian_figures() -> None:
    assert format_count(1234567) == "1\u202f234\u202f567"
    assert format_count(12.5) == "12,5"
    assert format_percent(42.857) == "42,9\u00a0%"
    assert format_percent(None) == "—"
    assert format_compact(950) == "950"
    assert format_compact(12_400) == "12,4\u00a0тыс."
    assert format_compact(3_000_000) == "3\u00a0млн"


def test_axis_ticks_are_round_and_cover_the_highest_value() -> None:
    assert nice_ticks(0) == [0.0, 1.0]
    assert nice_ticks(7) == [0.0, 2.0, 4.0, 6.0, 8.0]
    ticks = nice_ticks(1_234_567)
    assert ticks[-1] >= 1_234_567 and ticks[1] == 500_000
