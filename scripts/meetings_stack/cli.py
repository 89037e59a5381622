"""``scripts/stack.py up|down|status``: the command line of the stack."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from meetings_stack import airflow_components as components
from meetings_stack import services
from meetings_stack.config import ADMIN_USER, CONN_ID, EXECUTORS, POOL, Ports, StackConfig, StackError
from meetings_stack.processes import ProcessTable, stop

T = TypeVar("T")
INFRA_ORDER = ("emulator", "redis", "postgres")


def step(title: str, action: Callable[[], T]) -> T:
    """Run one step, printing its title and how long it took."""
    print(f"  {title} ...", end="", flush=True)
    started = time.monotonic()
    try:
        result = action()
    except BaseException:
        print(" FAILED", flush=True)
        raise
    print(f" ok ({time.monotonic() - started:.1f} s)", flush=True)
    return result


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_stack_file(config: StackConfig) -> dict[str, Any]:
    try:
        return json.loads(config.stack_file.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def up(config: StackConfig) -> dict[str, Any]:
    """Start whatever is not running; returns the content of ``stack.json``."""
    started_at = time.monotonic()
    components.check_python_packages(config)
    config.state_dir.mkdir(parents=True, exist_ok=True)
    secrets = services.load_secrets(config)
    services.write_password_file(config, secrets["admin_password"])
    table = ProcessTable(config.processes_file)
    wanted = set(components.component_commands(config))
    running = components.running_components(table)
    previous = read_stack_file(config)
    if running:
        same = previous.get("executor") == config.executor and previous.get("schedules", True) == config.schedules
        if same and set(running) == wanted:
            print(f"The stack already runs ({EXECUTORS[config.executor]}).")
            print_summary(config, previous, secrets["admin_password"], seconds=None)
            return previous
        print(
            f"Stopping the running Airflow components to start them with {EXECUTORS[config.executor]}"
            f" (schedules {'on' if config.schedules else 'off'})"
        )
        components.stop_components(table)
        components.wait_for_port_release(config.ports.api)

    print(
        f"Starting Airflow {components.airflow_version()} with {EXECUTORS[config.executor]} in {_rel(config.state_dir)}"
    )
    step(
        f"PostgreSQL on 127.0.0.1:{config.ports.postgres}",
        lambda: services.start_postgres(config, table, secrets["postgres_password"]),
    )
    if config.executor == "celery":
        step(
            f"Redis on 127.0.0.1:{config.ports.redis}",
            lambda: services.start_redis(config, table, secrets["redis_password"]),
        )
    emulator = step(
        f"meetings emulator on https://127.0.0.1:{config.ports.emulator}",
        lambda: services.start_emulator(config, table),
    )
    env = components.airflow_env(config, secrets)
    components.write_env_file(config, env)
    step("airflow db migrate (PostgreSQL)", lambda: components.migrate(config, env))
    names = ", ".join(components.component_commands(config))
    started = step(f"start {names}", lambda: components.start_components(config, table, env))
    api = components.api_client(config, secrets["admin_password"])
    step("wait until healthy and the sample DAGs are parsed", lambda: components.wait_ready(config, api, started))
    step(
        f"pool {POOL} ({config.pool_slots} slots), connection {CONN_ID} -> emulator",
        lambda: components.set_up_pool_and_connection(config, api, emulator, secrets),
    )
    info = {
        "executor": config.executor,
        "api_url": config.api_url,
        "username": ADMIN_USER,
        "password_file": str(config.password_file),
        "ports": config.ports.all(),
        "state_dir": str(config.state_dir),
        "airflow_home": str(config.airflow_home),
        "output_dir": str(config.output_dir),
        "logs_dir": str(config.logs_dir),
        "env_file": str(config.env_file),
        "processes_file": str(config.processes_file),
        "airflow_version": components.airflow_version(),
        "heartbeat_timeout": config.heartbeat_timeout,
        "schedules": config.schedules,
        "emulator": {"url": emulator["url"], "ca_path": emulator["ca_path"], "state_file": str(config.emulator_state)},
    }
    config.stack_file.write_text(json.dumps(info, indent=1) + "\n")
    print_summary(config, info, secrets["admin_password"], seconds=time.monotonic() - started_at)
    return info


def print_summary(config: StackConfig, info: dict[str, Any], password: str, *, seconds: float | None) -> None:
    took = f" in {seconds:.0f} s" if seconds is not None else ""
    state = _rel(config.state_dir)
    print(
        f"""
