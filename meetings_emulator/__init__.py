"""A local HTTPS stand-in for Entra ID and Microsoft Graph ``onlineMeetings``.

Importing this package is cheap: the server, trustme, cryptography and PyJWT load only
when an emulator starts. Public names are resolved lazily::

    from meetings_emulator import run_emulator

    with run_emulator() as emu:
        ...

.. seealso:: docs/emulator.md
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names of __all__, for type checkers (resolved lazily below)
    from meetings_emulator.config import (
        EmulatorConfig,
        FederatedCredential,
        SeedUser,
    )
    from meetings_emulator.control_client import EmulatorClient
    from meetings_emulator.process import EmulatorProcess, start_emulator_process
    from meetings_emulator.runtime import RunningEmulator, run_emulator

_EXPORTS = {
    "EmulatorConfig": "config",
    "FederatedCredential": "config",
    "SeedUser": "config",
    "DEFAULT_TENANT_ID": "config",
    "DEFAULT_CLIENT_ID": "config",
    "DEFAULT_CLIENT_SECRET": "config",
    "DEFAULT_REFRESH_TOKEN": "config",
    "DEFAULT_PUBLIC_REFRESH_TOKEN": "config",
    "ORGANIZER_ID": "config",
    "NOPOLICY_ID": "config",
    "RunningEmulator": "runtime",
    "run_emulator": "runtime",
    "EmulatorClient": "control_client",
    "EmulatorProcess": "process",
    "start_emulator_process": "process",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
