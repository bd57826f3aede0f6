"""Notes in a client's communication history."""
