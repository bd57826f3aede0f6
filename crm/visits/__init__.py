"""Office visits: booked by operators, checked in by reception, closed by lawyers."""
