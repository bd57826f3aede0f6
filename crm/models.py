"""Every table of the CRM in one metadata: importing this registers them all (Alembic, tests)."""

from crm.auth.models import WebSession
from crm.calls.models import Call, CallbackTask, ClickToCallRequest
from crm.clients.models import Client, ClientPhone
from crm.contracts.models import Contract
from crm.conversations.models import (
    CallFlag,
    RecordingFile,
    Transcript,
    TranscriptionJob,
    TranscriptSegment,
)
from crm.core.tables import Base
from crm.courts.models import Hearing
from crm.finance.models import Accrual, Expense, Payment, Payout, PlannedPayment
from crm.journal.models import JournalEntry
from crm.notes.models import Note
from crm.reminders.models import Reminder
from crm.staff.models import Employee, LawyerClass
from crm.visits.models import Visit

__all__ = [
    "Accrual",
    "Base",
    "Call",
    "CallFlag",
    "CallbackTask",
    "ClickToCallRequest",
    "Client",
    "ClientPhone",
    "Contract",
    "Employee",
    "Expense",
    "Hearing",
    "JournalEntry",
    "LawyerClass",
    "Note",
    "Payment",
    "Payout",
    "PlannedPayment",
    "RecordingFile",
    "Reminder",
    "Transcript",
    "TranscriptSegment",
    "TranscriptionJob",
    "Visit",
    "WebSession",
]
