"""The services Airflow needs: PostgreSQL, Redis, and the meetings emulator standing in for Graph.

PostgreSQL and Redis are Debian's packages (``scripts/install_system_packages.sh``), run
as throwaway servers on loopback with their data under the state folder; they do not
touch the system's own clusters or services.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
from pathlib import Path
from typing import Any

from meetings_stack.config import ADMIN_USER, StackConfig, StackError
from meetings_stack.processes import ProcessTable, port_in_use, start_detached, wait_until

INSTALL_HINT = "install the system packages with `make stack-deps` (scripts/install_system_packages.sh)"
PG_DATABASE = "airflow"
PG_USER = "airflow"


# -- generated secrets ------------------------------------------------------------------------


def load_secrets(config: StackConfig) -> dict[str, str]:
    """Passwords and keys of this stack, generated on first use, kept in a 0600 file."""
    path = config.secrets_file
    if path.is_file():
        return json.loads(path.read_text())
    from cryptography.fernet import Fernet

    values = {
        "postgres_password": secrets.token_urlsafe(18),
        "redis_password": secrets.token_urlsafe(18),
        "fernet_key": Fernet.generate_key().decode(),
        "jwt_secret": secrets.token_urlsafe(32),
        "api_secret_key": secrets.token_urlsafe(32),
        "admin_password": secrets.token_urlsafe(12),
    }
    write_private(path, json.dumps(values, indent=1))
    return values


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def write_password_file(config: StackConfig, password: str) -> None:
    """The SimpleAuthManager's password file: it keeps a password it finds for a user."""
    write_private(config.password_file, json.dumps({ADMIN_USER: password}) + "\n")


# -- PostgreSQL -------------------------------------------------------------------------------


def _postgres_binaries() -> Path:
    """The folder of ``postgres`` and ``initdb``: Debian's newest, else the ones on PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("postgres") or shutil.which("initdb")
    if found:
        return Path(found).parent
    raise StackError(f"PostgreSQL's server is not installed; {INSTALL_HINT}")


def _run_as() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: as root use the ``postgres`` user, else oneself."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise StackError(f"running as root needs the system user 'postgres'; {INSTALL_HINT}") from None


def _reachable(path: Path, user: pwd.struct_passwd) -> bool:
    """Whether ``user`` can enter every folder above ``path`` (it may not exist yet)."""
    groups = {g.gr_gid for g in _groups_of(user)} | {user.pw_gid}
    for folder in path.parents:
        try:
            info = folder.stat()
        except FileNotFoundError:
            continue
        if info.st_uid == user.pw_uid:
            ok = info.st_mode & stat.S_IXUSR
        elif info.st_gid in groups:
            ok = info.st_mode & stat.S_IXGRP
        else:
            ok = info.st_mode & stat.S_IXOTH
        if not ok:
            return False
    return True


def _groups_of(user: pwd.struct_passwd) -> list[grp.struct_group]:
    return [g for g in grp.getgrall() if user.pw_name in g.gr_mem]


def postgres_dir(config: StackConfig) -> Path:
    """The cluster's folder: ``<state>/postgres``, or, when the ``postgres`` user cannot reach
    the state folder (a checkout under ``/root``), a folder in ``/var/tmp`` that
    ``<state>/postgres`` links to."""
    inside = config.state_dir / "postgres"
    if inside.is_symlink():
        return inside.resolve()
    user = _run_as()
    if user is None or _reachable(inside, user):
        return inside
    digest = hashlib.sha256(str(config.state_dir).encode()).hexdigest()[:12]
    outside = Path("/var/tmp") / f"meetings-stack-{digest}" / "postgres"
    outside.mkdir(parents=True, exist_ok=True)
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.symlink_to(outside, target_is_directory=True)
    return outside


def postgres_url(config: StackConfig, password: str, driver: str = "postgresql+psycopg2") -> str:
    """SQLAlchemy URL of the stack's database."""
    return f"{driver}://{PG_USER}:{password}@127.0.0.1:{config.ports.postgres}/{PG_DATABASE}"


