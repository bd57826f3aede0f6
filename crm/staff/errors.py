"""Errors of staff accounts: no such employee, a login or desk phone taken, a weak password."""

from __future__ import annotations

from crm.core.errors import N_, CrmError


class NoSuchEmployee(CrmError):
    error_id = "no-such-employee"
    http_status = 404
    default_message = N_("Сотрудник не найден")


class LoginTaken(CrmError):
    error_id = "login-taken"
    http_status = 409
    default_message = N_("Этот логин уже занят")


class SipExtensionTaken(CrmError):
    error_id = "sip-extension-taken"
    http_status = 409
    default_message = N_("Этот внутренний номер уже занят другим сотрудником")


class WeakPassword(CrmError):
    error_id = "weak-password"
    http_status = 400
    default_message = N_("Пароль слишком короткий")
