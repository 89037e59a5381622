"""Fixtures of the security suite (issue 6): the hook suite's fixtures, reused."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))

from reliability_testlib import load_hook_fixtures  # noqa: E402

_hooks = load_hook_fixtures()
make_hook = _hooks.make_hook
certificate_files = _hooks.certificate_files
