"""HTTPS plumbing: a threading HTTP/1.1 server with keep-alive; ``dispatch.py`` answers each request."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from meetings_emulator.dispatch import answer
from meetings_emulator.messages import HttpRequest, Reply
from meetings_emulator.service import EmulatorService

log = logging.getLogger("meetings_emulator")

#: Idle keep-alive connections are closed after this many seconds.
IDLE_TIMEOUT_S = 30


class EmulatorHTTPServer(ThreadingHTTPServer):
    """One thread per connection; TLS handshakes happen in that thread, not in ``accept``.

    :param address: ``(host, port)`` to bind.
    :param service: the behaviour.
    :param tls_context: server-side SSL context.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], service: EmulatorService, tls_context: ssl.SSLContext) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.service = service
        self.tls_context = tls_context
        super().__init__(address, EmulatorHandler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.settimeout(IDLE_TIMEOUT_S)
            # Headers and body are written separately: without TCP_NODELAY, Nagle's
            # algorithm and the client's delayed ACK add ~40 ms to every answer.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls_socket = self.tls_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as error:
            log.debug("TLS handshake with %s failed: %s", client_address, error)
            return
        with self.service.lock:
            self.service.stats.connections += 1
        try:
            self.RequestHandlerClass(tls_socket, client_address, self)
        finally:
            try:
                tls_socket.close()
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class EmulatorHandler(BaseHTTPRequestHandler):
    """Reads one request, hands it to :func:`~meetings_emulator.dispatch.answer`, writes the reply."""

    protocol_version = "HTTP/1.1"
    server: EmulatorHTTPServer

    def version_string(self) -> str:
        return "Microsoft-IIS/10.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.client_address[0], *args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        body = self._read_body()
        parts = urlsplit(self.path)
        request = HttpRequest(
            method=self.command,
            target=self.path,
            path=parts.path,
            query=parts.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        self._send(answer(self.server.service, request))

    def _send(self, reply: Reply) -> None:
        if reply.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if reply.stream is not None:
            self._send_stream(reply)
            return
        if isinstance(reply.body, (bytes, bytearray)):
            payload = bytes(reply.body)
        elif isinstance(reply.body, str):
            payload = reply.body.encode()
        elif reply.body is None:
            payload = b""
        else:
            payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        headers = dict(reply.headers)
        if payload and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json; charset=utf-8"
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if reply.drop_after is not None:
            self._write_and_drop([payload], reply.drop_after)
            return
        self.wfile.write(payload)

    def _send_stream(self, reply: Reply) -> None:
        """Headers (with the reply's ``Content-Length``), then each chunk as it is generated.

        Nothing but the current chunk is in memory, so a recording of any size is served in
        flat memory; a client that goes away ends the generation.
        """
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        assert reply.stream is not None
        if reply.drop_after is not None:
            self._write_and_drop(reply.stream, reply.drop_after)
            return
        try:
            for chunk in reply.stream:
                self.wfile.write(chunk)
        except OSError:
            self.close_connection = True

    def _write_and_drop(self, chunks: Iterable[bytes], limit: int) -> None:
        """Write the first ``limit`` body bytes, then close the connection (``drop_mid_stream``)."""
        sent = 0
        try:
            for chunk in chunks:
                if sent >= limit:
                    break
                part = chunk[: limit - sent]
                self.wfile.write(part)
                sent += len(part)
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve_in_thread(server: EmulatorHTTPServer) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread and return it."""
    thread = threading.Thread(target=server.serve_forever, name="meetings-emulator", daemon=True)
    thread.start()
    return thread
