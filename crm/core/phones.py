"""Phone numbers as people type them, turned into E.164: the only form the CRM keeps."""

from __future__ import annotations

import phonenumbers

from crm.core.errors import InvalidPhoneNumber

# Longer input is not a phone number; refusing it early bounds the parser's work.
# A desk phone's internal number (its SIP extension): every layer checks it by this.
EXTENSION_DIGITS = "[0-9]{2,8}"
MAX_RAW_LENGTH = 64


def normalise_phone(raw: str, region: str = "RU") -> str:
    """The number in E.164 ("+7" and ten digits for Russia); raises InvalidPhoneNumber if not one.

    Numbers without "+" are read in `region`'s national format, so Russian "8 921 …" and
    "921 …" both become "+7 921 …". The error never repeats the input: it may be a
    client's number, and error texts reach logs and pages.
    """
    if len(raw) > MAX_RAW_LENGTH:
        raise InvalidPhoneNumber()
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        # `from None`: the parser's exception is chained into tracebacks, keep it out.
        raise InvalidPhoneNumber() from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber()
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
