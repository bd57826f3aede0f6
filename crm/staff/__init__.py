"""The firm's staff: employee accounts, jobs, heads, desk phones, lawyer classes and passwords."""
