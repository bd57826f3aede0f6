"""Statistics page timing on a firm of 60,000 clients: the service and the whole page.

Run from the repository root (nothing else needs to be running):

    .venv/bin/python -m benchmarks.reports [--clients 60000] [--runs 30] [--json FILE]

It opens the process's own core (lexcrm.wiring.open_services: a migrated SQLite database in a
temporary folder) and fills it with made-up data spread over two years before 27.11.2026,
written oldest first as a firm would have written it: clients (with topic, source and
lawyer), one to five calls each, visits booked by operators for half of them, contracts
(some clients come back for a secondary one), payments, an income plan and expenses. No
phone numbers are written: the reports never read them. Then, for each period (this
month, a quarter, a year), it times ReportService.overview as the director and as the
call-centre head, and a GET of /reports through the app build_web_app makes (session,
permission check, journal, template, charts), in wall time and in CPU time. Percentiles
are nearest-rank. Not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.clients.models import Client
from crm.contracts.models import Contract, ContractKind, ContractStatus
from crm.core.crypto import KeyRing
from crm.core.periods import Period
from crm.core.roles import Role
from crm.finance.models import Expense, Payment, PlannedPayment
from crm.reports.rows import ReportScope
from crm.reports.services import ReportService
from crm.visits.models import Visit, VisitOutcome
from lexcrm.services import Services, open_services
from lexcrm.settings import Settings
from lexcrm.wiring import build_web_app

TODAY = date(2026, 11, 27)
DAYS = 730
TOPICS = ("Банкротство", "Развод", "Наследство", "Жилищный спор", "Трудовой спор", None)
SOURCES = ("Сайт", "Радио", "Рекомендация", "Наружная реклама", None)
PASSWORD = "benchmark password 1"  # noqa: S105 - a throwaway database's accounts
PERIODS = {
    "month": Period(date(2026, 11, 1), date(2026, 11, 30)),
    "quarter": Period(date(2026, 9, 1), date(2026, 11, 30)),
    "year": Period(date(2025, 12, 1), date(2026, 11, 30)),
}


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def seed(core: Services, clients: int, rng: random.Random) -> dict[str, int]:
    """Bulk-inserts the made-up firm; returns how many rows of each kind."""
    employees = core.staff
    made = {
        "director": await employees.create_employee("boss", "Директор", Role.director, PASSWORD),
        "head": await employees.create_employee(
            "head", "Глава КЦ", Role.call_centre_head, PASSWORD
        ),
        "cashier": await employees.create_employee("cash", "Кассир", Role.cashier, PASSWORD),
    }
    operators = [
        (await employees.create_employee(f"op{i}", f"Оператор {i}", Role.operator, PASSWORD)).id
        for i in range(12)
    ]
    lawyers = [
        (await employees.create_employee(f"law{i}", f"Юрист {i}", Role.lawyer, PASSWORD)).id
        for i in range(25)
    ]
    cashier = made["cashier"].id
    start = TODAY - timedelta(days=DAYS)
    client_rows: list[dict[str, Any]] = []
    call_rows: list[dict[str, Any]] = []
    visit_rows: list[dict[str, Any]] = []
    contract_rows: list[dict[str, Any]] = []
    payment_rows: list[dict[str, Any]] = []
    plan_rows: list[dict[str, Any]] = []
    firsts = sorted(start + timedelta(days=rng.randrange(DAYS)) for _ in range(clients))
    for client_id, first in enumerate(firsts, start=1):
        lawyer = rng.choice(lawyers) if rng.random() < 0.6 else None
        client_rows.append(
            {
                "id": client_id,
                "full_name": f"Клиент {client_id}",
                "short_name": f"Клиент {client_id}",
                "name_key": f"клиент {client_id}",
                "first_contact_on": first,
                "topic": rng.choice(TOPICS),
                "source": rng.choice(SOURCES),
                "lawyer_id": lawyer,
                "created_at": datetime.combine(first, datetime.min.time(), UTC),
            }
        )
        for _ in range(rng.randrange(1, 6)):
            at = datetime.combine(first, datetime.min.time(), UTC) + timedelta(
                minutes=rng.randrange(60 * 24 * 60)
            )
            if at.date() > TODAY:
                continue
            answered = rng.random() < 0.85
            call_rows.append(
                {
                    "linkedid": f"b-{len(call_rows)}",
                    "direction": rng.choice((CallDirection.inbound, CallDirection.outbound)),
                    "client_id": client_id,
                    "employee_id": rng.choice(operators + lawyers[:5]),
                    "started_at": at,
                    "answered_at": at + timedelta(seconds=8) if answered else None,
                }
            )
        if rng.random() < 0.5:
            booked_at = datetime.combine(first, datetime.min.time(), UTC) + timedelta(hours=11)
            came = rng.random() < 0.7 and first + timedelta(days=2) <= TODAY
            visit_rows.append(
                {
                    "client_id": client_id,
                    "booked_by_id": rng.choice(operators),
                    "lawyer_id": lawyer,
                    "scheduled_at": booked_at + timedelta(days=2),
                    "checked_in_at": booked_at + timedelta(days=2) if came else None,
                    "outcome": VisitOutcome.arrived if came else VisitOutcome.booked,
                    "created_at": booked_at,
                }
            )
            if came and rng.random() < 0.5:
                for number in range(rng.choice((1, 1, 1, 2))):
                    signed = first + timedelta(days=2 + 120 * number)
                    if signed > TODAY:
                        break
                    contract_rows.append(
                        {
                            "id": len(contract_rows) + 1,
                            "number": f"Б-{len(contract_rows) + 1}",
                            "client_id": client_id,
                            "lawyer_id": lawyer or rng.choice(lawyers),
                            "amount_kopecks": rng.randrange(20_000, 400_000) * 100,
                            "essence": "Сопровождение",
                            "status": ContractStatus.active,
                            "kind": ContractKind.secondary if number else ContractKind.primary,
                            "signed_on": signed,
                        }
                    )
    contract_rows.sort(key=lambda row: row["signed_on"])
    for number, contract in enumerate(contract_rows, start=1):
        contract["id"], contract["number"] = number, f"Б-{number}"
    for contract in contract_rows:
        for part in range(3):
            due = contract["signed_on"] + timedelta(days=30 * part)
            plan_rows.append(
                {
                    "contract_id": contract["id"],
                    "due_on": due,
                    "amount_kopecks": contract["amount_kopecks"] // 3,
                    "created_by_id": contract["lawyer_id"],
                }
            )
            received = due + timedelta(days=rng.randrange(5))
            if received <= TODAY and rng.random() < 0.8:
                payment_rows.append(
                    {
                        "contract_id": contract["id"],
                        "amount_kopecks": contract["amount_kopecks"] // 3,
                        "received_on": received,
                        "cashier_id": cashier,
                    }
                )
    expense_rows = [
        {
            "spent_on": start + timedelta(days=day),
            "amount_kopecks": rng.randrange(1_000, 50_000) * 100,
            "payee": "Поставщик",
            "purpose": "Расходы офиса",
            "cashier_id": cashier,
        }
        for day in range(DAYS)
        for _ in range(3)
    ]
    # Rows go in as the firm would have written them, oldest first: what a table's rowid
    # order (and so the pages a period's rows sit on) looks like after years of use.
    call_rows.sort(key=lambda row: row["started_at"])
    visit_rows.sort(key=lambda row: row["created_at"])
    payment_rows.sort(key=lambda row: row["received_on"])
    plan_rows.sort(key=lambda row: row["due_on"])
    async with core.sessionmaker() as session:
        for table, rows in (
            (Client, client_rows),
            (Call, call_rows),
            (Visit, visit_rows),
            (Contract, contract_rows),
            (Payment, payment_rows),
            (PlannedPayment, plan_rows),
            (Expense, expense_rows),
        ):
            for offset in range(0, len(rows), 5000):
                await session.execute(insert(table), rows[offset : offset + 5000])
        await session.commit()
    return {
        "clients": len(client_rows),
        "calls": len(call_rows),
        "visits": len(visit_rows),
        "contracts": len(contract_rows),
        "payments": len(payment_rows),
        "planned": len(plan_rows),
        "expenses": len(expense_rows),
    }


async def timed(runs: int, action: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    """Wall time and this process's CPU time (all threads: the event loop and SQLite's) per
    run. On a machine shared with other work the wall time includes waiting for a CPU;
    the CPU time is what one request costs, and what its wall time is on an idle machine."""
    await action()  # warm-up: statement caches and the SQLite page cache
    wall, cpu = [], []
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        await action()
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    return {
        "p50_ms": round(percentile(wall, 0.5), 1),
        "p95_ms": round(percentile(wall, 0.95), 1),
        "cpu_p50_ms": round(percentile(cpu, 0.5), 1),
        "cpu_p95_ms": round(percentile(cpu, 0.95), 1),
    }


async def main(clients: int, runs: int, json_path: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="lexcrm-reports-bench-") as folder:
        settings = Settings(data_dir=Path(folder), key_file=Path(folder) / "lexcrm.keys")
        KeyRing.create_file(settings.key_file)
        async with open_services(settings) as core:
            began = time.perf_counter()
            rng = random.Random(20261127)  # noqa: S311 - made-up data, the same on every run
            counts = await seed(core, clients, rng)
            print(f"seeded in {time.perf_counter() - began:.1f} s: {counts}")
            results = await measure(core, build_web_app(settings, core), runs)
            results["data"] = counts
    if json_path is not None:
        text = json.dumps(results, ensure_ascii=False, indent=2)
        await asyncio.to_thread(json_path.write_text, text)


async def measure(core: Services, app: web.Application, runs: int) -> dict[str, Any]:
    """Times the service and the page for each period, as the director and the head."""
    results: dict[str, Any] = {"runs": runs, "timings": {}}
    reports = ReportService(core.sessionmaker)
    server = TestServer(app)
    await server.start_server()
    browsers: list[TestClient[Any, Any]] = []
    for login in ("boss", "head"):
        browser: TestClient[Any, Any] = TestClient(server)
        await browser.start_server()
        browsers.append(browser)
        form = await (await browser.get("/login")).text()
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        await browser.post(
            "/login",
            data={"csrf_token": token, "login": login, "password": PASSWORD},
            allow_redirects=False,
        )
        scope = ReportScope.firm if login == "boss" else ReportScope.call_centre
        for name, period in PERIODS.items():

            async def service(period: Period = period, scope: ReportScope = scope) -> Any:
                return await reports.overview(period, scope=scope)

            async def page(period: Period = period, browser: Any = browser) -> None:
                query = f"period=custom&from={period.start}&to={period.end}"
                response = await browser.get(f"/reports?{query}")
                assert response.status == 200, response.status
                await response.read()

            key = f"{scope.value}/{name}"
            timings = results["timings"]
            timings[f"service {key}"] = await timed(runs, service)
            timings[f"page {key}"] = await timed(runs, page)
            print(f"{key:20} service {timings[f'service {key}']}  page {timings[f'page {key}']}")
    for browser in browsers:
        await browser.close()  # the last one closes the server too
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.clients, arguments.runs, arguments.json))
