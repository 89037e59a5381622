"""The connection check: its steps, its probes (sent through the Graph client) and its advice.

This module stays light (the hook reads :data:`CHECK_EXTRAS` whenever it reads a connection).
"""

__all__ = ["CHECK_EXTRAS"]

#: Connection extras only the check reads: ``check_artifacts`` (which artifacts' permissions
#: step 6 checks). ``graph/settings.py`` does not report them as unknown when told of them.
CHECK_EXTRAS: tuple[str, ...] = ("check_artifacts",)
