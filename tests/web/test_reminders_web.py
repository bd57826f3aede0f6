"""Reminders on the web: the window's JSON, closing only behind a real call, setting one, lists."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from aiohttp import ClientResponse
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.core.clock import utc_now
from crm.core.formatting import FIRM_TIMEZONE
from crm.core.permissions import Action, may
from crm.core.roles import Role
from crm.journal.models import JournalEntry, JournalOutcome
from crm.reminders.models import Reminder, ReminderStatus
from crm.staff.models import Employee
from tests.support.canaries import canaries_in
from tests.web.conftest import (
    LAWYER_LOGIN,
    LAWYER_NAME,
    LAWYER_PASSWORD,
    Client,
    ClientFactory,
    csrf_field,
    log_in,
)
from web.keys import WebServices

PASSWORD = "пароль сотрудника"
CANARY = "+79215551199"
REASON = "Обсудить <b>иск</b> & сроки"
_linkedids = itertools.count(1)


@dataclass
class Firm:
    lawyer: Employee
    other: Employee
    director: Employee
    client: int
    reminder: int


@pytest.fixture
async def firm(web_services: WebServices, lawyer: Employee) -> Firm:
    """The lawyer's client (with a canary number) and a reminder that fell due a minute ago."""
    make = web_services.staff.create_employee
    other = await make("ivanov", "Иванов Иван", Role.lawyer, PASSWORD)
    director = await make("boss", "Директор Борис", Role.director, PASSWORD)
    client = await web_services.clients.add_client(
        "Канарейкина Анна", [CANARY], lawyer_id=lawyer.id, topic="Наследство"
    )
    reminder = await web_services.reminders.add_manual(
        employee_id=lawyer.id,
        client_id=client.id,
        due_at=utc_now() - timedelta(minutes=1),
        reason=REASON,
        created_by_id=lawyer.id,
    )
    return Firm(lawyer, other, director, client.id, reminder.id)


async def _as(new_client: ClientFactory, login: str, password: str = PASSWORD) -> Client:
    browser = await new_client()
    await log_in(browser, login, password)
    return browser


async def _token(browser: Client, path: str = "/") -> str:
    return csrf_field(await (await browser.get(path)).text())


async def _due(browser: Client) -> dict[str, object] | None:
    token = await _token(browser)
    response = await browser.post(
        "/reminders/due", data={"csrf_token": token}, headers={"Accept": "application/json"}
    )
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert canaries_in(await response.text(), [CANARY]) == []
    body = await response.json()
    reminder = body["reminder"]
    assert reminder is None or isinstance(reminder, dict)
    return reminder


async def _reminder(
    sessionmaker: async_sessionmaker[AsyncSession], reminder_id: int
) -> Reminder | None:
    async with sessionmaker() as session:
        return await session.get(Reminder, reminder_id)


async def _journal(
    sessionmaker: async_sessionmaker[AsyncSession], action: str
) -> list[tuple[int | None, str | None, JournalOutcome, str | None]]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(JournalEntry).where(JournalEntry.action == action).order_by(JournalEntry.id)
        )
        return [(e.employee_id, e.object_id, e.outcome, e.detail) for e in rows]


async def _call(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    employee: int,
    client: int,
    answered: bool,
    ring_seconds: int = 40,
) -> int:
    """A finished call record, as the controller writes it, starting now."""
    started = utc_now()
    async with sessionmaker() as session:
        call = Call(
            linkedid=f"web-call-{next(_linkedids)}",
            direction=CallDirection.outbound,
            client_id=client,
            employee_id=employee,
            started_at=started,
            answered_at=started + timedelta(seconds=5) if answered else None,
            ended_at=started + timedelta(seconds=ring_seconds),
            client_ringing_at=started,
            disposition="answered" if answered else "no_answer",
        )
        session.add(call)
        await session.commit()
        return call.id


