"""Settings: every one documented, file and environment loading, clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from lexcrm.settings import Settings, SettingsError, load_settings, setting_fields

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    missing = [f.name for f in setting_fields() if f"| `{f.name}` |" not in readme]
    assert missing == []


def test_every_setting_has_a_help_line() -> None:
    assert all(len(f.metadata.get("help", "")) > 10 for f in setting_fields())


def test_defaults_without_file_or_environment() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.database.startswith("sqlite+aiosqlite:///")
    assert settings.database.endswith("/var/lexcrm.sqlite3")


def test_environment_wins_over_file(tmp_path: Path) -> None:
    config = tmp_path / "lexcrm.toml"
    config.write_text('web_port = 9000\ndata_dir = "/srv/firm"\n')
    settings = load_settings(config, environ={"LEXCRM_WEB_PORT": "9100"})
    assert settings.web_port == 9100
    assert settings.data_dir == Path("/srv/firm")


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    config = tmp_path / "lexcrm.toml"
    config.write_text("session_idle_minutes = 15\n")
    settings = load_settings(environ={"LEXCRM_CONFIG": str(config)})
    assert settings.session_idle_minutes == 15


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("web_port = 'eighty'\n", "web_port"),
        ("web_port = 70000\n", "web_port"),
        ("no_such_setting = 1\n", "no_such_setting"),
        ("web_port = \n", "не читается"),
        ("rtp_port_start = 3000\nrtp_port_end = 2000\n", "rtp_port_start"),
    ],
)
def test_bad_file_values_are_named(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "lexcrm.toml"
    config.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(config, environ={})


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="не найден"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_bad_environment_value_is_named() -> None:
    with pytest.raises(SettingsError, match="ami_port"):
        load_settings(environ={"LEXCRM_AMI_PORT": "x"})


def test_hearing_days_move_the_briefing_and_leave_the_debrief_the_day_after() -> None:
    from lexcrm.services import reminder_rules

    rules = reminder_rules(Settings(reminder_hearing_days=3))
    assert rules.briefing_days_before == 3 and rules.debrief_days_after == 1
