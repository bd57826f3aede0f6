"""Normalisation of typed phone numbers to E.164, and errors that never repeat the input."""

from __future__ import annotations

import re

import pytest

from crm.core.errors import InvalidPhoneNumber
from crm.core.phones import normalise_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8 921 123-45-67", "+79211234567"),
        ("+7 (921) 123-45-67", "+79211234567"),
        ("9211234567", "+79211234567"),
        ("89211234567", "+79211234567"),
        ("+79211234567", "+79211234567"),
        ("  8-921-123-45-67  ", "+79211234567"),
        ("8 (812) 315-17-01", "+78123151701"),  # a St Petersburg landline
        ("+44 20 7946 0018", "+442079460018"),  # a foreign number keeps its country
    ],
)
def test_normalises_to_e164(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


def test_region_decides_numbers_without_plus() -> None:
    assert normalise_phone("020 7946 0018", region="GB") == "+442079460018"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "abc",
        "123",
        "+7 000",
        "1" * 30,
        "8 921 123-45-6",
        "+7 921 123-45-67-89-01",
        "9" * 65,
    ],
)
def test_rejects_what_is_not_a_valid_number(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalise_phone(raw)
    message = str(caught.value)
    assert message  # says something
    # No part of the input may be echoed: it could be a client's number.
    assert not re.search(r"[0-9]", message)
    assert caught.value.error_id == "invalid-phone-number"
    assert caught.value.http_status == 400
    # The parser's own exception is not chained in, so a traceback does not carry it either.
    error = caught.value
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
