"""A small demo firm: one employee per job with fresh passwords, a few clients, desk phones."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from crm.roles import Role
from lexcrm.asterisk_runtime import SipPhone
from lexcrm.settings import Settings
from lexcrm.wiring import open_core

# login, full name, role, desk phone extension (None: no phone)
DEMO_STAFF: tuple[tuple[str, str, Role, str | None], ...] = (
    ("director", "Соколова Марина Викторовна", Role.director, None),
    ("lawyer", "Петров Андрей Сергеевич", Role.lawyer, "1002"),
    ("court", "Кузнецов Игорь Павлович", Role.court_representative, "1004"),
    ("reception", "Смирнова Ольга Николаевна", Role.reception, "1005"),
    ("cashier", "Васильева Татьяна Юрьевна", Role.cashier, None),
    ("cc-head", "Морозова Елена Александровна", Role.call_centre_head, "1003"),
    ("operator", "Новикова Анна Дмитриевна", Role.operator, "1001"),
    ("admin", "Фёдоров Максим Олегович", Role.administrator, None),
)
# Desk phones the demo answers itself: the operator's and the lawyer's.
DEMO_PHONE_EXTENSIONS = frozenset({"1001", "1002"})
DEMO_CLIENTS: tuple[tuple[str, str], ...] = (
    ("Иванов Иван Иванович", "семейное право"),
    ("Александрова Светлана Петровна", "наследство"),
    ("Григорьев Олег Борисович", "банкротство"),
    ("Лебедева Наталья Игоревна", "защита прав потребителей"),
    ("Ковалёв Дмитрий Андреевич", "ДТП"),
)


@dataclass(frozen=True)
class DemoAccount:
    login: str
    full_name: str
    role: Role
    password: str
    extension: str | None
    sip_password: str | None


def _fictional_mobile_number(rng: random.Random) -> str:
    # Made up at run time so that no number sits in the source; only ever stored encrypted.
    return (
        f"+7 9{rng.randrange(10, 100)} {rng.randrange(100, 1000)}-{rng.randrange(10, 100)}-"
        f"{rng.randrange(10, 100)}"
    )


async def load_demo_firm(settings: Settings) -> list[DemoAccount]:
    """Create the demo staff (or give them new passwords) and, once, the demo clients."""
    accounts = []
    async with open_core(settings, migrate=False) as core:
        for login, full_name, role, extension in DEMO_STAFF:
            password = secrets.token_urlsafe(12)
            existing = await core.employees.find_by_login(login)
            if existing is None:
                await core.employees.create_employee(
                    login, full_name, role, password, sip_extension=extension
                )
            else:
                await core.employees.set_password(existing.id, password)
            sip_password = secrets.token_urlsafe(12) if extension else None
            accounts.append(DemoAccount(login, full_name, role, password, extension, sip_password))
        if await core.clients.count_clients() == 0:
            rng = random.SystemRandom()
            lawyer = await core.employees.find_by_login("lawyer")
            for full_name, topic in DEMO_CLIENTS:
                await core.clients.add_client(
                    full_name,
                    [_fictional_mobile_number(rng)],
                    topic=topic,
                    source="демо",
                    lawyer_id=lawyer.id if lawyer else None,
                )
    return accounts


def sip_phones(accounts: Sequence[DemoAccount]) -> list[SipPhone]:
    return [
        SipPhone(
            account.extension,
            account.sip_password,
            account.full_name,
            in_queue=account.role is Role.operator,
        )
        for account in accounts
        if account.extension and account.sip_password
    ]


def accounts_table(accounts: Sequence[DemoAccount], settings: Settings) -> str:
    """What the person running the demo needs to log in and register a softphone."""
    lines = [
        f"Веб-интерфейс: http://{settings.web_host}:{settings.web_port}/",
        "Демо-входы (пароли новые при каждом запуске):",
    ]
    for account in accounts:
        line = f"  {account.role.title_ru:<20} логин {account.login:<10} пароль {account.password}"
        if account.extension:
            line += (
                f"   SIP {account.extension}@{settings.sip_host}:{settings.sip_port}"
                f" пароль {account.sip_password}"
            )
        lines.append(line)
    return "\n".join(lines)