async def test_the_window_gets_the_reminder_without_the_phone_number(
    new_client: ClientFactory, firm: Firm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    browser = await _as(new_client, LAWYER_LOGIN, LAWYER_PASSWORD)
    reminder = await _due(browser)
    assert reminder is not None
    assert reminder["id"] == firm.reminder and reminder["kind"] == "manual"
    assert reminder["reason"] == REASON  # JSON; the page sets it as text, not as HTML
    assert reminder["client"] == {
        "id": firm.client,
        "code": f"c{firm.client}",
        "name": "Канарейкина Анна",
        "url": f"/clients/{firm.client}",
    }
    assert reminder["can_call"] is False  # no desk phone
    assert reminder["waiting_comment_call"] is None and reminder["queued"] == 0
    stored = await _reminder(sessionmaker, firm.reminder)
    assert stored is not None and stored.shown_at is not None
    # Nobody else sees it.
    assert await _due(await _as(new_client, "ivanov")) is None
    assert await _due(await _as(new_client, "boss")) is None


async def test_closing_without_a_call_is_refused_and_journaled(
    new_client: ClientFactory, firm: Firm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    browser = await _as(new_client, LAWYER_LOGIN, LAWYER_PASSWORD)
    assert await _due(browser) is not None
    token = await _token(browser)
    # Whatever the request claims, only the call records count.
    refused = await browser.post(
        f"/reminders/{firm.reminder}/dismiss",
        data={"csrf_token": token, "call_id": "1", "answered": "yes", "status": "done"},
    )
    assert refused.status == 409
    assert "когда вы позвоните клиенту" in await refused.text()
    stored = await _reminder(sessionmaker, firm.reminder)
    assert stored is not None and stored.status is ReminderStatus.open
    due = await _due(browser)
    assert due is not None and due["id"] == firm.reminder
    assert await _journal(sessionmaker, "reminder_dismiss") == [
        (firm.lawyer.id, str(firm.reminder), JournalOutcome.denied, "no call behind the request")
    ]


async def test_a_forged_comment_does_not_close_it(
    new_client: ClientFactory, firm: Firm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    browser = await _as(new_client, LAWYER_LOGIN, LAWYER_PASSWORD)
    assert await _due(browser) is not None
    token = await _token(browser)
    # A colleague's long unanswered call to the client: commenting it is refused.
    colleagues = await _call(
        sessionmaker, employee=firm.other.id, client=firm.client, answered=False
    )
    forged = await browser.post(
        f"/calls/{colleagues}/comment", data={"csrf_token": token, "comment": "не ответил"}
    )
    assert forged.status == 403
    async with sessionmaker() as session:
        call = await session.get(Call, colleagues)
        assert call is not None and call.comment is None
    # The lawyer's own call that rang for three seconds: the comment is saved, but a ring
    # that short is no try.
    short = await _call(
        sessionmaker, employee=firm.lawyer.id, client=firm.client, answered=False, ring_seconds=3
    )
    commented = await browser.post(
        f"/calls/{short}/comment",
        data={"csrf_token": token, "comment": "не ответил"},
        allow_redirects=False,
    )
    assert commented.status == 303
    dismissed = await browser.post(
        f"/reminders/{firm.reminder}/dismiss", data={"csrf_token": token}
    )
    assert dismissed.status == 409
    due = await _due(browser)
    assert due is not None and due["id"] == firm.reminder


async def test_a_real_answered_call_closes_it(
    new_client: ClientFactory, firm: Firm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    browser = await _as(new_client, LAWYER_LOGIN, LAWYER_PASSWORD)
    assert await _due(browser) is not None
    token = await _token(browser)
    call = await _call(sessionmaker, employee=firm.lawyer.id, client=firm.client, answered=True)
    closed = await browser.post(f"/reminders/{firm.reminder}/dismiss", data={"csrf_token": token})
    assert closed.status == 200 and await closed.json() == {"closed": True}
    assert await _due(browser) is None
    stored = await _reminder(sessionmaker, firm.reminder)
    assert stored is not None and stored.status is ReminderStatus.done
    assert stored.call_id == call
    assert await _journal(sessionmaker, "reminder_dismiss") == [
        (firm.lawyer.id, str(firm.reminder), JournalOutcome.allowed, None)
    ]


async def test_an_unanswered_long_call_with_a_comment_closes_it_and_books_a_retry(
    new_client: ClientFactory, firm: Firm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    browser = await _as(new_client, LAWYER_LOGIN, LAWYER_PASSWORD)
    assert await _due(browser) is not None
    call = await _call(sessionmaker, employee=firm.lawyer.id, client=firm.client, answered=False)
    due = await _due(browser)
    assert due is not None and due["waiting_comment_call"] == call
    token = await _token(browser)
    commented = await browser.post(
        f"/calls/{call}/comment",
        data={"csrf_token": token, "comment": "Абонент недоступен"},
        allow_redirects=False,
    )
    assert commented.status == 303
    assert await _due(browser) is None  # the retry is two hours away
    async with sessionmaker() as session:
        retry = await session.scalar(select(Reminder).where(Reminder.status == ReminderStatus.open))
    assert retry is not None and retry.attempt == 1


async def test_someone_elses_reminder_cannot_be_closed(
    new_client: ClientFactory, firm: Firm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    intruder = await _as(new_client, "ivanov")
    token = await _token(intruder)
    response = await intruder.post(
        f"/reminders/{firm.reminder}/dismiss", data={"csrf_token": token}
    )
    assert response.status == 404
    missing = await intruder.post("/reminders/999999/dismiss", data={"csrf_token": token})
    assert missing.status == 404
    stored = await _reminder(sessionmaker, firm.reminder)
    assert stored is not None and stored.status is ReminderStatus.open
    assert await _journal(sessionmaker, "reminder_dismiss") == [
        (firm.other.id, str(firm.reminder), JournalOutcome.denied, None),
        (firm.other.id, "999999", JournalOutcome.denied, None),
    ]


async def _count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Reminder)) or 0)


@pytest.mark.parametrize(
    ("day", "time", "reason", "message"),
    [
        ("31.02.2026", "10:00", "позвонить", "ожидается ДД.ММ.ГГГГ"),
        ("завтра", "10:00", "позвонить", "ожидается ДД.ММ.ГГГГ"),
        ("", "10:00", "позвонить", "Дата напоминания не указана"),
        ("+1", "25:99", "позвонить", "Время «25:99»: ожидается ЧЧ:ММ"),
        ("+1", "", "позвонить", "ожидается ЧЧ:ММ"),
        ("+1", "10:00", "", "не заполнено"),
        ("+1", "10:00", "   ", "не заполнено"),
        ("+1", "10:00", "я" * 10_000, "длиннее 500 символов"),
        ("01.01.2020", "10:00", "позвонить", "не раньше вчерашнего дня"),
        ("+400", "10:00", "позвонить", "не позже чем через год"),
    ],
)
async def test_bad_reminder_input_is_refused_in_russian_and_changes_nothing(
    new_client: ClientFactory,
    firm: Firm,
    sessionmaker: async_sessionmaker[AsyncSession],
    day: str,
    time: str,
    reason: str,
    message: str,
) -> None:
    browser = await _as(new_client, LAWYER_LOGIN, LAWYER_PASSWORD)
    token = await _token(browser, f"/clients/{firm.client}")
    if day.startswith("+"):
        day = (utc_now().astimezone(FIRM_TIMEZONE).date() + timedelta(days=int(day))).strftime(
            "%d.%m.%Y"
        )
    before = await _count(sessionmaker)
    response = await browser.post(
        f"/clients/{firm.client}/reminders",
        data={"csrf_token": token, "day": day, "time": time, "reason": reason},
        allow_redirects=False,
    )
    assert response.status == 400
    assert message in await response.text()
    assert await _count(sessionmaker) == before


async def test_a_reminder_set_on_the_card_goes_to_the_clients_lawyer(
    new_client: ClientFactory,
    firm: Firm,
    web_services: WebServices,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    head = await web_services.staff.create_employee(
        "kc-head", "Глава КЦ", Role.call_centre_head, PASSWORD
    )
    browser = await _as(new_client, head.login)
    token = await _token(browser, f"/clients/{firm.client}")
    tomorrow = utc_now().astimezone(FIRM_TIMEZONE).date() + timedelta(days=1)
    response = await browser.post(
        f"/clients/{firm.client}/reminders",
        data={
            "csrf_token": token,
            "day": tomorrow.isoformat(),
            "time": "11:30",
            "reason": "  Напомнить про   документы ",
        },
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == f"/clients/{firm.client}"
    async with sessionmaker() as session:
        made = await session.scalar(select(Reminder).where(Reminder.created_by_id == head.id))
    assert made is not None and made.employee_id == firm.lawyer.id
    assert made.reason == "Напомнить про документы"
    assert made.due_at.astimezone(FIRM_TIMEZONE).replace(tzinfo=None).isoformat() == (
        f"{tomorrow.isoformat()}T11:30:00"
    )


async def test_the_director_cannot_set_a_reminder_nobody_could_settle(
    new_client: ClientFactory,
    firm: Firm,
    web_services: WebServices,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    lead = await web_services.clients.add_client("Без Юриста", [])
    browser = await _as(new_client, "boss")
    token = await _token(browser, f"/clients/{lead.id}")
    tomorrow = utc_now().astimezone(FIRM_TIMEZONE).date() + timedelta(days=1)
    before = await _count(sessionmaker)
    response = await browser.post(
        f"/clients/{lead.id}/reminders",
        data={
            "csrf_token": token,
            "day": tomorrow.isoformat(),
            "time": "10:00",
            "reason": "позвонить",
        },
        allow_redirects=False,
    )
    assert response.status == 400 and "некому адресовать" in await response.text()
    assert await _count(sessionmaker) == before
    assert await _due(browser) is None


async def test_the_lists_for_the_lawyer_and_the_directors_oversight(
    new_client: ClientFactory,
    firm: Firm,
    web_services: WebServices,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # A contract signed two months ago that nobody has called about: overdue and neglected.
    await web_services.contracts.add_contract(
        client_id=firm.client,
        lawyer_id=firm.lawyer.id,
        number="Д-1",
        amount="1000",
        essence="Наследство",
        signed_on=utc_now().astimezone(FIRM_TIMEZONE).date() - timedelta(days=60),
    )
    await web_services.reminders.generate()

    lawyer = await _as(new_client, LAWYER_LOGIN, LAWYER_PASSWORD)
    page = await (await lawyer.get("/reminders")).text()
    assert "Канарейкина Анна" in page and f"c{firm.client}" in page
    assert "Обсудить &lt;b&gt;иск&lt;/b&gt; &amp; сроки" in page and "<b>иск" not in page
    assert "Просрочено по сотрудникам" not in page
    assert "Клиенты, которым не звонили дольше положенного" not in page
    assert canaries_in(page, [CANARY]) == []

    other = await (await (await _as(new_client, "ivanov")).get("/reminders")).text()
    assert "Канарейкина" not in other and "Открытых напоминаний нет." in other

    director = await _as(new_client, "boss")
    page = await (await director.get("/reminders")).text()
    overdue = page[page.index("Просрочено по сотрудникам") :]
    overdue = overdue[: overdue.index("</table>")]
    assert LAWYER_NAME in overdue and ">2<" in overdue  # the hand-set one and the cadence
    neglected = page[page.index("Клиенты, которым не звонили дольше положенного") :]
    neglected = neglected[: neglected.index("</table>")]
    assert "Канарейкина Анна" in neglected and "не было" in neglected
    assert canaries_in(page, [CANARY]) == []

    # The lawyer talks to the client: both reminders go to the history with that call.
    assert await _due(lawyer) is not None
    await _call(sessionmaker, employee=firm.lawyer.id, client=firm.client, answered=True)
    assert await _due(lawyer) is None
    await web_services.reminders.generate()
    response = await director.get("/reminders")
    assert response.status == 200
    page = await response.text()
    assert "Просроченных напоминаний нет." in page and "Таких клиентов нет." in page
    history = page[page.index("История: напоминание → звонок") :]
    assert history.count("позвонил") == 2 and LAWYER_NAME in history
    assert canaries_in(page, [CANARY]) == []
    assert await _journal(sessionmaker, "view_reminders") == [
        (firm.lawyer.id, None, JournalOutcome.allowed, None),
        (firm.other.id, None, JournalOutcome.allowed, None),
        (firm.director.id, None, JournalOutcome.allowed, None),
        (firm.director.id, None, JournalOutcome.allowed, None),
    ]


async def test_a_senior_lawyer_oversees_the_lawyers_they_head_and_nobody_else(
    new_client: ClientFactory,
    firm: Firm,
    web_services: WebServices,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    make = web_services.staff.create_employee
    senior = await make("senior", "Старший Юрист", Role.lawyer, PASSWORD)
    stranger = await make("stranger", "Чужой Юрист", Role.lawyer, PASSWORD)
    stranger_client = await web_services.clients.add_client("Посторонний Клиент", [])
    await web_services.reminders.add_manual(
        employee_id=stranger.id,
        client_id=stranger_client.id,
        due_at=utc_now() - timedelta(minutes=1),
        reason="Чужое напоминание",
        created_by_id=stranger.id,
    )
    async with sessionmaker() as session:
        await session.execute(
            update(Employee).where(Employee.id == firm.lawyer.id).values(head_id=senior.id)
        )
        await session.commit()

    page = await (await (await _as(new_client, "senior")).get("/reminders")).text()
    overdue = page[page.index("Просрочено по сотрудникам") :]
    overdue = overdue[: overdue.index("</table>")]
    assert LAWYER_NAME in overdue and "Чужой Юрист" not in overdue
    assert "Чужое напоминание" not in page and "Посторонний Клиент" not in page
    assert canaries_in(page, [CANARY]) == []
    # A lawyer who heads nobody sees only their own list.
    page = await (await (await _as(new_client, "stranger")).get("/reminders")).text()
    assert "Просрочено по сотрудникам" not in page and "Чужое напоминание" in page


async def _contract(web_services: WebServices, client: int, lawyer: int, number: str) -> int:
    contract = await web_services.contracts.add_contract(
        client_id=client, lawyer_id=lawyer, number=number, amount="1000", essence="Наследство"
    )
    return contract.id


async def _remind_from_contract(
    browser: Client, client: int, page: str, contract: int
) -> ClientResponse:
    """The contract card's reminder form, sent for tomorrow at ten."""
    return await browser.post(
        f"/clients/{client}/reminders",
        data={
            "csrf_token": csrf_field(page),
            "contract": str(contract),
            "day": _tomorrow(),
            "time": "10:00",
            "reason": "позвонить",
        },
        allow_redirects=False,
    )


def _tomorrow() -> str:
    return (utc_now().astimezone(FIRM_TIMEZONE).date() + timedelta(days=1)).strftime("%d.%m.%Y")


async def test_a_reminder_set_on_the_contract_card_keeps_the_contract(
    new_client: ClientFactory,
    firm: Firm,
    web_services: WebServices,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    contract = await _contract(web_services, firm.client, firm.lawyer.id, "Д-7")
    browser = await _as(new_client, LAWYER_LOGIN, LAWYER_PASSWORD)
    page = await (await browser.get(f"/contracts/{contract}")).text()
    form = page[page.index(f'action="/clients/{firm.client}/reminders"') :]
    form = form[: form.index("</form>")]
    assert f'<input type="hidden" name="contract" value="{contract}">' in form
    response = await browser.post(
        f"/clients/{firm.client}/reminders",
        data={
            "csrf_token": csrf_field(page),
            "contract": str(contract),
            "day": _tomorrow(),
            "time": "12:00",
            "reason": "Подписать допсоглашение",
        },
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == f"/contracts/{contract}"
    async with sessionmaker() as session:
        made = await session.scalar(
            select(Reminder).where(Reminder.reason == "Подписать допсоглашение")
        )
    assert made is not None and made.contract_id == contract and made.client_id == firm.client
    assert made.employee_id == firm.lawyer.id and made.created_by_id == firm.lawyer.id
    assert (await _journal(sessionmaker, "set_reminder"))[-1] == (
        firm.lawyer.id,
        str(firm.client),
        JournalOutcome.allowed,
        None,
    )
    assert (await _journal(sessionmaker, "view_contracts"))[-1] == (
        firm.lawyer.id,
        str(contract),
        JournalOutcome.allowed,
        None,
    )
    # The client's card still sets reminders without a contract.
    token = await _token(browser, f"/clients/{firm.client}")
    response = await browser.post(
        f"/clients/{firm.client}/reminders",
        data={"csrf_token": token, "day": _tomorrow(), "time": "12:30", "reason": "Просто так"},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == f"/clients/{firm.client}"
    async with sessionmaker() as session:
        plain = await session.scalar(select(Reminder).where(Reminder.reason == "Просто так"))
    assert plain is not None and plain.contract_id is None


async def test_a_contract_of_another_client_is_refused_and_nothing_is_stored(
    new_client: ClientFactory,
    firm: Firm,
    web_services: WebServices,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # Both clients are the lawyer's: the contract is one they may see, of the wrong client.
    second = await web_services.clients.add_client("Второй Клиент", [], lawyer_id=firm.lawyer.id)
    foreign = await _contract(web_services, second.id, firm.lawyer.id, "Д-8")
    browser = await _as(new_client, LAWYER_LOGIN, LAWYER_PASSWORD)
    token = await _token(browser, f"/clients/{firm.client}")
    before = await _count(sessionmaker)
    for contract, message in [
        (str(foreign), "Договор не этого клиента"),
        ("999999", "Договор не этого клиента"),
        ("Д-8", "Неверное значение поля «Договор»"),
        ("-1", "Неверное значение поля «Договор»"),
    ]:
        response = await browser.post(
            f"/clients/{firm.client}/reminders",
            data={
                "csrf_token": token,
                "contract": contract,
                "day": _tomorrow(),
                "time": "10:00",
                "reason": "позвонить",
            },
            allow_redirects=False,
        )
        assert response.status == 400, contract
        assert message in await response.text()
    assert await _count(sessionmaker) == before
    refusals = [
        entry
        for entry in await _journal(sessionmaker, "set_reminder")
        if entry[2] is JournalOutcome.denied
    ]
    assert refusals == [
        (firm.lawyer.id, str(foreign), JournalOutcome.denied, "not a contract of the client"),
        (firm.lawyer.id, "999999", JournalOutcome.denied, "not a contract of the client"),
    ]


async def test_a_contract_the_employee_may_not_see_is_refused(
    new_client: ClientFactory,
    firm: Firm,
    web_services: WebServices,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # The client is the lawyer's now, but this contract was another lawyer's: own scope
    # does not reach it.
    theirs = await _contract(web_services, firm.client, firm.other.id, "Д-9")
    browser = await _as(new_client, LAWYER_LOGIN, LAWYER_PASSWORD)
    assert (await browser.get(f"/contracts/{theirs}")).status == 403
    token = await _token(browser, f"/clients/{firm.client}")
    before = await _count(sessionmaker)
    response = await browser.post(
        f"/clients/{firm.client}/reminders",
        data={
            "csrf_token": token,
            "contract": str(theirs),
            "day": _tomorrow(),
            "time": "10:00",
            "reason": "позвонить",
        },
        allow_redirects=False,
    )
    assert response.status == 403 and "Нет доступа к этому договору" in await response.text()
    assert await _count(sessionmaker) == before
    assert (await _journal(sessionmaker, "view_contracts"))[-1] == (
        firm.lawyer.id,
        str(theirs),
        JournalOutcome.denied,
        None,
    )


@pytest.mark.parametrize(
    ("role", "represents"),
    [
        (Role.director, False),
        (Role.lawyer, False),
        (Role.court_representative, True),
        (Role.court_representative, False),
        (Role.cashier, False),
    ],
)
async def test_the_contract_card_offers_the_form_to_exactly_who_may_use_it(
    new_client: ClientFactory,
    firm: Firm,
    web_services: WebServices,
    sessionmaker: async_sessionmaker[AsyncSession],
    role: Role,
    represents: bool,
) -> None:
    """Each job that can open a contract sees the form if and only if the route takes it."""
    contract = await _contract(web_services, firm.client, firm.lawyer.id, "Д-10")
    if role is Role.lawyer:
        login, password, me = LAWYER_LOGIN, LAWYER_PASSWORD, firm.lawyer.id
    else:
        employee = await web_services.staff.create_employee(
            f"job-{role.value}", "Сотрудник Тестовый", role, PASSWORD
        )
        login, password, me = employee.login, PASSWORD, employee.id
    if represents:
        await web_services.courts.schedule(
            contract,
            court="Районный суд",
            case_number="2-1/2026",
            starts_at=utc_now() + timedelta(days=3),
            representative_id=me,
            by_employee_id=me,
        )
    owner = me if represents else firm.lawyer.id
    allowed = may(role, Action.view_client, owner_id=owner, employee_id=me) and may(
        role, Action.set_reminder, owner_id=owner, employee_id=me
    )
    browser = await _as(new_client, login, password)
    card = await browser.get(f"/contracts/{contract}")
    assert card.status == 200
    page = await card.text()
    assert (f'action="/clients/{firm.client}/reminders"' in page) is allowed
    before = await _count(sessionmaker)
    response = await _remind_from_contract(browser, firm.client, page, contract)
    assert response.status == (303 if allowed else 403)
    assert await _count(sessionmaker) == before + allowed


async def test_a_contract_of_another_lawyer_offers_no_form_its_lawyer_cannot_use(
    new_client: ClientFactory, firm: Firm, web_services: WebServices
) -> None:
    """The client is the lawyer's; a later contract is a colleague's. The colleague opens
    the contract, but a reminder is set on the client, which is not theirs."""
    contract = await _contract(web_services, firm.client, firm.other.id, "Д-11")
    colleague = await _as(new_client, "ivanov")
    card = await colleague.get(f"/contracts/{contract}")
    assert card.status == 200
    page = await card.text()
    assert f'action="/clients/{firm.client}/reminders"' not in page
    response = await _remind_from_contract(colleague, firm.client, page, contract)
    assert response.status == 403
