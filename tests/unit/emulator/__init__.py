"""Unit tests of the emulator, ``meetings_emulator/``."""
