"""Child process of ``bench/run.py``: one measurement in a fresh interpreter.

``python bench/_probe.py import`` measures importing the operator module after
``airflow.sdk``; ``python bench/_probe.py memory --n N --mode rss|tracemalloc`` runs one
bulk call against the emulator named by ``AIRFLOW_CONN_MSGRAPH_MEETINGS_BENCH`` and
measures its memory; ``python bench/_probe.py task --prefix P`` is one task: a fresh hook
and one createOrGet, as a task process does; ``python bench/_probe.py recording --mode
hook|copy --meeting-id M --recording-id R --dest DIR`` downloads one meeting recording with
``hook.download_recordings`` or with a plain ``requests`` stream written to a file, and
measures its time and peak RSS; ``python bench/_probe.py bulk --n N --prefix P``
is one worker process of the scale-out scenario: it builds its hook, gets its token,
prints ``ready``, waits for a line on stdin, then makes one bulk call. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import threading
import time

from _spec import meeting_specs

CONN_ID = "msgraph_meetings_bench"
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Current resident set size (Linux ``/proc``; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_import() -> dict[str, object]:
    import airflow.sdk  # noqa: F401  (the baseline every DAG file pays)

    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    import airflow_provider_meetings.operators.online_meetings  # noqa: F401

    elapsed = time.perf_counter() - start
    return {
        "ms": elapsed * 1000,
        "rss_kib": (rss_bytes() - before) / 1024,
        "msal": "msal" in sys.modules,
        "requests": "requests" in sys.modules,
    }


class PeakSampler(threading.Thread):
    """Samples RSS every few milliseconds and keeps the peak."""

    def __init__(self, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = rss_bytes()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, rss_bytes())
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        self.peak = max(self.peak, rss_bytes())
        return self.peak


def measure_memory(n: int, mode: str, prefix: str) -> dict[str, object]:
    # What a worker has loaded when execute() starts: the operator module, no more.
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook
    from airflow_provider_meetings.operators import online_meetings  # noqa: F401

    specs = meeting_specs(prefix, n)
    hook = OnlineMeetingsHook(CONN_ID)
    gc.collect()
    start = time.perf_counter()
    if mode == "tracemalloc":
        import tracemalloc

        tracemalloc.start()
        results = hook.create_or_get_meetings(specs)
        retained, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out = {"tracemalloc_peak": peak, "tracemalloc_retained": retained}
    else:
        before = rss_bytes()
        sampler = PeakSampler()
        sampler.start()
        results = hook.create_or_get_meetings(specs)
        peak = sampler.stop()
        out = {"rss_before": before, "rss_peak_growth": peak - before, "rss_retained": rss_bytes() - before}
    out.update(
        n=n,
        mode=mode,
        seconds=time.perf_counter() - start,
        failures=sum(not r.ok for r in results),
        max_rss_total=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    )
    return out


def run_task(external_id: str) -> dict[str, object]:
    """What one mapped task does: a hook on the connection, one createOrGet.

    ``token_ms`` is the time to the access token once MSAL's app exists (its OIDC discovery
    is the same with and without a token cache): a token request, or a cache hit.
    """
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    start = time.perf_counter()
    with OnlineMeetingsHook(CONN_ID) as hook:
        _ = hook.client.tokens.app
        before_token = time.perf_counter()
        hook.get_access_token()
        token_seconds = time.perf_counter() - before_token
        result = hook.create_or_get_meeting(external_id, subject="Bench task")
    return {"created": result.created, "seconds": time.perf_counter() - start, "token_ms": token_seconds * 1000}


def proc_status(field: str) -> int:
    """A ``/proc/self/status`` field in bytes (``VmRSS``, ``VmHWM``)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def reset_peak() -> int:
    """Make the peak RSS (``VmHWM``) the current RSS (Linux >= 4.0) and return it."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return proc_status("VmRSS")


def download_recording(
    mode: str, user_id: str, meeting_id: str, recording_id: str, dest: str, ca_path: str
) -> dict[str, object]:
    """One recording into ``dest``: the hook's ``download_recordings``, or a plain streamed copy.

    Both start after the imports, the hook, its token and a first request on the
    connection (what a task has before it downloads: the e2e test's warm-up); the plain copy
    is ``requests`` streaming the same content URL with the same token in 1 MiB chunks into
    a file, the least a download can do. The hook's time includes its listing of the
    meeting's recordings and the move into place.
    """
    from urllib.parse import quote

    import requests

    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    with OnlineMeetingsHook(CONN_ID) as hook:
        token = hook.get_access_token()  # not printed: a secret
        if mode == "hook":
            hook.meeting_artifacts_status(user_id=user_id, meeting_id=meeting_id, artifacts=("recording",))
            hook.artifact_destination(dest)
            before = reset_peak()
            start = time.perf_counter()
            paths = hook.download_recordings(dest, user_id=user_id, meeting_id=meeting_id)
            seconds = time.perf_counter() - start
            path = paths[0]
        else:
            url = hook.client.url(
                f"/users/{quote(user_id, safe='')}/onlineMeetings/{quote(meeting_id, safe='')}"
                f"/recordings/{quote(recording_id, safe='')}/content"
            )
            path = os.path.join(dest, "plain-copy.mp4")
            with requests.Session() as session:
                session.headers["Authorization"] = f"Bearer {token}"
                metadata = url.rsplit("/content", 1)[0]
                session.get(metadata, timeout=60, verify=ca_path).raise_for_status()  # the connection, warm
                before = reset_peak()
                start = time.perf_counter()
                with session.get(url, stream=True, timeout=60, verify=ca_path) as response, open(path, "wb") as out:
                    response.raise_for_status()
                    for chunk in response.iter_content(1 << 20):
                        out.write(chunk)
                seconds = time.perf_counter() - start
    return {
        "mode": mode,
        "path": path,
        "bytes": os.path.getsize(path),
        "seconds": seconds,
        "rss_before": before,
        "peak_growth": proc_status("VmHWM") - before,
    }


def run_bulk_worker(n: int, prefix: str) -> dict[str, object]:
    """One worker process of scenario 8: ready, wait for ``go``, one bulk call of ``n`` meetings.

    ``start``/``end`` are wall-clock instants (``time.time()``), comparable between the
    processes of one machine.
    """
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    specs = meeting_specs(prefix, n)
    last: list[object] = []
    with OnlineMeetingsHook(CONN_ID) as hook:
        hook.get_access_token()  # the token request is start-up, not part of the race
        print("ready", flush=True)
        sys.stdin.readline()
        start = time.time()
        results = hook.create_or_get_meetings(specs, progress=last.append)
        end = time.time()
        budget = hook.client.rate_budget.describe()
    return {
        "budget": budget,
        "n": n,
        "start": start,
        "end": end,
        "failures": sum(not r.ok for r in results),
        "created": sum(bool(r.created) for r in results),
        "retries": getattr(last[-1], "retries", 0) if last else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["import", "memory", "task", "recording", "bulk"])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--mode", choices=["rss", "tracemalloc", "hook", "copy"], default="rss")
    parser.add_argument("--prefix", default="mem")
    parser.add_argument("--user-id", default="")
    parser.add_argument("--meeting-id", default="")
    parser.add_argument("--recording-id", default="")
    parser.add_argument("--dest", default="")
    parser.add_argument("--ca-path", default="")
    args = parser.parse_args()
    if args.what == "recording":
        result = download_recording(
            args.mode, args.user_id, args.meeting_id, args.recording_id, args.dest, args.ca_path
        )
    elif args.what == "import":
        result = measure_import()
    elif args.what == "task":
        result = run_task(args.prefix)
    elif args.what == "bulk":
        result = run_bulk_worker(args.n, args.prefix)
    else:
        result = measure_memory(args.n, args.mode, args.prefix)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
