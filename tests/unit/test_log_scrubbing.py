"""The log filter that blanks anything shaped like a phone number."""

from __future__ import annotations

import logging

import pytest

from lexcrm.logs import REDACTED, PhoneNumberScrubber, scrub_phone_numbers


@pytest.mark.parametrize(
    "number",
    ["+79215554321", "89215554321", "8 (921) 555-43-21", "+7 921 555 43 21", "921.555.43.21"],
)
def test_phone_numbers_in_any_format_are_blanked(number: str) -> None:
    scrubbed = scrub_phone_numbers(f"caller {number} hung up")
    assert scrubbed == f"caller {REDACTED} hung up"


@pytest.mark.parametrize("text", ["call c1234 ended", "port 5038", "2026-11-27 10:15:00", "1001"])
def test_ordinary_text_is_kept(text: str) -> None:
    assert scrub_phone_numbers(text) == text


def test_filter_scrubs_arguments_and_exception_text() -> None:
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "from %s", ("+79215554321",), None)
    try:
        raise ValueError("bad number 8 921 555 43 21")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert PhoneNumberScrubber().filter(record)
    assert "5554321" not in record.getMessage()
    assert record.exc_text is not None and "555 43 21" not in record.exc_text
