"""The one permission table: which job may do what, over whose objects (their own, or all)."""

from __future__ import annotations

from enum import StrEnum

from crm.core.roles import Role


class Action(StrEnum):
    view_client = "view_client"
    call_client = "call_client"
    view_callbacks = "view_callbacks"
    view_journal = "view_journal"
    view_contracts = "view_contracts"
    add_contract = "add_contract"
    plan_payment = "plan_payment"
    take_payment = "take_payment"
    book_visit = "book_visit"
    check_in_visit = "check_in_visit"
    view_visits = "view_visits"
    close_visit = "close_visit"
    view_calls = "view_calls"
    comment_call = "comment_call"
    add_note = "add_note"
    view_finance = "view_finance"
    record_expense = "record_expense"
    view_lawyers = "view_lawyers"
    pay_out = "pay_out"
    view_plan = "view_plan"
    view_hearings = "view_hearings"
    schedule_hearing = "schedule_hearing"
    record_hearing_result = "record_hearing_result"
    change_contract_status = "change_contract_status"
    view_statistics = "view_statistics"
    export_reports = "export_reports"
    manage_staff = "manage_staff"
    listen_recording = "listen_recording"
    view_transcript = "view_transcript"
    search_transcripts = "search_transcripts"
    view_listening_queue = "view_listening_queue"
    view_call_statistics = "view_call_statistics"
    export_recording = "export_recording"
    set_reminder = "set_reminder"
    oversee_reminders = "oversee_reminders"
    # the whole firm's figures, beyond the call centre's
    view_firm_statistics = "view_firm_statistics"
    panel_clients = "panel_clients"  # start page: clients (own: one's own)
    # start page: overdue plan payments (own: of one's contracts)
    panel_overdue_payments = "panel_overdue_payments"
    panel_own_finances = "panel_own_finances"  # start page: one's accrued, paid, balance
    panel_cash = "panel_cash"  # start page: the month's cash
    # start page: today's call-centre calls (own: one's own)
    panel_calls_today = "panel_calls_today"
    panel_contracts_at_risk = "panel_contracts_at_risk"  # start page: at-risk contracts
    panel_employees = "panel_employees"  # start page: the employees
    panel_lawyers = "panel_lawyers"  # start page: the lawyers to assign


class Scope(StrEnum):
    own = "own"  # objects assigned to the employee (their clients)
    all = "all"


class Ownership(StrEnum):
    """What makes an object a job's own, for the own scope: the lawyer a client or contract
    has, the operator who booked a visit, the representative who goes to the hearing."""

    lawyer = "lawyer"
    booked_by = "booked_by"
    representative = "representative"


# Jobs with an own scope anywhere, and how their own objects are theirs.
OWNERSHIP: dict[Role, Ownership] = {
    Role.lawyer: Ownership.lawyer,
    Role.operator: Ownership.booked_by,
    Role.court_representative: Ownership.representative,
}


