"""The `lexcrm` command run as a person runs it: a real process, real files, real ports."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lexcrm.asterisk_runtime import AsteriskRuntime
from lexcrm.settings import Settings

CANARY = "+7 (921) 555-43-21"
CANARY_FORMS = ("9215554321", "79215554321", "89215554321", "921 555", "555-43-21", "5554321")


def lexcrm(
    settings: Settings, *args: str, stdin: str = "", extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexcrm.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(settings, extra_env),
        check=False,
    )


def environment(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEXCRM_")}
    env.update(
        LEXCRM_DATA_DIR=str(settings.data_dir),
        LEXCRM_KEY_FILE=str(settings.key_file),
        LEXCRM_WEB_PORT=str(settings.web_port),
        LEXCRM_ASTERISK_INSTANCE=settings.asterisk_instance,
        LEXCRM_AMI_PORT=str(settings.ami_port),
        LEXCRM_HTTP_PORT=str(settings.http_port),
        LEXCRM_SIP_PORT=str(settings.sip_port),
        LEXCRM_RTP_PORT_START=str(settings.rtp_port_start),
        LEXCRM_RTP_PORT_END=str(settings.rtp_port_end),
        LEXCRM_TRUNK_PORT=str(settings.trunk_port),
        LEXCRM_SIMULATOR_AMI_PORT=str(settings.simulator_ami_port),
        LEXCRM_SIMULATOR_HTTP_PORT=str(settings.simulator_http_port),
        **(extra or {}),
    )
    return env


def database_file(settings: Settings) -> Path:
    return settings.data_dir / "lexcrm.sqlite3"


def count_rows(settings: Settings, table: str) -> int:
    with sqlite3.connect(database_file(settings)) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


def test_missing_key_file_stops_run_with_a_clear_message(settings: Settings) -> None:
    result = lexcrm(settings, "run")
    assert result.returncode == 2
    assert str(settings.key_file) in result.stderr
    assert "lexcrm init" in result.stderr
    assert "Traceback" not in result.stderr
    assert not database_file(settings).exists()


def test_init_creates_keys_database_and_the_chosen_admin(settings: Settings) -> None:
    weak = lexcrm(settings, "init", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2
    assert "10" in weak.stderr  # says how long a password must be
    assert count_rows(settings, "employees") == 0

    created = lexcrm(settings, "init", "--password-stdin", stdin="correct horse battery\n")
    assert created.returncode == 0, created.stderr
    assert "Создан администратор admin" in created.stdout
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.key_file.parent.stat().st_mode) == 0o700
    assert count_rows(settings, "employees") == 1

    again = lexcrm(settings, "init", "--password-stdin", stdin="another password 123\n")
    assert again.returncode == 0
    assert "уже есть" in again.stdout
    assert count_rows(settings, "employees") == 1


def test_unparsable_phone_is_refused_and_nothing_is_saved(settings: Settings) -> None:
    assert (
        lexcrm(settings, "init", "--password-stdin", stdin="correct horse battery\n").returncode
        == 0
    )
    result = lexcrm(settings, "client", "add", "Иванов Иван Иванович", "--phone", "921-55x-43")
    assert result.returncode == 2
    assert "телефон" in result.stderr.lower()
    assert "921" not in result.stderr + result.stdout  # the input is not echoed back
    assert count_rows(settings, "clients") == 0


def test_no_phone_number_in_clear_in_database_logs_or_asterisk_run_folder(
    tmp_path: Path, asterisk: AsteriskRuntime
) -> None:
    # The same data and run folders as the session's real Asterisk.
    settings = asterisk.settings.with_overrides(
        data_dir=tmp_path / "var", key_file=tmp_path / "secret" / "keys"
    )
    debug = {"LEXCRM_LOG_LEVEL": "DEBUG"}
    assert (
        lexcrm(settings, "init", "--password-stdin", stdin="correct horse battery\n").returncode
        == 0
    )
    added = lexcrm(settings, "client", "add", "Петрова Анна", "--phone", CANARY, extra_env=debug)
    assert added.returncode == 0, added.stderr
    assert "c1" in added.stdout
    same = lexcrm(settings, "client", "add", "Петрова Анна", "--phone", "89215554321")
    assert same.returncode == 0

    searched: list[Path] = []
    for folder in (settings.data_dir, settings.key_file.parent, asterisk.run_dir):
        searched.extend(p for p in folder.rglob("*") if p.is_file())
    assert database_file(settings) in searched
    assert any(p.suffix == ".log" for p in searched)
    for path in searched:
        data = path.read_bytes()
        for form in CANARY_FORMS:
            assert form.encode() not in data, f"{form} in clear in {path}"
    # Two clients, two phone rows, one blind index value: the lookup works on ciphertext.
    with sqlite3.connect(database_file(settings)) as db:
        indexes = {row[0] for row in db.execute("SELECT number_index FROM client_phones")}
    assert count_rows(settings, "client_phones") == 2 and len(indexes) == 1


def wait_for_http(url: str, process: subprocess.Popen[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                return str(response.read().decode())
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def test_run_serves_the_login_page_and_stops_on_sigterm(settings: Settings) -> None:
    assert (
        lexcrm(settings, "init", "--password-stdin", stdin="correct horse battery\n").returncode
        == 0
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "lexcrm.cli", "run"],
        env=environment(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = wait_for_http(f"http://127.0.0.1:{settings.web_port}/login", process)
        assert "Вход в систему" in page
        health = wait_for_http(f"http://127.0.0.1:{settings.web_port}/healthz", process)
        assert '"ok"' in health
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "lexcrm работает" in out


def test_run_reports_a_taken_web_port(settings: Settings) -> None:
    assert (
        lexcrm(settings, "init", "--password-stdin", stdin="correct horse battery\n").returncode
        == 0
    )
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.web_port))
        squatter.listen()
        result = lexcrm(settings, "run")
    assert result.returncode == 2
    assert f"Порт {settings.web_port}" in result.stderr and "занят" in result.stderr


def test_asterisk_status_of_the_running_instance(asterisk: AsteriskRuntime) -> None:
    result = lexcrm(asterisk.settings, "asterisk", "status")
    assert result.returncode == 0, result.stderr
    assert f"pid {asterisk.pid()}" in result.stdout
    stopped = asterisk.settings.with_overrides(asterisk_instance="never-started")
    assert lexcrm(stopped, "asterisk", "status").returncode == 3


def test_asterisk_cli_runs_one_command(asterisk: AsteriskRuntime) -> None:
    result = lexcrm(asterisk.settings, "asterisk", "cli", "dialplan", "show", "lexcrm-test")
    assert result.returncode == 0, result.stderr
    assert "MixMonitor" not in result.stdout  # lives in lexcrm-record, reached by Gosub
    assert "Gosub(lexcrm-record,start,1(employee))" in result.stdout


@pytest.mark.parametrize("args", [["asterisk"], ["no-such-command"]])
def test_usage_errors_exit_2(settings: Settings, args: list[str]) -> None:
    assert lexcrm(settings, *args).returncode == 2
