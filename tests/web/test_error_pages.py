"""Domain errors as pages: the status their class gives, the message in the page's language."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from crm.contracts.errors import ContractNumberTaken, NoSuchContract
from crm.core.errors import N_, InvalidInput
from crm.core.roles import Role
from crm.staff.models import Employee
from tests.web.conftest import Client, csrf_field, log_in
from web.errors import error_page_middleware
from web.i18n import language_middleware, load_catalogues
from web.keys import WebServices

ENGLISH = {"Accept-Language": "en"}
PAGE = {"Accept": "text/html"}


async def test_a_wrong_sum_is_refused_in_the_pages_language(
    client: Client, lawyer: Employee, web_services: WebServices
) -> None:
    """The domain's message, translated, with the status of its class."""
    found = await web_services.clients.add_client("Белова Ольга", [], lawyer_id=lawyer.id)
    contract = await web_services.contracts.add_contract(
        client_id=found.id, lawyer_id=lawyer.id, number="1", amount="1000", essence="x"
    )
    await log_in(client)
    token = csrf_field(await (await client.get("/")).text())
    for headers, expected in (
        ({}, "Сумма: введите число, например 150 000,00"),
        (ENGLISH, "Amount: enter a number, e.g. 150 000,00"),
    ):
        response = await client.post(
            f"/contracts/{contract.id}/plan",
            data={"csrf_token": token, "due_on": "01.01.2030", "amount": "много"},
            headers={**headers, **PAGE},
            allow_redirects=False,
        )
        assert response.status == 400
        assert expected in await response.text()


async def test_a_field_named_in_the_message_is_translated_too(
    client: Client, web_services: WebServices
) -> None:
    await web_services.staff.create_employee(
        "desk", "Ресепшин Р", Role.reception, "пароль ресепшина"
    )
    await log_in(client, "desk", "пароль ресепшина")
    token = csrf_field(await (await client.get("/")).text())
    response = await client.post(
        "/clients",
        data={"csrf_token": token, "full_name": "  ", "phone": "+7 812 000-00-00"},
        headers={**ENGLISH, **PAGE},
    )
    assert response.status == 400
    assert "The field “Full name” is empty" in await response.text()


@pytest.mark.parametrize(
    ("error", "status", "russian", "english"),
    [
        (NoSuchContract(), 404, "Договор не найден", "Contract not found"),
        (
            ContractNumberTaken(N_("Договор № %(number)s уже есть"), number="Д-7"),
            409,
            "Договор № Д-7 уже есть",
            "Contract No. Д-7 already exists",
        ),
        (
            InvalidInput(N_("Поле «%(field)s» не заполнено"), field=N_("ФИО")),
            400,
            "Поле «ФИО» не заполнено",
            "The field “Full name” is empty",
        ),
    ],
)
async def test_each_domain_error_gets_its_status_and_its_translation(
    error: Exception, status: int, russian: str, english: str
) -> None:
    async def fails(request: web.Request) -> web.StreamResponse:
        raise error

    app = web.Application(
        middlewares=[language_middleware(load_catalogues()), error_page_middleware]
    )
    app.router.add_get("/fails", fails)
    async with TestClient(TestServer(app)) as browser:
        for headers, text in (({}, russian), (ENGLISH, english)):
            # A script's request gets the message as plain text, with the same status.
            response = await browser.get("/fails", headers=headers)
            assert response.status == status
            assert await response.text() == text
