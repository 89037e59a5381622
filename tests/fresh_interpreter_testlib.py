"""What only a new Python process shows: which modules an import loads."""

from __future__ import annotations

import subprocess
import sys


def run_in_fresh_interpreter(*lines: str) -> None:
    """Run ``lines`` as a program in a new interpreter, where nothing is imported yet; the test
    fails if the program does (its assertions included)."""
    subprocess.run([sys.executable, "-c", "\n".join(lines)], check=True)
