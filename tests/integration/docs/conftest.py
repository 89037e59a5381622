"""The docs' example project is run as a project of its own (pytest in a subprocess), never collected here."""

collect_ignore = ["user_project"]
