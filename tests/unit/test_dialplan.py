"""The dialplan renderer: a golden file, and data that must never reach extensions.conf."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dialplan.render import DialplanData, InternalExtension, InvalidDialplanData, render_extensions

GOLDEN = Path(__file__).parent.parent / "golden" / "extensions.conf"


def golden_data() -> DialplanData:
    return DialplanData(
        recording_dir="/srv/lexcrm/main/recordings",
        extensions=[InternalExtension("1002"), InternalExtension("1001")],
    )


def test_extensions_conf_matches_golden_file() -> None:
    rendered = render_extensions(golden_data())
    if os.environ.get("LEXCRM_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(rendered)
    assert rendered == GOLDEN.read_text(), (
        "extensions.conf changed; if on purpose, rerun with LEXCRM_UPDATE_GOLDEN=1 and review"
    )


def test_internal_context_cannot_reach_outside_numbers() -> None:
    rendered = render_extensions(golden_data())
    internal = rendered.split("[lexcrm-internal]")[1].split("\n[")[0]
    # Only literal extensions: no pattern (_X., _8XXX...) that could match a city number.
    assert "exten => _" not in internal
    assert "exten => 1001,1" in internal and "exten => 1002,1" in internal


@pytest.mark.parametrize("bad", ["", "1", "12a4", "_X.", "123456789", "1001\nexten => _X.", "*97"])
def test_extension_must_be_literal_digits(bad: str) -> None:
    with pytest.raises(InvalidDialplanData):
        InternalExtension(bad)


@pytest.mark.parametrize("bad", ["relative/dir", "/a;b", "/a,b", "/a\n[evil]", "/a(b)"])
def test_recording_dir_is_checked(bad: str) -> None:
    with pytest.raises(InvalidDialplanData):
        render_extensions(DialplanData(recording_dir=bad))


def test_duplicate_extensions_are_refused() -> None:
    with pytest.raises(InvalidDialplanData):
        render_extensions(
            DialplanData(
                recording_dir="/r",
                extensions=[InternalExtension("1001"), InternalExtension("1001")],
            )
        )
