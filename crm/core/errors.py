"""Errors of the CRM: one class per failure, each with a stable error_id and an HTTP status."""

from __future__ import annotations

from typing import ClassVar


class CrmError(Exception):
    """Base of every CRM error. The message is Russian and safe to show to an employee.

    No message may contain a client's phone number: errors end up in logs and on pages.
    """

    error_id: ClassVar[str] = "crm-error"
    http_status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Ошибка CRM"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message if message is not None else self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0])


class InvalidInput(CrmError):
    error_id = "invalid-input"
    http_status = 400
    default_message = "Неверные данные"


class InvalidPhoneNumber(CrmError):
    error_id = "invalid-phone-number"
    http_status = 400
    default_message = (
        "Номер телефона не распознан. Введите номер полностью, с кодом оператора или города."
    )


class KeyFileMissing(CrmError):
    error_id = "key-file-missing"
    http_status = 500
    default_message = "Файл ключей не найден. Создайте его командой `lexcrm init`."


class KeyFileExists(CrmError):
    error_id = "key-file-exists"
    http_status = 500
    default_message = "Файл ключей уже существует"


class KeyFileInvalid(CrmError):
    error_id = "key-file-invalid"
    http_status = 500
    default_message = "Файл ключей повреждён"


class CiphertextInvalid(CrmError):
    error_id = "ciphertext-invalid"
    http_status = 500
    default_message = "Не удалось расшифровать персональные данные"
