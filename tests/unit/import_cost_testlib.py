"""What importing a module loads, asked of a fresh interpreter (this one has loaded everything).

Airflow parses DAG files over and over, and imports every provider's ``get_provider_info``:
the operator, sensor, hook and provider-info modules must stay free of msal and requests
(docs/performance.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable

#: What a module imported while Airflow parses DAG files must not load.
HEAVY = ("msal", "requests", "urllib3", "meetings_emulator")


def loaded_by(modules: Iterable[str], watched: Iterable[str] = HEAVY, *, then: str = "") -> list[str]:
    """Which of ``watched`` a fresh interpreter has loaded after importing ``modules``.

    :param modules: module names, imported in this order
    :param watched: the module names to look for in ``sys.modules``
    :param then: a statement run after the imports, e.g. a call that might import more
    """
    code = (
        "import sys, json\n"
        + "".join(f"import {module}\n" for module in modules)
        + f"{then}\n"
        + f"print(json.dumps([m for m in {list(watched)!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])
