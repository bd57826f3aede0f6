"""Web sessions of employees: server-side, started at login and ended at logout or idleness."""
