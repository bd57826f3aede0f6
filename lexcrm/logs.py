"""Logging of a lexcrm process: stderr and a file, phone numbers scrubbed from every line."""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler

from lexcrm.settings import Settings

# Anything that looks like a full phone number: 10 to 15 digits, possibly split by spaces,
# dashes, dots or brackets, with an optional +; but not a timestamp ("2026-11-27 10:15").
# Code must never log a number in the first place; this is the second line of defence for
# what slips through (an exception's text, say).
PHONE_LIKE = re.compile(r"\+?(?<![\d:])\d(?:[\s().-]{0,2}\d){9,14}(?![\d:])")
REDACTED = "[номер скрыт]"


def scrub_phone_numbers(text: str) -> str:
    return PHONE_LIKE.sub(REDACTED, text)


class PhoneNumberScrubber(logging.Filter):
    """Rewrites each record's final text with phone-like digit runs replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        scrubbed = scrub_phone_numbers(message)
        if record.exc_text:
            record.exc_text = scrub_phone_numbers(record.exc_text)
        if scrubbed != message or record.args:
            record.msg, record.args = scrubbed, None
        return True


def configure_logging(settings: Settings) -> None:
    """Root logger: stderr plus <data_dir>/log/lexcrm.log, both scrubbed."""
    root = logging.getLogger()
    root.setLevel(settings.log_level.upper())
    for handler in list(root.handlers):
        if getattr(handler, "lexcrm", False):
            root.removeHandler(handler)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [
        logging.StreamHandler(),
        RotatingFileHandler(
            settings.log_dir / "lexcrm.log", maxBytes=10_000_000, backupCount=5, encoding="utf-8"
        ),
    ]
    # panoramisk logs each AMI message whole at DEBUG, caller numbers included: never let
    # it speak below WARNING, whatever the level of the rest.
    logging.getLogger("panoramisk").setLevel(logging.WARNING)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(PhoneNumberScrubber())
        handler.lexcrm = True  # type: ignore[attr-defined]
        root.addHandler(handler)
