"""The Airflow versions this provider supports, checked once when the package is imported.

The provider needs Airflow 3.2 (task SDK 1.2): it imports ``AirflowFailException`` from
``airflow.sdk.exceptions`` (new in task SDK 1.2), ``airflow.sdk.BaseHook`` and
``airflow.sdk.log.mask_secret`` (missing from Airflow 3.0's SDK), and declares its
connection form as data (``conn-fields``), which the UI reads from Airflow 3.2 on.
``pyproject.toml`` declares the same floor; this check gives a clear message to whoever
installed around it (``pip install --no-deps``, or an Airflow image older than the floor).

Only installed distributions are compared (``importlib.metadata``, no Airflow import), so
importing the package stays cheap. A worker that has only the task SDK installed (no
``apache-airflow-core``) is checked on the SDK alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

#: Lowest supported versions, by distribution. Keep ``pyproject.toml`` and the Makefile's
#: ``AIRFLOW_FLOOR`` (the floor test) equal to the Airflow one.
MIN_VERSIONS: dict[str, tuple[int, int, int]] = {
    "apache-airflow-core": (3, 2, 0),
    "apache-airflow-task-sdk": (1, 2, 0),
}
MIN_AIRFLOW = ".".join(map(str, MIN_VERSIONS["apache-airflow-core"]))

_RELEASE_RE = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def release_tuple(text: str) -> tuple[int, int, int] | None:
    """``(major, minor, micro)`` of a version string (pre-release and local parts ignored)."""
    match = _RELEASE_RE.match(text.strip())
    if match is None:
        return None
    return tuple(int(part or 0) for part in match.groups())  # type: ignore[return-value]


def _installed(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def unsupported_airflow(installed: Callable[[str], str | None] | None = None) -> str | None:
    """Why the installed Airflow is too old for this provider, or ``None`` when it is fine.

    :param installed: distribution name to its installed version (``None``: not installed);
        default: what ``importlib.metadata`` finds.
    """
    installed = installed or _installed
    too_old = []
    for distribution, minimum in MIN_VERSIONS.items():
        found = installed(distribution)
        release = release_tuple(found) if found else None
        if release is not None and release < minimum:
            too_old.append(f"{distribution} {found} (needs >= {'.'.join(map(str, minimum))})")
    if not too_old:
        return None
    return (
        f"airflow-provider-meetings needs Apache Airflow {MIN_AIRFLOW} or newer, but found "
        f"{', '.join(too_old)}. It uses names of Airflow {MIN_AIRFLOW}'s task SDK "
        "(airflow.sdk.BaseHook, airflow.sdk.log.mask_secret, "
        "airflow.sdk.exceptions.AirflowFailException) and its connection form as data. "
        f"Upgrade Airflow (pip install 'apache-airflow>={MIN_AIRFLOW}') or use an older provider."
    )


def require_supported_airflow() -> None:
    """Raise :class:`ImportError` naming the needed version when the installed Airflow is too old."""
    reason = unsupported_airflow()
    if reason is not None:
        raise ImportError(reason)
