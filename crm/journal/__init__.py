"""The employee-activity journal: every card view, export and refused access."""
