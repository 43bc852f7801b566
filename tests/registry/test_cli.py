"""``evp registry``: serving from the command line, and the OpenAPI document."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import pytest

from evp.cli.main import main


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "evp registry serve exited early"
        try:
            httpx.get(f"{url}/subjects", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return
    raise AssertionError("evp registry serve did not start")


def test_serve_answers_on_the_given_port(evp_database: str) -> None:
    """`evp registry serve --database-url … --port …` serves the API until terminated."""
    port = _free_port()
    command = [sys.executable, "-m", "evp", "registry", "serve"]
    command += ["--database-url", evp_database, "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_serving(f"http://127.0.0.1:{port}", process)
        assert httpx.get(f"http://127.0.0.1:{port}/config").json() == {
            "compatibilityLevel": "BACKWARD"
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_takes_the_default_compatibility(evp_database: str) -> None:
    """`evp registry serve --compatibility NONE` answers NONE as the global level."""
    port = _free_port()
    command = [sys.executable, "-m", "evp", "registry", "serve", "--compatibility", "none"]
    command += ["--database-url", evp_database, "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_serving(f"http://127.0.0.1:{port}", process)
        assert httpx.get(f"http://127.0.0.1:{port}/config").json() == {"compatibilityLevel": "NONE"}
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_database_url_and_data_dir_exclude_each_other() -> None:
    """Giving both storage options is a usage error."""
    with pytest.raises(SystemExit) as raised:
        main(["registry", "serve", "--database-url", "postgresql:///x", "--data-dir", "d"])
    assert raised.value.code == 2


def test_openapi_prints_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    """`evp registry openapi` prints the OpenAPI document as JSON."""
    assert main(["registry", "openapi"]) == 0
    assert "/subjects/{subject}/versions" in json.loads(capsys.readouterr().out)["paths"]
