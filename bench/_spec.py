"""The bench's meeting: one spec of ``create_or_get_meetings`` (and, without its
``external_id``, the keywords of ``create_or_get_meeting``), shared by ``run.py`` and the
child processes of ``_probe.py``.

Imports nothing: ``_probe.py import`` measures the operator module's import cost, and this
module loads before it.
"""

from __future__ import annotations

#: The slot every bench meeting takes: a fixed time, so reruns find the same meetings.
START = "2026-12-07T09:00:00Z"
END = "2026-12-07T09:30:00Z"


def meeting_spec(prefix: str, i: int) -> dict[str, str]:
    """The ``i``-th meeting of a run whose external ids start with ``prefix``."""
    return {
        "external_id": f"{prefix}-{i}",
        "subject": f"Bench meeting {i}",
        "start_date_time": START,
        "end_date_time": END,
    }


def meeting_specs(prefix: str, n: int) -> list[dict[str, str]]:
    """Meetings ``0`` to ``n - 1`` of :func:`meeting_spec`."""
    return [meeting_spec(prefix, i) for i in range(n)]
