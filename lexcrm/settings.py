"""Settings of lexcrm: declared once with default and help, read once from file and environment."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm.reminders.rules import parse_hours, parse_ladder, parse_topic_periods, parse_work_days

ENV_PREFIX = "LEXCRM_"
CONFIG_FILE_ENV = "LEXCRM_CONFIG"


class SettingsError(Exception):
    """A settings file or variable that cannot be used; the message says which and why."""


def _setting(default: Any, help: str) -> Any:
    # The help line lives in the field's metadata so that `lexcrm settings` and the README
    # check read the same text the code declares.
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """All settings. Paths that are relative are taken from the directory lexcrm runs in."""

    data_dir: Path = _setting(
        Path("var"), "Folder for the database, logs and the local Asterisk run folders."
    )
    database_url: str = _setting(
        "",
        "SQLAlchemy URL of the database; empty means SQLite at <data_dir>/lexcrm.sqlite3 "
        "(for PostgreSQL: postgresql+asyncpg://user:password@host/db).",
    )
    key_file: Path = _setting(
        Path("var/secret/lexcrm.keys"),
        "Key file for personal data (created by `lexcrm init`, mode 0600). Keep it off the "
        "database disk and out of backups of the database.",
    )
    phone_region: str = _setting(
        "RU", "Country whose national format is assumed for numbers typed without +."
    )
    log_level: str = _setting("INFO", "Logging level: DEBUG, INFO, WARNING or ERROR.")
    web_host: str = _setting("127.0.0.1", "Address the web interface listens on.")
    web_port: int = _setting(8080, "Port of the web interface.")
    session_idle_minutes: int = _setting(
        60, "A web session that has been idle this many minutes is ended."
    )
    asterisk_binary: str = _setting(
        "",
        "Path of an asterisk binary to run; empty means `asterisk` on PATH, or else a Debian "
        "unstable root file system built with debootstrap.",
    )
    asterisk_rootfs: Path = _setting(
        Path("/var/cache/lexcrm/asterisk-sid"),
        "Where the Debian unstable root file system with Asterisk is built and reused.",
    )
    asterisk_mirror: str = _setting(
        "",
        "Debian mirror that debootstrap uses; empty means the one this machine's apt sources use.",
    )
    asterisk_instance: str = _setting(
        "main", "Name of the local Asterisk instance (one run folder each)."
    )
    ami_port: int = _setting(5038, "Port of the Asterisk Manager Interface (loopback only).")
    http_port: int = _setting(
        8088, "Port of Asterisk's HTTP server that serves ARI (loopback only)."
    )
    sip_host: str = _setting(
        "127.0.0.1", "Address the SIP (PJSIP) transport listens on; 0.0.0.0 for phones on the LAN."
    )
    sip_port: int = _setting(5060, "UDP port of the SIP transport.")
    rtp_port_start: int = _setting(20000, "First UDP port for call audio (RTP).")
    rtp_port_end: int = _setting(20999, "Last UDP port for call audio (RTP).")
    firm_number: str = _setting(
        "+78120000000", "The firm's number in E.164: what clients see when the firm calls them."
    )
    firm_name: str = _setting("Юридическая фирма", "The firm's name shown with its number.")
    trunk_host: str = _setting(
        "127.0.0.1",
        "Address of the carrier's SIP server (the built-in carrier simulator by default).",
    )
    trunk_port: int = _setting(5070, "SIP port of the carrier (the simulator listens here).")
    trunk_username: str = _setting("", "User name for the carrier, if it asks for one.")
    trunk_password: str = _setting("", "Password for the carrier, if it asks for one.")
    recording_notice: bool = _setting(
        True, "Play the recording notice to external callers before recording starts."
    )
    recording_notice_file: str = _setting(
        "",
        "WAV file (8 kHz mono) of the recording notice; empty means the built-in Russian one.",
    )
    ring_seconds: int = _setting(20, "How long a desk phone rings before the call moves on.")
    queue_timeout: int = _setting(
        120, "Seconds a caller waits in the call-centre queue before it becomes a callback task."
    )
    carrier_simulator: bool = _setting(
        True,
        "Run the built-in carrier simulator on trunk_host:trunk_port (demo and tests); "
        "switch off when a real carrier is configured.",
    )
    queue_wrapup_seconds: int = _setting(
        5, "Seconds after a call before the queue rings that operator again (time for notes)."
    )
    simulator_ami_port: int = _setting(
        5039, "AMI port of the built-in carrier simulator (a second local Asterisk)."
    )
    simulator_http_port: int = _setting(8089, "HTTP port of the built-in carrier simulator.")
    asterisk_start_timeout: float = _setting(
        60.0, "Seconds to wait for Asterisk to be fully booted before giving up."
    )
    reminder_period_days: int = _setting(
        30, "A lawyer must talk to every client with an active contract at least this often."
    )
    reminder_topic_periods: str = _setting(
        "", "Other periods for some topics, e.g. «банкротство=14; ДТП=21» (days)."
    )
    reminder_min_ring_seconds: int = _setting(
        20,
        "An unanswered call settles a reminder once the client's phone rang this long and the "
        "call has a comment.",
    )
    reminder_retry_ladder: str = _setting(
        "2h,next-day,3d",
        "When to call again after no answer (m, h, d or next-day); after the last the client "
        "is escalated to the employee's head.",
    )
    reminder_work_hours: str = _setting(
        "09:00-19:00", "Working hours (Moscow time): reminders are shown only within them."
    )
    reminder_work_days: str = _setting("1-5", "Working days, 1 is Monday: e.g. 1-5 or 1-6.")
    reminder_hearing_days: int = _setting(
        1,
        "Days before a hearing the representative calls the client (the debrief call is the "
        "day after it).",
    )
    recording_retention_days: int = _setting(
        1095,
        "Days an encrypted call recording is kept before the worker deletes it (its hash and "
        "transcript stay); 0 keeps recordings forever. Three years: the limitation period.",
    )
    transcription_worker: bool = _setting(
        True,
        "`lexcrm run` starts the transcription worker as a separate process; switch off when "
        "workers run elsewhere (`lexcrm worker`).",
    )
    transcription_model: str = _setting(
        "small",
        "Whisper model in CTranslate2 format: a folder path, or a name already in the local "
        "model cache (never downloaded). `small` or larger for Russian in production.",
    )
    transcription_language: str = _setting("ru", "Language spoken on calls (Whisper's code).")
    transcription_device: str = _setting(
        "auto", "Where Whisper runs: auto (a GPU when present, else the CPU), cpu or cuda."
    )
    transcription_compute_type: str = _setting(
        "auto", "Whisper's number format: auto (int8 on CPU, float16 on GPU), int8, float32…"
    )
    transcription_threads: int = _setting(
        0, "CPU threads of one transcription; 0 lets CTranslate2 choose."
    )
    transcription_lease_seconds: int = _setting(
        120,
        "A job whose worker has not reported for this long is taken over by another worker "
        "(a worker killed mid-job).",
    )
    speech_rules_file: str = _setting(
        "",
        "TOML file of keyword rules for transcripts (risk and poaching phrases); empty means "
        "the built-in Russian rules (recordings/speech_rules.toml shows the format).",
    )

    @property
    def database(self) -> str:
        """The database URL in use, with the SQLite default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'lexcrm.sqlite3').resolve()}"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "log"

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with some values replaced (tests and CLI flags use it)."""
        return dataclasses.replace(self, **overrides)


def setting_fields() -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(Settings))


def _convert(name: str, raw: Any, kind: Any) -> Any:
    # The annotations are strings because of `from __future__ import annotations`.
    try:
        if kind == "Path":
            return Path(str(raw))
        if kind == "int":
            if isinstance(raw, bool):
                raise ValueError
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in {"1", "true", "yes", "on", "да"}
        return str(raw)
    except (TypeError, ValueError):
        raise SettingsError(
            f"Настройка {name}: значение {raw!r} не подходит (ожидается {kind})"
        ) from None


def load_settings(
    config_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the settings file (if any), then LEXCRM_* variables, which win."""
    environ = os.environ if environ is None else environ
    if config_file is None and environ.get(CONFIG_FILE_ENV):
        config_file = Path(environ[CONFIG_FILE_ENV])
    values: dict[str, Any] = {}
    known = {f.name: f for f in setting_fields()}
    if config_file is not None:
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"Файл настроек не найден: {config_file}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"Файл настроек {config_file} не читается: {exc}") from None
        for name, raw in data.items():
            if name not in known:
                raise SettingsError(f"Неизвестная настройка {name!r} в файле {config_file}")
            values[name] = _convert(name, raw, known[name].type)
    for name, fld in known.items():
        env_name = ENV_PREFIX + name.upper()
        if env_name in environ:
            values[name] = _convert(name, environ[env_name], fld.type)
    settings = Settings(**values)
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    for name in (
        "web_port",
        "ami_port",
        "http_port",
        "sip_port",
        "rtp_port_start",
        "rtp_port_end",
        "trunk_port",
        "simulator_ami_port",
        "simulator_http_port",
    ):
        port = getattr(settings, name)
        if not 1 <= port <= 65535:
            raise SettingsError(f"Настройка {name}: порт {port} вне диапазона 1–65535")
    if settings.rtp_port_start > settings.rtp_port_end:
        raise SettingsError("Настройка rtp_port_start больше rtp_port_end")
    if settings.reminder_period_days < 1 or settings.reminder_hearing_days < 0:
        raise SettingsError(
            "Настройки reminder_period_days (≥ 1) и reminder_hearing_days (≥ 0): "
            "неверное число дней"
        )
    for name, parse in (
        ("reminder_topic_periods", parse_topic_periods),
        ("reminder_retry_ladder", parse_ladder),
        ("reminder_work_hours", parse_hours),
        ("reminder_work_days", parse_work_days),
    ):
        try:
            parse(getattr(settings, name))
        except ValueError as error:
            raise SettingsError(f"Настройка {name}: {error}") from None
