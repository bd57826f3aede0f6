"""Courts: hearings under contracts, scheduled by representatives, with results."""
