"""Benchmark scenario 7: downloading a meeting recording, next to a plain streamed copy.

A recording is hundreds of MB to GBs; ``hook.download_recordings`` streams it in chunks to
a temporary name and moves it into place when complete (``docs/artifacts.md``). The
baseline is the least a download can do: ``requests`` streaming the same content URL of
the same emulator, with the same token, in 1 MiB chunks into a file. Each download runs in
a fresh process (``bench/_probe.py recording``), the two kinds alternating, so that each
peak RSS is its own (``VmHWM``, reset just before the download) and a slow moment of the
shared machine does not fall on one kind only. The best time of each kind is compared, as
``timeit`` does: on a shared machine a slower run measures the other processes; the
medians are shown beside.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Over 100 MiB, not a whole number of chunks.
RECORDING_SIZE = 110 * 2**20 + 4321
#: Peak RSS growth allowed for the hook's download (issue 23: "less than 40 MiB").
MAX_GROWTH = 40 * 2**20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def hold_recorded_meeting(emulator: Any, conn_id: str, size: int) -> dict[str, Any]:
    """A calendar event's meeting, held, with a recording of ``size`` bytes (``hold_meeting``)."""
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook
    from meetings_emulator.config import ORGANIZER_ID

    start = datetime.datetime(2030, 3, 5, 9, 0, tzinfo=datetime.timezone.utc)
    with OnlineMeetingsHook(conn_id) as hook:
        join_url = hook.create_or_get_event(
            "bench-recorded-lecture",
            subject="Recorded lecture",
            start=start,
            end=start + datetime.timedelta(hours=1),
            user_id=ORGANIZER_ID,
        ).join_url
    held = emulator.hold_meeting(join_url, attendees=[], recording_size=size)
    return {**held, "userId": ORGANIZER_ID}


def run_artifacts(
    emulator: Any, conn_id: str, probe: Callable[..., dict[str, Any]], env: dict[str, str], runs: int
) -> dict[str, Any]:
    """``runs`` downloads of each kind, alternating, of one recording of :data:`RECORDING_SIZE`.

    :param emulator: a started emulator (its own process), no latency
    :param conn_id: the Airflow connection
    :param probe: runs ``bench/_probe.py`` with arguments and an environment, returns its JSON
    :param env: the child processes' environment (the connection)
    :param runs: downloads of each kind
    """
    emulator.reset()
    emulator.set_latency(0)
    held = hold_recorded_meeting(emulator, conn_id, RECORDING_SIZE)
    rows: dict[str, list[dict[str, Any]]] = {"copy": [], "hook": []}
    with tempfile.TemporaryDirectory(prefix="meetings-bench-recording-") as folder:
        for i in range(runs):
            for mode in ("copy", "hook") if i % 2 == 0 else ("hook", "copy"):
                dest = Path(folder) / f"{mode}-{i}"
                dest.mkdir()
                # The previous run's 110 MiB on disk first: its write-back is not this run's.
                os.sync()
                row = probe(
                    "recording",
                    "--mode",
                    mode,
                    "--user-id",
                    held["userId"],
                    "--meeting-id",
                    held["meetingId"],
                    "--recording-id",
                    held["recordingId"],
                    "--dest",
                    str(dest),
                    "--ca-path",
                    emulator.ca_path,
                    env=env,
                )
                path = Path(row["path"])
                row["same_sha256"] = sha256_of(path) == held["recordingSha256"]
                row["leftovers"] = sorted(p.name for p in path.parent.iterdir() if p != path)
                path.unlink()
                rows[mode].append(row)
    return {"size": held["recordingSize"], "runs": runs, "rows": rows}


def render_artifacts(results: dict[str, Any]) -> tuple[list[str], list[tuple[str, bool, str]]]:
    """The scenario-7 table (markdown lines) and its targets."""
    size, rows = results["size"], results["rows"]
    mib = size / 2**20

    def summary(mode: str) -> dict[str, float]:
        seconds = min(r["seconds"] for r in rows[mode])
        return {
            "seconds": seconds,
            "median": statistics.median(r["seconds"] for r in rows[mode]),
            "rate": mib / seconds,
            "growth": max(r["peak_growth"] for r in rows[mode]) / 2**20,
            "before": statistics.median(r["rss_before"] for r in rows[mode]) / 2**20,
        }

    copy, hook = summary("copy"), summary("hook")
    lines = [
        f"**7. Recording download**: one meeting recording of {mib:.1f} MiB ({size:,} bytes) from the emulator "
        "(no latency), each download in a fresh process, the two kinds alternating, "
        f"{results['runs']} of each; best time (as `timeit`: slower runs measure the other processes of a shared "
        "machine) and median, highest peak RSS growth (`VmHWM` reset just before the download).",
        "",
        "| download | runs | best seconds | MiB/s (best) | vs plain copy | median seconds | peak RSS growth | "
        "RSS before | same SHA-256 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    labels = {
        "copy": "plain streamed copy (`requests`, 1 MiB chunks, to a file)",
        "hook": "`hook.download_recordings` (temporary name, moved into place)",
    }
    for mode, row in (("copy", copy), ("hook", hook)):
        same = all(r["same_sha256"] for r in rows[mode])
        lines.append(
            f"| {labels[mode]} | {len(rows[mode])} | {row['seconds']:.2f} | {row['rate']:.0f} | "
            f"{row['rate'] / copy['rate']:.0%} | {row['median']:.2f} | {row['growth']:.1f} MiB | "
            f"{row['before']:.0f} MiB | {same} |"
        )
    all_runs = ", ".join(f"{r['seconds']:.2f}" for r in rows["hook"])
    copies = ", ".join(f"{r['seconds']:.2f}" for r in rows["copy"])
    lines += ["", f"Every run (seconds): hook {all_runs}; plain copy {copies}."]
    fraction = hook["rate"] / copy["rate"]
    targets = [
        (
            "recording download >= 80% of a plain streamed copy (best of each)",
            fraction >= 0.8,
            f"{fraction:.0%} ({hook['rate']:.0f} vs {copy['rate']:.0f} MiB/s)",
        ),
        (
            f"recording of {mib:.0f} MiB: peak RSS growth < {MAX_GROWTH // 2**20} MiB, same SHA-256, no leftovers",
            hook["growth"] < MAX_GROWTH / 2**20 and all(r["same_sha256"] and not r["leftovers"] for r in rows["hook"]),
            f"{hook['growth']:.1f} MiB",
        ),
    ]
    return lines, targets
