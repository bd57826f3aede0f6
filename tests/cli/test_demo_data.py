"""`lexcrm demo-data`: a small firm generated into a real SQLite file, checked as the CRM would."""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from crm.calls.services import LEAD_NAME
from crm.core.crypto import KeyRing
from crm.core.db import upgrade_database_async
from crm.core.phones import normalise_phone
from crm.core.roles import Role
from lexcrm.demo_data.generator import feminine_surname, generate_firm
from lexcrm.demo_data.plan import DEMO_PASSWORD, FirmPlan, Progress, client_count, firm_evening
from lexcrm.demo_data.vocabulary import FEMALE_NAMES, MALE_NAMES, PATRONYMICS, SURNAMES
from lexcrm.services import open_services
from lexcrm.settings import Settings
from tests.support.postgres import PostgresCluster

CLIENTS = 200
SEED = 3
TODAY = "2026-11-27"


def run_lexcrm(
    settings: Settings, *args: str, **variables: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEXCRM_")}
    env.update(LEXCRM_DATA_DIR=str(settings.data_dir), LEXCRM_KEY_FILE=str(settings.key_file))
    env.update(variables)
    return subprocess.run(
        [sys.executable, "-m", "lexcrm.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def settings_in(folder: Path) -> Settings:
    return Settings(data_dir=folder / "var", key_file=folder / "secret" / "lexcrm.keys")


def query(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(settings.data_dir / "lexcrm.sqlite3") as db:
        return db.execute(sql).fetchall()


def count(settings: Settings, table: str) -> int:
    return int(query(settings, f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str, str]]:
    """One run of the real command (a process, as a person runs it): settings, stdout, stderr."""
    settings = settings_in(tmp_path_factory.mktemp("demo-data"))
    result = run_lexcrm(
        settings, "demo-data", "--clients", str(CLIENTS), "--seed", str(SEED), "--today", TODAY
    )
    assert result.returncode == 0, result.stderr
    yield settings, result.stdout, result.stderr


def test_the_firm_has_every_kind_of_record_in_sensible_numbers(
    generated: tuple[Settings, str, str],
) -> None:
    settings, _out, _err = generated
    assert count(settings, "clients") == CLIENTS
    assert CLIENTS <= count(settings, "client_phones") <= CLIENTS * 1.4
    contracts = count(settings, "contracts")
    assert CLIENTS * 0.1 <= contracts <= CLIENTS * 0.5
    assert count(settings, "calls") >= CLIENTS * 1.5
    assert count(settings, "visits") >= contracts
    assert count(settings, "planned_payments") >= contracts
    assert count(settings, "payments") >= contracts * 0.8
    for table in ("callback_tasks", "hearings", "expenses", "payouts", "notes", "journal"):
        assert count(settings, table) > 0, table
    kinds = {row[0] for row in query(settings, "SELECT DISTINCT kind FROM contracts")}
    assert kinds == {"primary", "secondary"}
    statuses = {row[0] for row in query(settings, "SELECT DISTINCT status FROM contracts")}
    assert {"active", "terminated"} <= statuses
    outcomes = {row[0] for row in query(settings, "SELECT DISTINCT outcome FROM visits")}
    assert {"contract", "no_contract", "no_show"} <= outcomes
    # Every visit that ended was checked in by reception; booked ones are by an operator.
    assert not query(
        settings,
        "SELECT id FROM visits WHERE outcome IN ('contract', 'no_contract') "
        "AND (checked_in_at IS NULL OR checked_in_by_id IS NULL)",
    )
    hearings = query(settings, "SELECT count(result), count(*) - count(result) FROM hearings")
    assert hearings[0][0] > 0 and hearings[0][1] > 0  # results of past ones, future ones open
    calls = query(settings, "SELECT direction, disposition FROM calls")
    assert {("inbound", "answered"), ("outbound", "answered")} <= set(calls)
    assert any(disposition != "answered" for _direction, disposition in calls)


def test_every_job_is_staffed_and_lawyers_have_classes_and_heads(
    generated: tuple[Settings, str, str],
) -> None:
    settings, out, _err = generated
    roles = {row[0] for row in query(settings, "SELECT DISTINCT role FROM employees")}
    assert roles == {role.value for role in Role}
    lawyers = query(
        settings,
        "SELECT e.login, c.accrual_basis_points, e.head_id, e.sip_extension FROM employees e "
        "LEFT JOIN lawyer_classes c ON c.id = e.lawyer_class_id WHERE e.role = 'lawyer'",
    )
    assert len(lawyers) >= 3
    assert all(rate and head and extension for _login, rate, head, extension in lawyers)
    assert len({rate for _login, rate, _head, _extension in lawyers}) >= 2
    operators = query(
        settings, "SELECT sip_extension, head_id FROM employees WHERE role = 'operator'"
    )
    assert len(operators) >= 2 and all(extension and head for extension, head in operators)
    assert f"пароль новых: {DEMO_PASSWORD}" in out
    for (login,) in query(settings, "SELECT login FROM employees"):
        assert f" {login} " in out


def test_money_follows_the_finance_rules(generated: tuple[Settings, str, str]) -> None:
    settings, _out, _err = generated
    # Each payment accrues the contract lawyer's class share, rounded down to the kopeck.
    wrong = query(
        settings,
        "SELECT p.id FROM payments p JOIN contracts k ON k.id = p.contract_id "
        "JOIN employees e ON e.id = k.lawyer_id JOIN lawyer_classes c ON c.id = e.lawyer_class_id "
        "LEFT JOIN accruals a ON a.payment_id = p.id "
        "WHERE a.id IS NULL OR a.lawyer_id != k.lawyer_id OR a.accrued_on != p.received_on "
        "OR a.amount_kopecks != p.amount_kopecks * c.accrual_basis_points / 10000",
    )
    assert wrong == []
    # Nobody was paid out more than was accrued to them.
    assert not query(
        settings,
        "SELECT lawyer_id FROM payouts GROUP BY lawyer_id HAVING sum(amount_kopecks) > "
        "(SELECT sum(amount_kopecks) FROM accruals a WHERE a.lawyer_id = payouts.lawyer_id)",
    )
    # The first contract of a client is the primary one.
    assert not query(
        settings,
        "SELECT client_id FROM contracts GROUP BY client_id "
        "HAVING sum(kind = 'primary') != 1 "
        "OR min(CASE WHEN kind = 'primary' THEN id END) != min(id)",
    )


def test_dates_cover_the_year_before_today(generated: tuple[Settings, str, str]) -> None:
    settings, _out, _err = generated
    today = date.fromisoformat(TODAY)
    first, last = query(
        settings, "SELECT min(first_contact_on), max(first_contact_on) FROM clients"
    )[0]
    assert str(today - timedelta(days=366)) <= str(first) <= str(today - timedelta(days=300))
    assert str(today - timedelta(days=30)) <= str(last) <= str(today)
    latest_call = query(settings, "SELECT max(ended_at) FROM calls")[0][0]
    assert str(latest_call) <= f"{TODAY} 15:00"  # 18:00 in Moscow is 15:00 UTC


def test_names_agree_in_gender(generated: tuple[Settings, str, str]) -> None:
    settings, _out, _err = generated
    masculine = set(SURNAMES)
    feminine = {feminine_surname(surname) for surname in SURNAMES}
    sons = {son for son, _daughter in PATRONYMICS}
    daughters = {daughter for _son, daughter in PATRONYMICS}
    names = [row[0] for row in query(settings, "SELECT full_name FROM clients")]
    names += [row[0] for row in query(settings, "SELECT full_name FROM employees")]
    people = [name for name in names if name != LEAD_NAME]
    assert len(people) > CLIENTS * 0.9
    for full_name in people:
        surname, first_name, patronymic = str(full_name).split()
        if first_name in FEMALE_NAMES:
            assert surname in feminine and patronymic in daughters, full_name
        else:
            assert first_name in MALE_NAMES, full_name
            assert surname in masculine and patronymic in sons, full_name
    assert feminine_surname("Вишневский") == "Вишневская"
    assert feminine_surname("Шевченко") == "Шевченко"


async def test_every_phone_decrypts_to_a_russian_mobile_found_by_its_number(
    generated: tuple[Settings, str, str],
) -> None:
    settings, _out, _err = generated
    async with open_services(settings, migrate=False) as core:
        numbers = await core.clients.all_phone_numbers()
        assert {client_id for client_id, _number in numbers} == set(range(1, CLIENTS + 1))
        for client_id, number in numbers:
            assert normalise_phone(number) == number
            assert number.startswith("+79") and len(number) == 12
            # As an employee types it: 8 (9xx) xxx-xx-xx.
            typed = f"8 ({number[2:5]}) {number[5:8]}-{number[8:10]}-{number[10:]}"
            found = await core.clients.find_clients_by_phone(typed)
            assert client_id in [client.id for client in found]


async def test_the_same_seed_makes_the_same_firm(
    generated: tuple[Settings, str, str], tmp_path: Path
) -> None:
    settings, _out, _err = generated
    same = settings_in(tmp_path)
    KeyRing.create_file(same.key_file)  # other keys: only the plaintext can repeat
    await upgrade_database_async(same.database)
    async with open_services(same, migrate=False) as core:
        plan = FirmPlan(clients=CLIENTS, seed=SEED, now=firm_evening(TODAY))
        await generate_firm(core, plan, progress_stream=io.StringIO())
    assert await fingerprint(same) == await fingerprint(settings)


async def fingerprint(settings: Settings) -> list[object]:
    """Everything that should repeat; ciphertexts differ (fresh keys, random nonces)."""
    async with open_services(settings, migrate=False) as core:
        numbers = sorted(await core.clients.all_phone_numbers())
    return [
        numbers,
        query(settings, "SELECT login, full_name, role, sip_extension FROM employees ORDER BY id"),
        query(settings, "SELECT * FROM clients ORDER BY id"),
        query(settings, "SELECT * FROM contracts ORDER BY id"),
        query(settings, "SELECT * FROM payments ORDER BY id"),
        query(
            settings,
            "SELECT id, linkedid, direction, client_id, employee_id, started_at, disposition "
            "FROM calls ORDER BY id",
        ),
        query(settings, "SELECT * FROM hearings ORDER BY id"),
    ]


def test_progress_is_shown_while_it_runs(generated: tuple[Settings, str, str]) -> None:
    _settings, _out, err = generated
    # Not a terminal here: whole lines, the last one at 100 %, without carriage returns.
    assert f"{CLIENTS}/{CLIENTS} (100 %)" in err
    assert "осталось" in err and "/с" in err
    assert "\r" not in err


def test_progress_redraws_one_line_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    moments = iter([0.0, 1.0, 2.0, 4.0])
    terminal = Terminal()
    progress = Progress(100, "Клиенты", terminal, clock=lambda: next(moments))
    progress.advance(50)
    progress.advance(50)
    progress.finish()
    text = terminal.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "50/100 ( 50 %), 50/с" in text and "осталось 0:01" in text
    assert text.endswith("100/100 (100 %), 25/с, прошло 0:04, осталось 0:00\033[K\n")


def test_a_database_with_clients_is_refused_unless_appending(
    generated: tuple[Settings, str, str], tmp_path: Path
) -> None:
    settings, _out, _err = generated
    refused = run_lexcrm(settings, "demo-data", "--clients", "10")
    assert refused.returncode == 2
    assert "--append" in refused.stderr and "Traceback" not in refused.stderr
    assert count(settings, "clients") == CLIENTS
    # On a copy: `lexcrm demo` takes over the generated staff (its desk phones' numbers
    # included) without adding clients, and --append adds to them.
    copy = settings_in(tmp_path)
    shutil.copytree(settings.data_dir, copy.data_dir)
    shutil.copytree(settings.key_file.parent, copy.key_file.parent)
    demo = run_lexcrm(copy, "demo", "--no-asterisk", "--no-serve")
    assert demo.returncode == 0, demo.stderr
    assert count(copy, "clients") == CLIENTS
    assert query(copy, "SELECT sip_extension FROM employees WHERE login = 'operator'") == [
        ("1001",)
    ]
    employees = count(copy, "employees")
    appended = run_lexcrm(copy, "demo-data", "--clients", "20", "--append", "--seed", "9")
    assert appended.returncode == 0, appended.stderr
    assert count(copy, "clients") == CLIENTS + 20
    assert count(copy, "employees") == employees
    assert "был в базе" in appended.stdout
    # Another seed, other people.
    names = query(copy, "SELECT id > 200, full_name FROM clients WHERE id <= 20 OR id > 200")
    first = [name for later, name in names if not later]
    assert [name for later, name in names if later] != first


def test_wrong_arguments_are_refused_with_a_reason(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    result = run_lexcrm(settings, "demo-data", "--clients", "много")
    assert result.returncode == 2 and "число клиентов" in result.stderr
    assert not settings.data_dir.exists()
    with pytest.raises(argparse.ArgumentTypeError, match="от 1 до"):
        client_count("0")
    with pytest.raises(argparse.ArgumentTypeError, match="не распознана"):
        firm_evening("31.02.2026")


async def test_on_postgresql_the_services_write_after_the_demo_firm(
    tmp_path: Path, postgres: PostgresCluster, postgres_template: str
) -> None:
    """The command on PostgreSQL, then what people do next: the rows the generator wrote
    with their own ids must not collide with the next ones the database numbers."""
    settings = settings_in(tmp_path).with_overrides(
        database_url=postgres.url(postgres.new_database(postgres_template))
    )
    env_url = {"LEXCRM_DATABASE_URL": settings.database_url}
    result = run_lexcrm(settings, "demo-data", "--clients", "30", "--seed", "1", **env_url)
    assert result.returncode == 0, result.stderr
    async with open_services(settings) as services:
        lawyer = await services.staff.find_by_login("lawyer")
        cashier = await services.staff.find_by_login("cashier")
        assert lawyer is not None and cashier is not None
        client = await services.clients.add_client("Новый Клиент", [], lawyer_id=lawyer.id)
        await services.journal.record(
            lawyer.id, "view_client", object_type="client", object_id=client.id, allowed=True
        )
        contract = await services.contracts.add_contract(
            client_id=client.id, lawyer_id=lawyer.id, number="PG-1", amount="1000", essence="x"
        )
        await services.finance.receive_payment(contract.id, amount="100", cashier_id=cashier.id)
        assert client.id > 30
