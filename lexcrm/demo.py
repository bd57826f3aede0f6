"""The demo firm: one account per job with fresh passwords, desk phones, a populated CRM."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from crm.core.roles import Role
from lexcrm.asterisk_runtime import SipPhone
from lexcrm.demo_data.generator import generate_firm
from lexcrm.demo_data.plan import FirmPlan
from lexcrm.services import open_services
from lexcrm.settings import Settings

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
# Enough for every list and card to show something, loaded in a few seconds.
DEMO_CLIENT_COUNT = 300


@dataclass(frozen=True)
class DemoAccount:
    login: str
    full_name: str
    role: Role
    password: str
    extension: str | None
    sip_password: str | None
    # Made by the demo-data generator, with its published password (and no desk phone).
    generated: bool = False


async def load_demo_firm(settings: Settings) -> list[DemoAccount]:
    """Create the demo staff (or give them new passwords) and, once, the rest of the firm:
    more staff, clients and their history (lexcrm.demo_data)."""
    accounts = []
    async with open_services(settings, migrate=False) as core:
        for login, full_name, role, extension in DEMO_STAFF:
            password = secrets.token_urlsafe(12)
            existing = await core.staff.find_by_login(login)
            if existing is None:
                await core.staff.create_employee(
                    login, full_name, role, password, sip_extension=extension
                )
            else:
                await core.staff.set_password(existing.id, password)
                full_name = existing.full_name
                if existing.sip_extension != extension:
                    # Made by `lexcrm demo-data` with another number: the demo's Asterisk
                    # knows this desk phone by the demo's number.
                    await core.staff.update_employee(
                        existing.id,
                        lawyer_class_id=existing.lawyer_class_id,
                        head_id=existing.head_id,
                        sip_extension=extension,
                    )
            sip_password = secrets.token_urlsafe(12) if extension else None
            accounts.append(DemoAccount(login, full_name, role, password, extension, sip_password))
        if await core.clients.count_clients() == 0:
            firm = await generate_firm(core, FirmPlan(clients=DEMO_CLIENT_COUNT))
            accounts.extend(
                DemoAccount(m.login, m.full_name, m.role, firm.password, None, None, generated=True)
                for m in firm.staff
                if m.created
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
        if account.generated:
            continue
        line = f"  {account.role.title_ru:<20} логин {account.login:<10} пароль {account.password}"
        if account.extension:
            line += (
                f"   SIP {account.extension}@{settings.sip_host}:{settings.sip_port}"
                f" пароль {account.sip_password}"
            )
        lines.append(line)
    generated = [account for account in accounts if account.generated]
    if generated:
        lines.append(f"Остальные сотрудники демо-фирмы, пароль {generated[0].password}:")
        lines.extend(
            f"  {account.role.title_ru:<20} логин {account.login}" for account in generated
        )
    return "\n".join(lines)
