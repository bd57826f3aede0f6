"""Fixtures shared by the whole suite: settings on temporary folders and the real Asterisk."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm.core.crypto import KeyRing
from crm.core.db import upgrade_database
from lexcrm.asterisk_runtime import AsteriskRuntime, SipPhone, carrier_simulator
from lexcrm.settings import Settings
from tests.support.ports import free_tcp_port, free_udp_port, free_udp_range
from tests.support.postgres import PostgresCluster, running_cluster

# sipp phones listen on ports fixed now, since Asterisk reaches them by static contact.
SIPP_OPERATOR_PORT = free_udp_port()
SIPP_LAWYER_PORT = free_udp_port()
TEST_PHONES = (
    # registers with baresip in the tests that start one
    SipPhone("1001", secrets.token_urlsafe(12), "Тестовый Оператор", in_queue=True),
    SipPhone("1002", secrets.token_urlsafe(12), "Тестовый Юрист"),
    # sipp phones: an operator in the call-centre queue, and a lawyer
    SipPhone(
        "1003",
        secrets.token_urlsafe(12),
        "Оператор Сипп",
        in_queue=True,
        static_contact=f"sip:1003@127.0.0.1:{SIPP_OPERATOR_PORT}",
    ),
    SipPhone(
        "1004",
        secrets.token_urlsafe(12),
        "Юрист Сипп",
        static_contact=f"sip:1004@127.0.0.1:{SIPP_LAWYER_PORT}",
    ),
)


def asterisk_test_settings(data_dir: Path, instance: str) -> Settings:
    """Settings of a test Asterisk: its own instance, key file and free loopback ports."""
    # 200 ports: the first half for this Asterisk, the second for its carrier simulator.
    rtp_start, rtp_end = free_udp_range(200)
    rtp_end = rtp_start + 99
    key_file = data_dir / "secret" / "lexcrm.keys"
    if not key_file.exists():
        KeyRing.create_file(key_file)
    return Settings(
        data_dir=data_dir,
        key_file=key_file,
        asterisk_instance=instance,
        ami_port=free_tcp_port(),
        http_port=free_tcp_port(),
        sip_port=free_udp_port(),
        rtp_port_start=rtp_start,
        rtp_port_end=rtp_end,
        trunk_port=free_udp_port(),
        simulator_ami_port=free_tcp_port(),
        simulator_http_port=free_tcp_port(),
        # Tests place calls back to back: the queue must ring the operator right away.
        queue_wrapup_seconds=0,
    )


@pytest.fixture(scope="session")
def asterisk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsteriskRuntime]:
    """One real Asterisk for the session (built with debootstrap on first use, ~1 min)."""
    settings = asterisk_test_settings(tmp_path_factory.mktemp("asterisk"), f"test-{os.getpid()}")
    runtime = AsteriskRuntime(settings, phones=TEST_PHONES)
    runtime.up()
    yield runtime
    runtime.down()
    # LEXCRM_KEEP_TEST_ASTERISK=1 keeps the run folder (logs, recordings) to look at a failure.
    if not os.environ.get("LEXCRM_KEEP_TEST_ASTERISK"):
        shutil.rmtree(runtime.run_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def carrier(asterisk: AsteriskRuntime) -> Iterator[AsteriskRuntime]:
    """The carrier simulator, trunked to the session's Asterisk."""
    runtime = carrier_simulator(asterisk.settings)
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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A private PostgreSQL cluster, started once for the session's tests that use one."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresCluster) -> str:
    """A database brought to `head` by the real migrations, once: tests copy it."""
    postgres.sql('CREATE DATABASE "crm_template"')
    upgrade_database(postgres.url("crm_template"))
    return "crm_template"
