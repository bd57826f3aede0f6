"""The `lexcrm` command: init, run, demo, the local Asterisk, database and settings."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from crm.core.crypto import KeyRing
from crm.core.db import upgrade_database
from crm.core.errors import CrmError, KeyFileExists
from crm.core.formatting import parse_day
from crm.core.roles import Role
from lexcrm import demo, transcription
from lexcrm.asterisk_runtime import AsteriskRuntime, AsteriskRuntimeError, carrier_simulator
from lexcrm.demo_data.generator import load_firm
from lexcrm.demo_data.plan import FirmPlan, client_count, firm_evening, summary_text
from lexcrm.demo_phones import DemoPhones
from lexcrm.logs import configure_logging
from lexcrm.services import open_services
from lexcrm.settings import Settings, SettingsError, load_settings, setting_fields
from lexcrm.simulator import ami_health, place_simulated_call
from lexcrm.wiring import (
    WebPortTaken,
    build_controller,
    run_controller,
    serve_web,
    tune_collector_for_serving,
)
from telephony.ami import AmiRequestFailed, AmiUnavailable

EXIT_USAGE = 2

log = logging.getLogger("lexcrm")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lexcrm", description="lexcrm: телефония и CRM юридической фирмы на Asterisk"
    )
    parser.add_argument("--config", type=Path, help="файл настроек (TOML); иначе $LEXCRM_CONFIG")
    commands = parser.add_subparsers(dest="command", required=True, metavar="КОМАНДА")

    init = commands.add_parser("init", help="создать ключи, базу данных и первого администратора")
    init.add_argument("--admin-login", default="admin", help="логин администратора")
    init.add_argument("--admin-name", default="Администратор", help="ФИО администратора")
    init.add_argument(
        "--password-stdin",
        action="store_true",
        help="прочитать пароль администратора из стандартного ввода (для скриптов)",
    )

    commands.add_parser("run", help="запустить веб-интерфейс (и остальное) до Ctrl+C")
    demo_cmd = commands.add_parser(
        "demo", help="демо: ключи, база, демо-данные, Asterisk и веб; печатает логины"
    )
    demo_cmd.add_argument("--no-asterisk", action="store_true", help="не запускать Asterisk")
    demo_cmd.add_argument(
        "--no-serve", action="store_true", help="подготовить всё, но не запускать веб"
    )
    demo_cmd.add_argument(
        "--no-phones",
        action="store_true",
        help="не запускать демо-телефоны (свои софтфоны регистрируйте сами)",
    )
    demo_data = commands.add_parser(
        "demo-data",
        help="наполнить базу демо-фирмой: сотрудники всех должностей, клиенты, год истории",
    )
    demo_data.add_argument(
        "--clients", type=client_count, default=1000, help="сколько клиентов (1000)"
    )
    demo_data.add_argument(
        "--seed", type=int, default=1, help="зерно: одно и то же зерно даёт ту же фирму (1)"
    )
    demo_data.add_argument(
        "--today",
        type=firm_evening,
        help="«сегодня» фирмы, ГГГГ-ММ-ДД (иначе сейчас по Москве); история — год до него",
    )
    demo_data.add_argument(
        "--append", action="store_true", help="добавить к клиентам, уже имеющимся в базе"
    )

    asterisk = commands.add_parser("asterisk", help="локальный Asterisk")
    asterisk_commands = asterisk.add_subparsers(dest="action", required=True, metavar="ДЕЙСТВИЕ")
    asterisk_commands.add_parser("up", help="собрать при необходимости и запустить")
    asterisk_commands.add_parser("down", help="остановить")
    asterisk_commands.add_parser("status", help="состояние")
    cli = asterisk_commands.add_parser("cli", help="консоль Asterisk или одна её команда")
    cli.add_argument("words", nargs="*", help="команда, например: pjsip show contacts")

    simulate = commands.add_parser("simulate", help="симулятор оператора связи")
    simulate_commands = simulate.add_subparsers(dest="action", required=True, metavar="ДЕЙСТВИЕ")
    inbound = simulate_commands.add_parser(
        "inbound", help="входящий звонок в фирму с указанного номера"
    )
    inbound.add_argument("--from", dest="caller", required=True, help="номер звонящего")
    inbound.add_argument(
        "--talk", type=int, default=30, help="сколько секунд «клиент» остаётся на линии"
    )

    db = commands.add_parser("db", help="база данных")
    db_commands = db.add_subparsers(dest="action", required=True, metavar="ДЕЙСТВИЕ")
    db_commands.add_parser("upgrade", help="применить миграции (alembic upgrade head)")

    commands.add_parser("settings", help="показать все настройки с пояснениями")

    commands.add_parser("worker", help="обработчик расшифровки записей звонков (до Ctrl+C)")
    transcribe = commands.add_parser(
        "transcribe", help="расшифровать заново записи звонков с указанной даты"
    )
    transcribe.add_argument(
        "--since", required=True, type=_day, help="дата ДД.ММ.ГГГГ или ГГГГ-ММ-ДД"
    )

    client = commands.add_parser("client", help="клиенты")
    client_commands = client.add_subparsers(dest="action", required=True, metavar="ДЕЙСТВИЕ")
    add = client_commands.add_parser("add", help="добавить клиента")
    add.add_argument("full_name", help="ФИО клиента")
    add.add_argument(
        "--phone", action="append", default=[], help="номер телефона (можно несколько)"
    )
    add.add_argument("--topic", help="тематика обращения")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        configure_logging(settings)
        return _dispatch(args, settings)
    except (
        SettingsError,
        CrmError,
        AsteriskRuntimeError,
        WebPortTaken,
        AmiUnavailable,
        AmiRequestFailed,
    ) as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "init":
        return _init(args, settings)
    if args.command == "run":
        return asyncio.run(_run(settings, args.config))
    if args.command == "worker":
        return asyncio.run(transcription.run_worker(settings))
    if args.command == "transcribe":
        return asyncio.run(transcription.transcribe_since(settings, args.since))
    if args.command == "demo":
        return _demo(args, settings)
    if args.command == "demo-data":
        return _demo_data(args, settings)
    if args.command == "asterisk":
        return _asterisk(args, settings)
    if args.command == "simulate":
        return asyncio.run(_simulate_inbound(args, settings))
    if args.command == "db":
        upgrade_database(settings.database)
        print("База данных обновлена.")
        return 0
    if args.command == "settings":
        return _show_settings(settings)
    if args.command == "client":
        return asyncio.run(_client_add(args, settings))
    raise AssertionError(args.command)


def _ensure_key_file(settings: Settings) -> None:
    try:
        KeyRing.create_file(settings.key_file)
        print(f"Создан файл ключей {settings.key_file} (храните его отдельно от базы).")
    except KeyFileExists:
        KeyRing.load(settings.key_file)  # an existing file must still be a valid one


def _init(args: argparse.Namespace, settings: Settings) -> int:
    _ensure_key_file(settings)
    upgrade_database(settings.database)
    return asyncio.run(_create_first_admin(args, settings))


async def _create_first_admin(args: argparse.Namespace, settings: Settings) -> int:
    async with open_services(settings, migrate=False) as core:
        if await core.staff.count_administrators() > 0:
            print("Администратор уже есть; база готова.")
            return 0
        password = _read_new_password(args.password_stdin)
        admin = await core.staff.create_employee(
            args.admin_login, args.admin_name, Role.administrator, password
        )
        print(f"Создан администратор {admin.login}. Войдите: lexcrm run")
        return 0


def _read_new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Пароль администратора (не короче 10 символов): ")
    second = getpass.getpass("Повторите пароль: ")
    if first != second:
        raise SettingsError("Пароли не совпадают")
    return first


async def _run(settings: Settings, config_file: Path | None = None) -> int:
    async with open_services(settings) as core:
        controller = build_controller(settings, core)
        async with contextlib.AsyncExitStack() as stack:
            if settings.transcription_worker:
                await stack.enter_async_context(transcription.worker_process(config_file))
            address = await stack.enter_async_context(serve_web(settings, core, controller))
            tune_collector_for_serving()
            print(f"lexcrm работает: {address}  (остановить: Ctrl+C)", flush=True)
            async with asyncio.TaskGroup() as tasks:
                task = tasks.create_task(
                    run_controller(settings, core, controller), name="controller"
                )
                await _wait_for_stop_signal()
                task.cancel()
    return 0


async def _wait_for_stop_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    _ensure_key_file(settings)
    upgrade_database(settings.database)
    accounts = asyncio.run(demo.load_demo_firm(settings))
    if not args.no_asterisk:
        runtime = AsteriskRuntime(settings, phones=demo.sip_phones(accounts))
        runtime.down()  # the phones' passwords are new: render and start afresh
        runtime.up()
        print(f"Asterisk запущен (SIP {settings.sip_host}:{settings.sip_port}).")
        if settings.carrier_simulator:
            carrier_simulator(settings).up()
            print(
                "Симулятор оператора связи запущен. Входящий звонок: "
                ".venv/bin/lexcrm simulate inbound --from +7XXXXXXXXXX"
            )
    print(demo.accounts_table(accounts, settings))
    phones = None
    if not args.no_asterisk and not args.no_phones and DemoPhones.available():
        # The operator's and the lawyer's desk phones, so that a call can be shown without
        # a softphone: they ring (the screen-pop appears), answer and speak a phrase.
        phones = DemoPhones(
            settings,
            [p for p in demo.sip_phones(accounts) if p.extension in demo.DEMO_PHONE_EXTENSIONS],
        )
        phones.start()
        print(
            "Демо-телефоны оператора и юриста запущены: они сами отвечают на звонки. "
            "Войдите как operator и выполните: "
            ".venv/bin/lexcrm simulate inbound --from +7XXXXXXXXXX"
        )
    if args.no_serve:
        if phones is not None:
            phones.stop()
        return 0
    try:
        return asyncio.run(_run(settings))
    finally:
        if phones is not None:
            phones.stop()


def _demo_data(args: argparse.Namespace, settings: Settings) -> int:
    _ensure_key_file(settings)
    upgrade_database(settings.database)
    plan = FirmPlan(clients=args.clients, seed=args.seed, now=args.today, append=args.append)
    print(summary_text(asyncio.run(load_firm(settings, plan))))
    return 0


def _asterisk(args: argparse.Namespace, settings: Settings) -> int:
    runtime = AsteriskRuntime(settings)
    simulator = carrier_simulator(settings) if settings.carrier_simulator else None
    if args.action == "up":
        pid = runtime.up()
        print(f"Asterisk работает (pid {pid}, {runtime.mode}); папка: {runtime.run_dir}")
        if simulator is not None:
            simulator.up()
            print(f"Симулятор оператора связи: SIP {settings.trunk_host}:{settings.trunk_port}")
        return 0
    if args.action == "down":
        print("Asterisk остановлен." if runtime.down() else "Asterisk не был запущен.")
        if simulator is not None and simulator.down():
            print("Симулятор оператора связи остановлен.")
        return 0
    if args.action == "status":
        status = runtime.status()
        state = f"работает (pid {status.pid})" if status.running else "не запущен"
        print(f"Asterisk: {state}; режим: {status.mode}; папка: {status.run_dir}")
        if status.detail:
            print(status.detail)
        if status.running:
            print(f"AMI: {asyncio.run(ami_health(settings))}")
        if simulator is not None:
            running = simulator.pid() is not None
            print(f"Симулятор оператора связи: {'работает' if running else 'не запущен'}")
        return 0 if status.running else 3
    if args.words:
        print(runtime.rx(" ".join(args.words)), end="")
        return 0
    command = runtime.interactive_cli_command()
    os.execvp(command[0], command)  # noqa: S606 - hands the terminal to Asterisk's console


async def _simulate_inbound(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.carrier_simulator:
        raise SettingsError("Симулятор выключен (настройка carrier_simulator)")
    simulator = carrier_simulator(settings)
    if simulator.pid() is None:
        raise AsteriskRuntimeError("Симулятор не запущен: lexcrm asterisk up")
    await place_simulated_call(simulator, settings, args.caller, args.talk)
    print("Звонок отправлен: у свободного оператора зазвонит телефон.")
    return 0


def _show_settings(settings: Settings) -> int:
    for field in setting_fields():
        print(f"{field.name} = {getattr(settings, field.name)!s}")
        print(f"    {field.metadata['help']}")
    return 0


async def _client_add(args: argparse.Namespace, settings: Settings) -> int:
    async with open_services(settings) as core:
        client = await core.clients.add_client(args.full_name, args.phone, topic=args.topic)
        print(f"Клиент добавлен: {client.code} {client.short_name}")
    return 0


def _day(text: str) -> date:
    """A date as Russians write it (27.11.2026) or in ISO form (2026-11-27)."""
    try:
        return parse_day(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"дата {text!r} не распознана: ДД.ММ.ГГГГ или ГГГГ-ММ-ДД")


if __name__ == "__main__":
    raise SystemExit(main())
