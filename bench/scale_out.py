"""Scenario 8 of ``bench/run.py``: several worker processes running bulk createOrGet at once.

Graph throttles per app and tenant and "continues to log resource usage while a client is
being throttled" (https://learn.microsoft.com/graph/throttling): the emulator's limiter
(``meetings_emulator/faults.py``, ``RateLimiter``) counts every request, throttled ones
too. When Airflow scales out (CeleryExecutor workers, mapped tasks on several machines),
several processes share that one limit. This scenario starts 1, 2 and 4 fresh Python
processes, each a "worker" with its own hook, that split 1,000 meetings between them and
start their bulk call at the same instant, once per rate-budget backend:

- ``off``: each process paces itself alone (the provider before issue 24);
- ``file``: the shared budget in a file (one machine);
- ``redis``: the shared budget in Redis (a ``redis-server`` the bench starts on a free port).

The share of the limit is all meetings over the time from the common start to the last
process's end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROBE = Path(__file__).resolve().parent / "_probe.py"
ROOT = PROBE.parent.parent
CONN_ID = "msgraph_meetings_bench"
BACKENDS = ("off", "file", "redis")
START_MARK = "<!-- [START bench_scale_out] -->"
END_MARK = "<!-- [END bench_scale_out] -->"
#: The issue's target: 4 processes together reach this share of the limit, with 0 item errors.
TARGET_SHARE = 0.85
TARGET_PROCESSES = 4


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A throw-away ``redis-server`` on a free loopback port, no persistence; yields its URL."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).is_file():
        raise RuntimeError(
            "redis-server is not installed (apt-get install redis-server); or pass --scale-backends off,file"
        )
    port = free_port()
    log = (folder / "redis.log").open("wb")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while not _redis_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {folder / 'redis.log'}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def budget_extras(backend: str, folder: Path, redis_url: str | None) -> dict[str, Any]:
    """The connection extras that choose the rate budget's backend.

    :param backend: ``off``, ``file`` or ``redis``.
    :param folder: a folder of this run for the token cache (the file budget lives beside it).
    :param redis_url: the bench's Redis server (``redis`` only).
    """
    # Every run starts with a fresh token cache and budget: no state from the run before.
    extras: dict[str, Any] = {"token_cache_path": str(folder / "token-cache.json"), "rate_budget": backend}
    if backend == "redis":
        extras["rate_budget_url"] = redis_url
    return extras


def split(total: int, parts: int) -> list[int]:
    """``total`` meetings over ``parts`` processes, as even as can be."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _wait_ready(child: subprocess.Popen[str], err: Any) -> None:
    """Read the child's stdout up to its ``ready`` line (Airflow may log to stdout first)."""
    seen: list[str] = []
    for line in child.stdout or ():
        if line.strip() == "ready":
            return
        seen.append(line)
    err.seek(0)
    raise RuntimeError(f"a bulk process did not get ready:\n{''.join(seen)[-2000:]}\n{err.read()[-3000:]}")


def run_processes(emulator: Any, processes: int, total: int, conn: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``processes`` fresh worker processes split ``total`` meetings and start at one instant.

    Each child builds its hook and gets its token, says ``ready``, and waits for ``go`` on
    stdin: process start-up is not measured, the bulk calls overlap from the first request.
    """
    env = {**os.environ, **emulator.environment(CONN_ID, **conn)}
    children: list[tuple[subprocess.Popen[str], Any]] = []
    try:
        for i, n in enumerate(split(total, processes)):
            err = tempfile.TemporaryFile("w+")
            child = subprocess.Popen(
                [sys.executable, str(PROBE), "bulk", "--n", str(n), "--prefix", f"{prefix}-p{i}"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env=env,
                cwd=str(ROOT),
            )
            children.append((child, err))
        for child, err in children:
            _wait_ready(child, err)
        for child, _ in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.close()
        runs = []
        for child, err in children:
            out = child.stdout.read() if child.stdout else ""  # small: a JSON line, maybe a warning
            child.wait(timeout=600)
            err.seek(0)
            log = err.read()
            if child.returncode != 0:
                raise RuntimeError(f"a bulk process exited with {child.returncode}:\n{log[-3000:]}")
            run = json.loads(out.strip().splitlines()[-1])
            run["log"] = log
            runs.append(run)
    finally:
        for child, err in children:
            if child.poll() is None:
                child.kill()
                child.wait()
            err.close()
    stats = emulator.stats()
    stored = emulator.meetings()
    counts = Counter((m["tenant_id"], m["user_id"], m["external_id"]) for m in stored)
    wall = max(r["end"] for r in runs) - min(r["start"] for r in runs)
    return {
        "processes": processes,
        "n": total,
        "seconds": wall,
        "rate": total / wall,
        "throttled": stats["throttled"],
        "graph_requests": stats["graph_requests"],
        "failures": sum(r["failures"] for r in runs),
        "retries": sum(r["retries"] for r in runs),
        "stored": len(stored),
        "duplicates": sum(c - 1 for c in counts.values()),
        "budgets": sorted({r["budget"] for r in runs}),
        # Processes whose budget store failed them (they paced alone for a while): a low
        # share with this above 0 is the store's doing, not the pacing's.
        "fallbacks": sum("rate budget: the" in r["log"] and "store is unavailable" in r["log"] for r in runs),
    }


def run_scale_out(
    emulator: Any, *, total: int, process_counts: list[int], backends: list[str], latency_ms: float, limit: float
) -> dict[str, Any]:
    """Every backend with every process count, each run against a fresh emulator."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="meetings-bench-scale-") as tmp:
        folder = Path(tmp)
        with _maybe_redis(folder, "redis" in backends) as redis_url:
            for backend in backends:
                for processes in process_counts:
                    print(f"6/6 scale-out: {processes} process(es), budget {backend}, {total} meetings ...", flush=True)
                    run_folder = folder / f"{backend}-{processes}"
                    run_folder.mkdir()
                    if redis_url is not None:
                        _redis_flush(redis_url)
                    emulator.reset()
                    emulator.set_latency(latency_ms)
                    emulator.set_rate_limit(limit, retry_after=1)
                    conn = budget_extras(backend, run_folder, redis_url)
                    row = run_processes(emulator, processes, total, conn, f"scale-{backend}-{processes}")
                    row.update(backend=backend, limit=limit)
                    rows.append(row)
    return {"rows": rows, "latency_ms": latency_ms, "limit": limit, "total": total}


@contextmanager
def _maybe_redis(folder: Path, wanted: bool) -> Iterator[str | None]:
    if not wanted:
        yield None
        return
    with redis_server(folder) as url:
        yield url


def _redis_flush(url: str) -> None:
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"FLUSHALL\r\n")
        sock.recv(64)


