"""Many task processes share one token cache file while one of them is killed in the middle of a write.

Real MSAL against the emulator's HTTPS token endpoint. The killed process dies holding the
cache's lock with its temporary file half written (it truncates the file and SIGKILLs itself
just before the rename, through a hook of this test's child script, not of the provider): the
others go on without waiting for its lock, the file stays a whole token cache with every
other process's entries, and the next task still finds its token there.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_meetings.auth.token_cache import LOGIN_RECORD

pytestmark = pytest.mark.integration

PROCESSES = 6
ROUNDS = 10  # writes of each process after the kill
KILLED_AT_WRITE = 3

TASK = textwrap.dedent(
    """
    import json, os, signal, sys, time
    from airflow_provider_meetings.auth.token_cache import LOGIN_RECORD, remember_login
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    name, path, marker, rounds, kill_at, others = sys.argv[1:4] + [int(a) for a in sys.argv[4:]]
    hook = OnlineMeetingsHook("meetings_task")
    cache = hook.client.tokens.cache

    def one_round(n):
        hook.get_access_token()
        remember_login(cache, "client", f"{name}-{n}", name)  # one write under the lock

    def writers():
        with open(path) as handle:
            text = handle.read()
        return len({e["home_account_id"] for e in json.loads(text or "{}").get(LOGIN_RECORD, {}).values()})

    if kill_at:
        hook.get_access_token()
        while writers() < others:  # die among the others' writes
            time.sleep(0.02)
        writes, real_replace = 0, os.replace

        def replace_or_die(source, target):
            # The cache's write renames its temporary file over the cache: die just before,
            # the temporary file half written and the lock held.
            global writes
            writes += 1
            if writes == kill_at:
                with open(source, "r+b") as handle:
                    handle.truncate(os.path.getsize(source) // 2)
                os.kill(os.getpid(), signal.SIGKILL)
            real_replace(source, target)

        os.replace = replace_or_die
    n = 0
    while not kill_at and not os.path.exists(marker) and n < 2000:  # writing until the kill is over
        one_round(n)
        n += 1
    for _ in range(rounds):
        one_round(n)
        n += 1
    print("done", n)
    """
)


def start(env: dict[str, str], name: str, cache: Path, rounds: int, kill_at: int = 0) -> subprocess.Popen[str]:
    marker = cache.with_name("kill-is-over")
    arguments = [name, str(cache), str(marker), str(rounds), str(kill_at), str(PROCESSES - 1)]
    return subprocess.Popen(
        [sys.executable, "-c", TASK, *arguments],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def recorded(cache: Path) -> dict[str, int]:
    """How many login records each process wrote, as the file holds them."""
    counts: dict[str, int] = {}
    for entry in json.loads(cache.read_text()).get(LOGIN_RECORD, {}).values():
        counts[entry["home_account_id"]] = counts.get(entry["home_account_id"], 0) + 1
    return counts


@pytest.mark.timeout(120)
def test_a_writer_killed_mid_write_costs_the_others_nothing(graph_emulator: Any, tmp_path: Path) -> None:
    graph_emulator.reset()
    cache = tmp_path / "token-cache.json"
    env = {**os.environ, **graph_emulator.environment("meetings_task", token_cache_path=str(cache))}

    processes = {f"task-{n}": start(env, f"task-{n}", cache, ROUNDS) for n in range(1, PROCESSES)}
    killed = start(env, "killed", cache, ROUNDS, kill_at=KILLED_AT_WRITE)
    killed_result = finish(killed)
    cache.with_name("kill-is-over").touch()
    results = {name: finish(process) for name, process in processes.items()}

    assert killed_result[0] == -signal.SIGKILL, killed_result[2][-2000:]
    written = {}
    for name, (returncode, out, err) in results.items():
        output = out + err  # Airflow's logging may print to either
        assert returncode == 0 and out.splitlines()[-1].startswith("done "), f"{name}: {output[-2000:]}"
        assert "cannot be used" not in output and "not a token cache" not in output, f"{name}: {output[-2000:]}"
        written[name] = int(out.splitlines()[-1].split()[1])
    # At most one token request per process (those that started on the empty cache at once).
    assert graph_emulator.stats()["token_requests"] <= PROCESSES

    # The file is a whole token cache, 0600, with every survivor's entries.
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    counts = recorded(cache)
    assert {name: counts.get(name) for name in results} == written
    assert counts.get("killed", 0) < ROUNDS

    # The next task gets its token from the file (and its write removes any temporary file of the killed one).
    requests = graph_emulator.stats()["token_requests"]
    returncode, out, err = finish(start(env, "next", cache, 1))
    assert returncode == 0 and out.splitlines()[-1] == "done 1", (out + err)[-2000:]
    assert graph_emulator.stats()["token_requests"] == requests
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
    assert recorded(cache)["next"] == 1
