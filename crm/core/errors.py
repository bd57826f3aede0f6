"""Errors of the CRM: one class per failure, each with a stable error_id and an HTTP status."""

from __future__ import annotations

from typing import ClassVar


def N_(message: str) -> str:  # N_ is a name pybabel extracts by default
    """Marks a message for the interface's translation: the web shows it in the employee's
    language (its Russian text is the msgid), the command line and the logs in Russian."""
    return message


class CrmError(Exception):
    """Base of every CRM error. The message is Russian and safe to show to an employee.

    It is a template with %(name)s for its values, so that the web can translate it whole
    and put the values in; a value named `field` is the name of a form's field, itself a
    marked message. No message may contain a client's phone number: errors end up in logs
    and on pages.
    """

    error_id: ClassVar[str] = "crm-error"
    http_status: ClassVar[int] = 500
    default_message: ClassVar[str] = N_("Ошибка CRM")

    def __init__(self, message: str | None = None, **params: object) -> None:
        self.template = message if message is not None else self.default_message
        self.params = params
        super().__init__(self.template % params if params else self.template)

    @property
    def message(self) -> str:
        """The message in Russian, its values in place."""
        return str(self.args[0])


class NotFound(CrmError):
    """Base of the errors of an object that is not there: a page answers 404."""

    error_id = "not-found"
    http_status = 404
    default_message = N_("Не найдено")


# A ValueError too: a value typed wrong is one, for code that parses before the CRM does.
class InvalidInput(CrmError, ValueError):
    error_id = "invalid-input"
    http_status = 400
    default_message = N_("Неверные данные")


class InvalidPhoneNumber(CrmError):
    error_id = "invalid-phone-number"
    http_status = 400
    default_message = N_(
        "Номер телефона не распознан. Введите номер полностью, с кодом оператора или города."
    )


class KeyFileMissing(CrmError):
    error_id = "key-file-missing"
    http_status = 500
    default_message = N_("Файл ключей не найден. Создайте его командой `lexcrm init`.")


class KeyFileExists(CrmError):
    error_id = "key-file-exists"
    http_status = 500
    default_message = N_("Файл ключей уже существует")


class KeyFileInvalid(CrmError):
    error_id = "key-file-invalid"
    http_status = 500
    default_message = N_("Файл ключей повреждён")


class CiphertextInvalid(CrmError):
    error_id = "ciphertext-invalid"
    http_status = 500
    default_message = N_("Не удалось расшифровать персональные данные")