def _counts(rows: list[dict[str, Any]]) -> str:
    counts = [str(n) for n in sorted({r["processes"] for r in rows})]
    return counts[0] if len(counts) == 1 else f"{', '.join(counts[:-1])} and {counts[-1]}"


LABELS = {
    "off": "off (each process paces alone)",
    "file": "file (shared, one machine)",
    "redis": "redis (shared, any machine)",
}


def render_scale_out(results: dict[str, Any], header: str) -> tuple[str, list[tuple[str, bool, str]]]:
    """The scenario-8 table and its targets.

    :param header: the machine line of the run.
    """
    rows, limit = results["rows"], results["limit"]
    lines = [
        header,
        "",
        f"**6. Worker processes sharing one tenant limit**: {results['total']:,} meetings split over "
        f"{_counts(rows)} fresh processes that start their bulk call at the same instant; emulator limited to {limit:.0f} "
        f"requests/s (each batch item counts, throttled requests count too), {results['latency_ms']:.0f} ms "
        "latency, 429 with `Retry-After: 1`.",
        "",
        "| rate budget | worker processes | seconds | meetings/s | share of the limit | throttled answers | "
        "item retries | item errors | stored | duplicates | processes that lost the store |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {LABELS.get(row['backend'], row['backend'])} | {row['processes']} | {row['seconds']:.1f} | "
            f"{row['rate']:.1f} | {row['rate'] / limit:.0%} | {row['throttled']} | {row['retries']} | "
            f"{row['failures']} | {row['stored']} | {row['duplicates']} | {row['fallbacks']} |"
        )
    targets: list[tuple[str, bool, str]] = []
    for backend in ("file", "redis"):
        row = next((r for r in rows if r["backend"] == backend and r["processes"] == TARGET_PROCESSES), None)
        if row is None:
            continue
        share = row["rate"] / limit
        targets.append(
            (
                f"budget {backend}: {TARGET_PROCESSES} processes together >= {TARGET_SHARE:.0%} of the "
                f"{limit:.0f}/s limit, 0 item errors",
                share >= TARGET_SHARE and row["failures"] == 0,
                f"{share:.0%}, {row['failures']} item errors",
            )
        )
    targets.append(
        (
            "every process used the rate budget asked for",
            all(len(r["budgets"]) == 1 and r["budgets"][0].startswith(r["backend"]) for r in rows),
            "; ".join(sorted({b.split(" (", 1)[0] for r in rows for b in r["budgets"]})),
        )
    )
    targets.append(
        (
            "every run: each meeting stored once, none missing",
            all(r["duplicates"] == 0 and r["stored"] == r["n"] for r in rows),
            ", ".join(f"{r['backend']}/{r['processes']}: {r['stored']}" for r in rows),
        )
    )
    lines += ["", "| target | result | measured |", "|---|---|---|"]
    lines += [f"| {name} | {'PASS' if ok else 'FAIL'} | {value} |" for name, ok, value in targets]
    return "\n".join(lines), targets
