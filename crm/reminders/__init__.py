"""Reminders to call clients: the rules, generation, settling by real calls, oversight."""