def start_postgres(config: StackConfig, table: ProcessTable, password: str) -> None:
    """Create the cluster on first use, start it, create the ``airflow`` database."""
    if table.alive("postgres"):
        return
    _port_free(config.ports.postgres, "PostgreSQL")
    binaries = _postgres_binaries()
    user = _run_as()
    base = postgres_dir(config)
    data, run = base / "data", base / "run"
    for folder in (base, run):
        folder.mkdir(parents=True, exist_ok=True)
        if user is not None:
            os.chown(folder, user.pw_uid, user.pw_gid)
    username = user.pw_name if user is not None else None
    if not (data / "PG_VERSION").is_file():
        pwfile = base / "initdb-password"
        write_private(pwfile, password + "\n")
        if user is not None:
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        try:
            _run_initdb(binaries, data, pwfile, username, config)
        finally:
            pwfile.unlink(missing_ok=True)
    record = start_detached(
        table,
        "postgres",
        [
            str(binaries / "postgres"),
            "-D",
            str(data),
            "-p",
            str(config.ports.postgres),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={run}",
            "-c",
            "max_connections=200",
            # A throwaway cluster: durability is not worth the disk waits on a shared machine.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ],
        log=config.logs_dir / "postgres.log",
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
        cwd=base,
        stop_signal="SIGINT",  # fast shutdown: roll back open transactions and exit
        group="infra",
        user=username,
    )
    wait_until("PostgreSQL", lambda: _pg_ready(config, password), timeout=60, record=record)
    _create_database(config, password)


def _run_initdb(binaries: Path, data: Path, pwfile: Path, user: str | None, config: StackConfig) -> None:
    log = config.logs_dir / "postgres-initdb.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        result = subprocess.run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                f"--username={PG_USER}",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=data.parent,
            user=user,
            group=pwd.getpwnam(user).pw_gid if user else None,
            extra_groups=[] if user else None,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
            timeout=180,
        )
    if result.returncode != 0:
        raise StackError(f"initdb failed (exit {result.returncode}); see {log}")


def _pg_connect(config: StackConfig, password: str, database: str) -> Any:
    try:
        import psycopg2
    except ImportError:
        raise StackError("the PostgreSQL driver is missing: pip install -e '.[stack]'") from None
    return psycopg2.connect(
        host="127.0.0.1",
        port=config.ports.postgres,
        user=PG_USER,
        password=password,
        dbname=database,
        connect_timeout=3,
    )


def _pg_ready(config: StackConfig, password: str) -> bool:
    _pg_connect(config, password, "postgres").close()
    return True


def _create_database(config: StackConfig, password: str) -> None:
    connection = _pg_connect(config, password, "postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,))
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE DATABASE {PG_DATABASE}")
    finally:
        connection.close()


# -- Redis ------------------------------------------------------------------------------------


def redis_url(config: StackConfig, password: str, db: int = 0) -> str:
    """Celery's broker URL (database 0), or another database of the same server."""
    return f"redis://:{password}@127.0.0.1:{config.ports.redis}/{db}"


def start_redis(config: StackConfig, table: ProcessTable, password: str) -> None:
    """A Redis server on loopback with a password and no persistence."""
    if table.alive("redis"):
        return
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).is_file():
        raise StackError(f"redis-server is not installed; {INSTALL_HINT}")
    _port_free(config.ports.redis, "Redis")
    folder = config.state_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    # The password goes in a config file, not on the command line that `ps` shows.
    conf = folder / "redis.conf"
    write_private(
        conf,
        "\n".join(
            [
                "bind 127.0.0.1",
                f"port {config.ports.redis}",
                f"requirepass {password}",
                'save ""',
                "appendonly no",
                f"dir {folder}",
                "daemonize no",
                "protected-mode yes",
                "",
            ]
        ),
    )
    record = start_detached(
        table,
        "redis",
        [binary, str(conf)],
        log=config.logs_dir / "redis.log",
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        cwd=folder,
        group="infra",
    )
    wait_until("Redis", lambda: _redis_ping(config.ports.redis, password), timeout=30, record=record)


def _redis_ping(port: int, password: str) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(f"AUTH {password}\r\nPING\r\n".encode())
        answer = b""
        while b"PONG" not in answer and len(answer) < 200:
            chunk = sock.recv(200)
            if not chunk:
                break
            answer += chunk
    return b"+PONG" in answer


# -- the emulator -----------------------------------------------------------------------------


def start_emulator(config: StackConfig, table: ProcessTable) -> dict[str, Any]:
    """``meetings-emulator`` with a state file; returns its ready file (URL, CA, connection)."""
    if table.alive("emulator") and config.emulator_ready.is_file():
        return json.loads(config.emulator_ready.read_text())
    _port_free(config.ports.emulator, "the emulator")
    config.emulator_ready.unlink(missing_ok=True)
    command = [
        str(config.bin("meetings-emulator")),
        "--port",
        str(config.ports.emulator),
        "--state-file",
        str(config.emulator_state),
        "--ca-file",
        str(config.emulator_ca),
        "--ready-file",
        str(config.emulator_ready),
    ]
    record = start_detached(
        table,
        "emulator",
        command,
        log=config.logs_dir / "emulator.log",
        env=clean_env(),
        cwd=config.state_dir,
        group="infra",
    )
    wait_until("the emulator's ready file", config.emulator_ready.is_file, timeout=60, record=record)
    return json.loads(config.emulator_ready.read_text())


def clean_env() -> dict[str, str]:
    """This environment without Airflow settings and proxies (everything here is on loopback)."""
    drop = ("AIRFLOW", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _port_free(port: int, what: str) -> None:
    if port_in_use(port):
        raise StackError(
            f"port {port} for {what} is taken by another program; stop it, or choose other ports "
            "with STACK_PORT_BASE (e.g. STACK_PORT_BASE=31000 make stack)"
        )
