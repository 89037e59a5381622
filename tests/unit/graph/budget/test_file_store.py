"""The ``file`` store of the rate budget: its files are replaced as the token cache's are.

The folder may be one that other users can write to (the default is in the shared temporary
directory), so nothing planted there is followed: not a link at a temporary name, not one at
the budget file, the lock file or a killed writer's leftover.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import threading
from pathlib import Path

import pytest

from airflow_provider_meetings.auth.cache_file import TEMPORARY_SUFFIX, lock_path
from airflow_provider_meetings.graph.budget.file_store import FileStore, boot_id, budget_file, default_folder
from airflow_provider_meetings.graph.budget.store import StoreUnavailable

KEY = "https://graph.test|tenant|app"
PRECIOUS = "another file of this user's, which the budget must never write to\n"


def count(state: dict | None, now: float) -> dict:
    """An update that counts its transactions."""
    return {"n": (state or {}).get("n", 0) + 1}


def victim(tmp_path: Path) -> Path:
    """A file outside the budget folder that a planted link points at."""
    target = tmp_path / "victim.txt"
    target.write_text(PRECIOUS)
    return target


def budget_state(folder: Path) -> dict:
    return json.loads(Path(budget_file(str(folder), KEY)).read_text())


def temporary_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(TEMPORARY_SUFFIX))


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_link_at_the_old_fixed_temporary_name_is_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "budgets"
    folder.mkdir(mode=0o700)
    target = victim(tmp_path)
    planted = Path(budget_file(str(folder), KEY) + ".partial")  # the name every write used to open
    planted.symlink_to(target)

    FileStore(str(folder)).transact(KEY, count)

    assert target.read_text() == PRECIOUS
    budget = Path(budget_file(str(folder), KEY))
    assert not budget.is_symlink() and budget_state(folder)["n"] == 1


def test_a_link_at_the_budget_file_is_replaced_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "budgets"
    folder.mkdir(mode=0o700)
    target = victim(tmp_path)
    budget = Path(budget_file(str(folder), KEY))
    budget.symlink_to(target)

    FileStore(str(folder)).transact(KEY, count)

    assert target.read_text() == PRECIOUS
    assert not budget.is_symlink() and budget_state(folder)["n"] == 1  # read as no budget, then replaced


def test_a_link_at_the_lock_file_makes_the_store_unavailable_without_touching_its_target(tmp_path: Path) -> None:
    folder = tmp_path / "budgets"
    folder.mkdir(mode=0o700)
    target = victim(tmp_path)
    Path(lock_path(budget_file(str(folder), KEY))).symlink_to(target)

    with pytest.raises(StoreUnavailable):
        FileStore(str(folder)).transact(KEY, count)
    assert target.read_text() == PRECIOUS


def test_a_link_named_like_a_leftover_is_removed_not_its_target(tmp_path: Path) -> None:
    folder = tmp_path / "budgets"
    folder.mkdir(mode=0o700)
    target = victim(tmp_path)
    name = os.path.basename(budget_file(str(folder), KEY))
    (folder / f".{name}.abc123{TEMPORARY_SUFFIX}").symlink_to(target)
    (folder / f".{name}.def456{TEMPORARY_SUFFIX}").write_text('{"n": 4')  # a killed writer's

    FileStore(str(folder)).transact(KEY, count)

    assert target.read_text() == PRECIOUS and temporary_files(folder) == []


def test_the_file_is_created_0600_even_over_a_looser_file_at_the_old_temporary_name(tmp_path: Path) -> None:
    folder = tmp_path / "budgets"
    folder.mkdir(mode=0o700)
    loose = Path(budget_file(str(folder), KEY) + ".partial")
    loose.write_text("")
    loose.chmod(0o666)  # O_TRUNC kept this mode for the budget file
    old_umask = os.umask(0)
    try:
        FileStore(str(folder)).transact(KEY, count)
    finally:
        os.umask(old_umask)

    assert mode(Path(budget_file(str(folder), KEY))) == 0o600


def test_a_missing_folder_is_created_0700_and_transactions_chain(tmp_path: Path, monkeypatch) -> None:
    def no_fsync(descriptor: int) -> None:
        raise AssertionError("the budget is not flushed to disk (see the module's docstring)")

    monkeypatch.setattr(os, "fsync", no_fsync)
    folder = tmp_path / "a" / "budgets"
    store = FileStore(str(folder))

    for _ in range(3):
        store.transact(KEY, count)

    assert mode(folder) == 0o700 and budget_state(folder)["n"] == 3
    assert temporary_files(folder) == []


def test_concurrent_writers_lose_no_update(tmp_path: Path) -> None:
    folder = tmp_path / "budgets"
    stores = [FileStore(str(folder), lock_timeout=10.0) for _ in range(4)]

    def work(store: FileStore) -> None:
        for _ in range(25):
            store.transact(KEY, count)

    threads = [threading.Thread(target=work, args=(store,)) for store in stores]  # flock: one descriptor each
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert budget_state(folder)["n"] == 100 and temporary_files(folder) == []


def test_only_the_default_folder_must_be_this_users(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert default_folder().startswith(str(tmp_path))

    assert FileStore(default_folder()).private
    assert not FileStore(str(tmp_path / "beside-the-token-cache")).private


def test_a_default_folder_another_user_created_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = Path(default_folder())
    folder.mkdir(mode=0o777)  # created first by someone else (uid below), under this user's name
    store = FileStore(str(folder))
    owner = folder.stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)

    with pytest.raises(StoreUnavailable, match=f"belongs to another user \\(uid {owner}\\)"):
        store.transact(KEY, count)
    assert list(folder.iterdir()) == []  # no lock file, no budget written there


def test_a_default_folder_that_is_a_link_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    Path(default_folder()).symlink_to(elsewhere)

    with pytest.raises(StoreUnavailable, match="not a directory"):
        FileStore(default_folder()).transact(KEY, count)
    assert list(elsewhere.iterdir()) == []


def test_a_folder_beside_the_token_cache_may_belong_to_another_user(tmp_path: Path, monkeypatch) -> None:
    # e.g. a volume that root owns and the workers' group may write to
    folder = tmp_path / "volume"
    folder.mkdir(mode=0o770)
    owner = folder.stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)

    FileStore(str(folder)).transact(KEY, count)

    assert budget_state(folder)["n"] == 1


def test_a_budget_of_another_boot_or_not_json_reads_as_none(tmp_path: Path) -> None:
    folder = tmp_path / "budgets"
    folder.mkdir(mode=0o700)
    budget = Path(budget_file(str(folder), KEY))
    seen: list[dict | None] = []

    def record(state: dict | None, now: float) -> dict:
        seen.append(state)
        return {"n": 1}

    store = FileStore(str(folder))
    budget.write_text(json.dumps({"n": 7, "boot": "another-boot"}))
    store.transact(KEY, record)
    budget.write_bytes(b"\xff{not json")
    store.transact(KEY, record)
    store.transact(KEY, record)

    assert seen == [None, None, {"n": 1, "boot": boot_id()}]


def test_the_default_folder_is_named_after_the_user_it_must_belong_to(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(os, "getuid", lambda: os.geteuid() + 1)  # e.g. a setuid program: files are the euid's

    assert default_folder() == str(tmp_path / f"airflow-provider-meetings-{os.geteuid()}")
    FileStore(default_folder()).transact(KEY, count)
    assert budget_state(Path(default_folder()))["n"] == 1


def test_a_platform_without_user_ids_still_keeps_a_private_budget(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delattr(os, "geteuid")
    monkeypatch.delattr(os, "getuid")

    store = FileStore(default_folder())
    store.transact(KEY, count)

    assert store.private and default_folder() == str(tmp_path / "airflow-provider-meetings")
    assert budget_state(Path(default_folder()))["n"] == 1
