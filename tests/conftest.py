"""Fixtures shared by the whole suite: settings on temporary folders and the real Asterisk."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lexcrm.asterisk_runtime import AsteriskRuntime, SipPhone
from lexcrm.settings import Settings
from tests.support.ports import free_tcp_port, free_udp_port, free_udp_range

TEST_PHONES = (
    SipPhone("1001", secrets.token_urlsafe(12), "Тестовый Оператор"),
    SipPhone("1002", secrets.token_urlsafe(12), "Тестовый Юрист"),
)


def asterisk_test_settings(data_dir: Path, instance: str) -> Settings:
    """Settings of a test Asterisk: its own instance name and free loopback ports."""
    rtp_start, rtp_end = free_udp_range(100)
    return Settings(
        data_dir=data_dir,
        key_file=data_dir / "secret" / "lexcrm.keys",
        asterisk_instance=instance,
        ami_port=free_tcp_port(),
        http_port=free_tcp_port(),
        sip_port=free_udp_port(),
        rtp_port_start=rtp_start,
        rtp_port_end=rtp_end,
    )


@pytest.fixture(scope="session")
def asterisk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsteriskRuntime]:
    """One real Asterisk for the session (built with debootstrap on first use, ~1 min)."""
    settings = asterisk_test_settings(tmp_path_factory.mktemp("asterisk"), f"test-{os.getpid()}")
    runtime = AsteriskRuntime(settings, phones=TEST_PHONES)
    runtime.up()
    yield runtime
    runtime.down()
    shutil.rmtree(runtime.run_dir, ignore_errors=True)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose every file lives under this test's temporary folder."""
    return Settings(
        data_dir=tmp_path / "var",
        key_file=tmp_path / "secret" / "lexcrm.keys",
        web_port=free_tcp_port(),
        asterisk_instance=f"unit-{os.getpid()}-{tmp_path.name}",
    )
