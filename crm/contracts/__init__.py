"""Contracts: concluded by lawyers, found by any part of the number, with statuses."""
