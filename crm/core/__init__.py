"""What every feature shares: the table base, errors, jobs, permissions, clock, formats, crypto."""