NONE: Scope | None = None  # no right at all
PERMISSIONS: dict[Role, dict[Action, Scope | None]] = {
    Role.director: {
        Action.view_client: Scope.all,
        Action.call_client: NONE,
        Action.view_callbacks: Scope.all,
        Action.view_journal: Scope.all,
        Action.view_contracts: Scope.all,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: NONE,
        Action.book_visit: NONE,
        Action.check_in_visit: NONE,
        Action.view_visits: Scope.all,
        Action.close_visit: NONE,
        Action.view_calls: Scope.all,
        Action.comment_call: NONE,
        Action.add_note: Scope.all,
        Action.view_finance: Scope.all,
        Action.record_expense: NONE,
        Action.view_lawyers: Scope.all,
        Action.pay_out: NONE,
        Action.view_plan: Scope.all,
        Action.view_hearings: Scope.all,
        Action.schedule_hearing: NONE,
        Action.record_hearing_result: NONE,
        Action.change_contract_status: Scope.all,
        Action.view_statistics: Scope.all,
        Action.export_reports: Scope.all,
        Action.manage_staff: NONE,
        Action.listen_recording: Scope.all,
        Action.view_transcript: Scope.all,
        Action.search_transcripts: Scope.all,
        Action.view_listening_queue: Scope.all,
        Action.view_call_statistics: Scope.all,
        Action.export_recording: Scope.all,
        Action.set_reminder: Scope.all,
        Action.oversee_reminders: Scope.all,
        Action.view_firm_statistics: Scope.all,
        Action.panel_clients: NONE,
        Action.panel_overdue_payments: Scope.all,
        Action.panel_own_finances: NONE,
        Action.panel_cash: Scope.all,
        Action.panel_calls_today: Scope.all,
        Action.panel_contracts_at_risk: Scope.all,
        Action.panel_employees: NONE,
        Action.panel_lawyers: NONE,
    },
    Role.lawyer: {
        Action.view_client: Scope.own,
        Action.call_client: Scope.own,
        Action.view_callbacks: NONE,
        Action.view_journal: NONE,
        Action.view_contracts: Scope.own,
        Action.add_contract: Scope.own,
        Action.plan_payment: Scope.own,
        Action.take_payment: NONE,
        Action.book_visit: Scope.own,
        Action.check_in_visit: NONE,
        Action.view_visits: Scope.own,
        Action.close_visit: Scope.own,
        Action.view_calls: Scope.own,
        Action.comment_call: Scope.own,
        Action.add_note: Scope.own,
        Action.view_finance: NONE,
        Action.record_expense: NONE,
        Action.view_lawyers: Scope.own,
        Action.pay_out: NONE,
        Action.view_plan: Scope.own,
        Action.view_hearings: Scope.own,
        Action.schedule_hearing: Scope.own,
        Action.record_hearing_result: NONE,
        Action.change_contract_status: Scope.own,
        Action.view_statistics: NONE,
        Action.export_reports: NONE,
        Action.manage_staff: NONE,
        Action.listen_recording: Scope.own,
        Action.view_transcript: Scope.own,
        Action.search_transcripts: Scope.own,
        Action.view_listening_queue: NONE,
        Action.view_call_statistics: NONE,
        Action.export_recording: NONE,
        Action.set_reminder: Scope.own,
        Action.oversee_reminders: NONE,
        Action.view_firm_statistics: NONE,
        Action.panel_clients: Scope.own,
        Action.panel_overdue_payments: Scope.own,
        Action.panel_own_finances: Scope.own,
        Action.panel_cash: NONE,
        Action.panel_calls_today: NONE,
        Action.panel_contracts_at_risk: NONE,
        Action.panel_employees: NONE,
        Action.panel_lawyers: Scope.all,
    },
    Role.court_representative: {
        Action.view_client: Scope.own,
        Action.call_client: Scope.own,
        Action.view_callbacks: NONE,
        Action.view_journal: NONE,
        # Representatives take cases from every lawyer: they find the contract to schedule
        # its first hearing; the client's card stays closed until they have one.
        Action.view_contracts: Scope.all,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: NONE,
        Action.book_visit: NONE,
        Action.check_in_visit: NONE,
        Action.view_visits: NONE,
        Action.close_visit: NONE,
        Action.view_calls: Scope.own,
        Action.comment_call: Scope.own,
        Action.add_note: Scope.own,
        Action.view_finance: NONE,
        Action.record_expense: NONE,
        Action.view_lawyers: NONE,
        Action.pay_out: NONE,
        Action.view_plan: NONE,
        Action.view_hearings: Scope.own,
        Action.schedule_hearing: Scope.all,
        Action.record_hearing_result: Scope.own,
        Action.change_contract_status: NONE,
        Action.view_statistics: NONE,
        Action.export_reports: NONE,
        Action.manage_staff: NONE,
        Action.listen_recording: Scope.own,
        Action.view_transcript: Scope.own,
        Action.search_transcripts: Scope.own,
        Action.view_listening_queue: NONE,
        Action.view_call_statistics: NONE,
        Action.export_recording: NONE,
        Action.set_reminder: Scope.own,
        Action.oversee_reminders: NONE,
        Action.view_firm_statistics: NONE,
        Action.panel_clients: NONE,
        Action.panel_overdue_payments: NONE,
        Action.panel_own_finances: NONE,
        Action.panel_cash: NONE,
        Action.panel_calls_today: NONE,
        Action.panel_contracts_at_risk: NONE,
        Action.panel_employees: NONE,
        Action.panel_lawyers: NONE,
    },
    Role.reception: {
        Action.view_client: Scope.all,
        Action.call_client: NONE,
        Action.view_callbacks: NONE,
        Action.view_journal: NONE,
        Action.view_contracts: NONE,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: NONE,
        Action.book_visit: Scope.all,
        Action.check_in_visit: Scope.all,
        Action.view_visits: Scope.all,
        Action.close_visit: Scope.all,
        Action.view_calls: NONE,
        Action.comment_call: NONE,
        Action.add_note: Scope.all,
        Action.view_finance: NONE,
        Action.record_expense: NONE,
        Action.view_lawyers: NONE,
        Action.pay_out: NONE,
        Action.view_plan: NONE,
        Action.view_hearings: NONE,
        Action.schedule_hearing: NONE,
        Action.record_hearing_result: NONE,
        Action.change_contract_status: NONE,
        Action.view_statistics: NONE,
        Action.export_reports: NONE,
        Action.manage_staff: NONE,
        Action.listen_recording: NONE,
        Action.view_transcript: NONE,
        Action.search_transcripts: NONE,
        Action.view_listening_queue: NONE,
        Action.view_call_statistics: NONE,
        Action.export_recording: NONE,
        Action.set_reminder: NONE,
        Action.oversee_reminders: NONE,
        Action.view_firm_statistics: NONE,
        Action.panel_clients: NONE,
        Action.panel_overdue_payments: NONE,
        Action.panel_own_finances: NONE,
        Action.panel_cash: NONE,
        Action.panel_calls_today: NONE,
        Action.panel_contracts_at_risk: NONE,
        Action.panel_employees: NONE,
        Action.panel_lawyers: Scope.all,
    },
    Role.cashier: {
        Action.view_client: Scope.all,
        Action.call_client: NONE,
        Action.view_callbacks: NONE,
        Action.view_journal: NONE,
        Action.view_contracts: Scope.all,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: Scope.all,
        Action.book_visit: NONE,
        Action.check_in_visit: NONE,
        Action.view_visits: NONE,
        Action.close_visit: NONE,
        Action.view_calls: NONE,
        Action.comment_call: NONE,
        Action.add_note: NONE,
        Action.view_finance: Scope.all,
        Action.record_expense: Scope.all,
        Action.view_lawyers: Scope.all,
        Action.pay_out: Scope.all,
        Action.view_plan: Scope.all,
        Action.view_hearings: NONE,
        Action.schedule_hearing: NONE,
        Action.record_hearing_result: NONE,
        Action.change_contract_status: NONE,
        Action.view_statistics: NONE,
        Action.export_reports: NONE,
        Action.manage_staff: NONE,
        Action.listen_recording: NONE,
        Action.view_transcript: NONE,
        Action.search_transcripts: NONE,
        Action.view_listening_queue: NONE,
        Action.view_call_statistics: NONE,
        Action.export_recording: NONE,
        Action.set_reminder: NONE,
        Action.oversee_reminders: NONE,
        Action.view_firm_statistics: NONE,
        Action.panel_clients: NONE,
        Action.panel_overdue_payments: Scope.all,
        Action.panel_own_finances: NONE,
        Action.panel_cash: Scope.all,
        Action.panel_calls_today: NONE,
        Action.panel_contracts_at_risk: NONE,
        Action.panel_employees: NONE,
        Action.panel_lawyers: NONE,
    },
    Role.call_centre_head: {
        Action.view_client: Scope.all,
        Action.call_client: Scope.all,
        Action.view_callbacks: Scope.all,
        Action.view_journal: Scope.all,
        Action.view_contracts: NONE,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: NONE,
        Action.book_visit: Scope.all,
        Action.check_in_visit: NONE,
        Action.view_visits: Scope.all,
        Action.close_visit: NONE,
        Action.view_calls: Scope.all,
        Action.comment_call: Scope.all,
        Action.add_note: Scope.all,
        Action.view_finance: NONE,
        Action.record_expense: NONE,
        Action.view_lawyers: NONE,
        Action.pay_out: NONE,
        Action.view_plan: NONE,
        Action.view_hearings: NONE,
        Action.schedule_hearing: NONE,
        Action.record_hearing_result: NONE,
        Action.change_contract_status: NONE,
        Action.view_statistics: Scope.all,
        Action.export_reports: Scope.all,
        Action.manage_staff: NONE,
        Action.listen_recording: Scope.all,
        Action.view_transcript: Scope.all,
        Action.search_transcripts: Scope.all,
        Action.view_listening_queue: Scope.all,
        Action.view_call_statistics: Scope.all,
        Action.export_recording: NONE,
        Action.set_reminder: Scope.all,
        Action.oversee_reminders: Scope.all,
        Action.view_firm_statistics: NONE,
        Action.panel_clients: Scope.all,
        Action.panel_overdue_payments: NONE,
        Action.panel_own_finances: NONE,
        Action.panel_cash: NONE,
        Action.panel_calls_today: Scope.all,
        Action.panel_contracts_at_risk: Scope.all,
        Action.panel_employees: NONE,
        Action.panel_lawyers: NONE,
    },
    Role.operator: {
        Action.view_client: Scope.all,
        Action.call_client: Scope.all,
        Action.view_callbacks: Scope.all,
        Action.view_journal: NONE,
        Action.view_contracts: NONE,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: NONE,
        Action.book_visit: Scope.all,
        Action.check_in_visit: NONE,
        Action.view_visits: Scope.own,
        Action.close_visit: NONE,
        Action.view_calls: Scope.own,
        Action.comment_call: Scope.own,
        Action.add_note: Scope.all,
        Action.view_finance: NONE,
        Action.record_expense: NONE,
        Action.view_lawyers: NONE,
        Action.pay_out: NONE,
        Action.view_plan: NONE,
        Action.view_hearings: NONE,
        Action.schedule_hearing: NONE,
        Action.record_hearing_result: NONE,
        Action.change_contract_status: NONE,
        Action.view_statistics: NONE,
        Action.export_reports: NONE,
        Action.manage_staff: NONE,
        Action.listen_recording: Scope.own,
        Action.view_transcript: Scope.own,
        Action.search_transcripts: Scope.own,
        Action.view_listening_queue: NONE,
        Action.view_call_statistics: NONE,
        Action.export_recording: NONE,
        Action.set_reminder: NONE,
        Action.oversee_reminders: NONE,
        Action.view_firm_statistics: NONE,
        Action.panel_clients: Scope.all,
        Action.panel_overdue_payments: NONE,
        Action.panel_own_finances: NONE,
        Action.panel_cash: NONE,
        Action.panel_calls_today: Scope.own,
        Action.panel_contracts_at_risk: NONE,
        Action.panel_employees: NONE,
        Action.panel_lawyers: NONE,
    },
    Role.administrator: {
        Action.view_client: NONE,
        Action.call_client: NONE,
        Action.view_callbacks: NONE,
        Action.view_journal: Scope.all,
        Action.view_contracts: NONE,
        Action.add_contract: NONE,
        Action.plan_payment: NONE,
        Action.take_payment: NONE,
        Action.book_visit: NONE,
        Action.check_in_visit: NONE,
        Action.view_visits: NONE,
        Action.close_visit: NONE,
        Action.view_calls: NONE,
        Action.comment_call: NONE,
        Action.add_note: NONE,
        Action.view_finance: NONE,
        Action.record_expense: NONE,
        Action.view_lawyers: NONE,
        Action.pay_out: NONE,
        Action.view_plan: NONE,
        Action.view_hearings: NONE,
        Action.schedule_hearing: NONE,
        Action.record_hearing_result: NONE,
        Action.change_contract_status: NONE,
        Action.view_statistics: NONE,
        Action.export_reports: NONE,
        Action.manage_staff: Scope.all,
        Action.listen_recording: NONE,
        Action.view_transcript: NONE,
        Action.search_transcripts: NONE,
        Action.view_listening_queue: NONE,
        Action.view_call_statistics: NONE,
        Action.export_recording: NONE,
        Action.set_reminder: NONE,
        Action.oversee_reminders: NONE,
        Action.view_firm_statistics: NONE,
        Action.panel_clients: NONE,
        Action.panel_overdue_payments: NONE,
        Action.panel_own_finances: NONE,
        Action.panel_cash: NONE,
        Action.panel_calls_today: NONE,
        Action.panel_contracts_at_risk: NONE,
        Action.panel_employees: Scope.all,
        Action.panel_lawyers: NONE,
    },
}


def scope_of(role: Role, action: Action) -> Scope | None:
    """How far `role` may do `action`; None: not at all."""
    return PERMISSIONS[role][action]


def may(role: Role, action: Action, *, owner_id: int | None, employee_id: int) -> bool:
    """May this employee do `action` on an object owned by `owner_id`?

    All scope allows it whoever's the object is; own scope needs the object to be the
    employee's.
    """
    scope = scope_of(role, action)
    if scope is None:
        return False
    if scope is Scope.own:
        return owner_id is not None and owner_id == employee_id
    return True


def own_as(role: Role, action: Action, ownership: Ownership) -> bool:
    """Is `action` limited for `role` to its own objects, owned the way `ownership` says?
    A list narrows to the employee's own rows by that column, and by no other."""
    return scope_of(role, action) is Scope.own and OWNERSHIP.get(role) is ownership
