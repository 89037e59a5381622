"""Fixtures of the artifacts' integration tests: moto's S3 server on localhost."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

REGION = "us-east-1"


class MotoS3:
    """moto's S3 server: its URL, and s3fs's options to reach it."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def s3fs_options(self, **options: Any) -> dict[str, Any]:
        """s3fs's options for this server, with ``options`` added (``default_block_size``...)."""
        return {
            "key": "testing",
            "secret": "testing",
            **options,
            "client_kwargs": {"endpoint_url": self.endpoint, "region_name": REGION},
        }

    def s3fs_bucket(self, bucket: str, **options: Any) -> dict[str, Any]:
        """Create ``bucket``; the s3fs options (:meth:`s3fs_options`) that reach it."""
        s3fs = pytest.importorskip("s3fs")
        reach = self.s3fs_options(**options)
        s3fs.S3FileSystem(**reach).call_s3("create_bucket", Bucket=bucket)
        return reach


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[MotoS3]:
    """moto's S3 in server mode (threads of this process) on a free port of 127.0.0.1, for the
    module; skips the test where moto is not installed."""
    moto_server = pytest.importorskip("moto.server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield MotoS3(f"http://127.0.0.1:{port}")
    server.stop()
