"""The dialplan renderer: a golden file, and data that must never reach extensions.conf."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dialplan.render import DialplanData, InternalExtension, InvalidDialplanData, render_extensions

GOLDEN = Path(__file__).parent.parent / "golden" / "extensions.conf"


PEPPER = "0123456789abcdef" * 4
SEAL_KEY = "AbCdEfGh12345678"


def golden_data(**overrides: object) -> DialplanData:
    values: dict[str, object] = {
        "recording_dir": "/srv/lexcrm/main/recordings",
        "pepper": PEPPER,
        "seal_key": SEAL_KEY,
        "extensions": [InternalExtension("1002"), InternalExtension("1001")],
    }
    values.update(overrides)
    return DialplanData(**values)  # type: ignore[arg-type]


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
    # Literal extensions and client codes only: no pattern (_X., _8XXX...) that could
    # match a city or mobile number, and no Dial to the trunk from here.
    patterns = [line for line in internal.splitlines() if line.startswith("exten => _")]
    assert patterns and all(
        line.startswith(("exten => _c[1-9]!,", "exten => _*[1-9]!,")) for line in patterns
    )
    assert "@trunk" not in internal
    assert "exten => 1001,1" in internal and "exten => 1002,1" in internal


def test_trunk_context_reaches_no_outbound_route() -> None:
    rendered = render_extensions(golden_data())
    for context in ("[from-trunk]", "[lexcrm-inbound]"):
        body = rendered.split(context)[1].split("\n[")[0]
        assert "@trunk" not in body and "lexcrm-call-client" not in body
        assert "lexcrm-dial-client" not in body


@pytest.mark.parametrize(
    "overrides",
    [
        {"pepper": "abc;def"},
        {"seal_key": "short"},
        {"firm_name": "Фирма, (ООО)"},
        {"firm_number": "8 812 000"},
        {"notice_sound": "a,b"},
    ],
)
def test_unsafe_values_never_reach_the_dialplan(overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidDialplanData):
        render_extensions(golden_data(**overrides))


@pytest.mark.parametrize("bad", ["", "1", "12a4", "_X.", "123456789", "1001\nexten => _X.", "*97"])
def test_extension_must_be_literal_digits(bad: str) -> None:
    with pytest.raises(InvalidDialplanData):
        InternalExtension(bad)


@pytest.mark.parametrize("bad", ["relative/dir", "/a;b", "/a,b", "/a\n[evil]", "/a(b)"])
def test_recording_dir_is_checked(bad: str) -> None:
    with pytest.raises(InvalidDialplanData):
        render_extensions(golden_data(recording_dir=bad))


def test_duplicate_extensions_are_refused() -> None:
    with pytest.raises(InvalidDialplanData):
        render_extensions(
            golden_data(extensions=[InternalExtension("1001"), InternalExtension("1001")])
        )