Airflow {info.get("airflow_version", "")} is up{took} ({EXECUTORS[config.executor]}, metadata in PostgreSQL)

  UI and REST API  {config.api_url}
  log in as        {ADMIN_USER} / {password}
                   (SimpleAuthManager; the password is kept in {_rel(config.password_file)})
  REST token       curl -X POST {config.api_url}/auth/token -H 'Content-Type: application/json' \\
                        -d '{{"username": "{ADMIN_USER}", "password": "..."}}'
  Graph emulator   https://127.0.0.1:{config.ports.emulator} (meetings in {_rel(config.emulator_state)})
  set up           connection {CONN_ID} (the emulator), pool {POOL} ({config.pool_slots} slots)
  sample DAGs      {", ".join(components.SAMPLE_DAGS)}
                   (they start paused: unpause one in the UI, then Trigger)
  airflow CLI      source {_rel(config.env_file)} && airflow dags list
  logs             {state}/logs/

Stop: make stack-down (keeps {state}; `make stack-clean` also deletes it).""",
        flush=True,
    )


def down(config: StackConfig, *, wipe: bool) -> None:
    """Stop everything this state folder started; ``wipe`` also deletes the folder."""
    table = ProcessTable(config.processes_file)
    stopped = components.stop_components(table)
    for name in INFRA_ORDER:
        if stop(table, name):
            stopped.append(name)
    config.stack_file.unlink(missing_ok=True)
    print(f"Stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
    if wipe:
        pg = config.state_dir / "postgres"
        if pg.is_symlink():
            shutil.rmtree(pg.resolve().parent, ignore_errors=True)
        shutil.rmtree(config.state_dir, ignore_errors=True)
        print(f"Deleted {_rel(config.state_dir)}")


def status(config: StackConfig) -> int:
    """Print which processes run; exit 0 when all recorded processes are alive."""
    records = ProcessTable(config.processes_file).load()
    if not records:
        print(f"Nothing recorded in {_rel(config.processes_file)}: the stack is not running.")
        return 1
    dead = 0
    for name, record in records.items():
        alive = record.alive()
        dead += not alive
        print(f"  {name:<16} pid {record.pid:<8} {'running' if alive else 'STOPPED'}   log {_rel(Path(record.log))}")
    info = read_stack_file(config)
    if info:
        print(f"UI: {info['api_url']} ({EXECUTORS.get(info.get('executor', ''), '?')})")
    return 1 if dead else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/stack.py", description="A real Airflow deployment on this machine (see scripts/meetings_stack)."
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--executor", choices=sorted(EXECUTORS), help="default: $EXECUTOR or local")
    parser.add_argument("--state-dir", type=Path, help="default: $STACK_DIR or .stack")
    parser.add_argument("--port-base", type=int, help="default: $STACK_PORT_BASE or 28000")
    parser.add_argument("--wipe", action="store_true", help="down: also delete the state folder")
    args = parser.parse_args(argv)
    try:
        config = StackConfig.from_env(
            os.environ,
            executor=args.executor,
            state_dir=args.state_dir.resolve() if args.state_dir else None,
            ports=Ports(args.port_base) if args.port_base else None,
        )
        if args.command == "up":
            up(config)
            return 0
        if args.command == "down":
            down(config, wipe=args.wipe)
            return 0
        return status(config)
    except StackError as err:
        print(f"\nmake stack: {err}", file=sys.stderr)
        if args.command == "up":
            print(
                "Processes that started keep running for inspection; stop them with `make stack-down`.", file=sys.stderr
            )
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; stop what started with `make stack-down`.", file=sys.stderr)
        return 130
