"""Clients: their cards, encrypted phone numbers, status from lead to former."""
