"""Calls: records from telephony events, leads, callbacks, click-to-call, the call log, masking."""
