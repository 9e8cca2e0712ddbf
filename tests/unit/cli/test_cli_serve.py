"""``upconv serve``: the explorer's server, started as a user starts it and stopped with Ctrl-C."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import upconv
from upconv.cli import COMMANDS, build_parser, main

SRC = str(pathlib.Path(upconv.__file__).parent.parent)


def test_serve_is_a_command():
    assert "serve" in COMMANDS
    args = build_parser().parse_args(["serve", "--no-browser", "--port", "8123"])
    assert args.port == 8123 and args.no_browser
    args = build_parser().parse_args(["serve"])
    assert args.port == 0 and not args.no_browser


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_bad_port(port, capsys):
    assert main(["serve", "--port", port]) == 2
    assert "argument --port: expected an integer from 0 to 65535" in capsys.readouterr().err


def test_port_taken(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        assert main(["serve", "--no-browser", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"upconv serve: error: argument --port: cannot listen on 127.0.0.1:{port}")


def test_missing_extra_names_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn raises ImportError
    assert main(["serve", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "upconv serve: error: the explorer needs the [web] extra" in err and "pip install 'upconv[web]'" in err


def _raw_get(port: int, target: str, host: str = "127.0.0.1") -> tuple[int, bytes]:
    """Send a request line exactly as written (no client-side normalisation of the path)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_serve_answers_on_127_0_0_1_and_stops_on_ctrl_c():
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "upconv", "serve", "--no-browser"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()  # printed once the socket is bound and the library warmed up
        assert line.startswith("upconv explorer: http://127.0.0.1:"), (line, proc.stderr.read() if proc.poll() else "")
        url = line.split()[2]
        port = int(url.rsplit(":", 1)[1].strip("/"))
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "api/views?stride=2&kernel_size=3&size=2,2", timeout=10) as r:
                    body = json.loads(r.read())
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert body["config"]["out_size"] == [5, 5]
        # only loopback: the listening socket is bound to 127.0.0.1
        with socket.socket() as s:
            try:
                other = [a for a in socket.gethostbyname_ex(socket.gethostname())[2] if not a.startswith("127.")]
            except OSError:  # no name for this host: nothing else to try
                other = []
            if other:
                s.settimeout(2)
                assert s.connect_ex((other[0], port)) != 0
        for target in ("/static/../app.py", "/static/..%2fapp.py", "/../../pyproject.toml", "/static/%2e%2e/api.py"):
            status, content = _raw_get(port, target)
            assert status in (400, 404), target
            assert b"import" not in content
        assert _raw_get(port, "/api/limits", host="attacker.example")[0] == 400
        assert _raw_get(port, "/")[0] == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
    assert err.strip().splitlines()[-1] == "upconv serve: stopped"
    assert len(err.strip().splitlines()) == 1, err


def test_bind_is_loopback_tcp():
    from upconv.web.server import HOST, bind

    sock = bind(0)
    try:
        assert HOST == "127.0.0.1" and sock.getsockname()[0] == "127.0.0.1" and sock.getsockname()[1] > 0
        # IPPROTO_TCP, so that asyncio sets TCP_NODELAY on every connection (no delayed-ACK stall on keep-alive)
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
    for port in (-1, 65536, "80", True):
        with pytest.raises(ValueError, match="port must be an integer from 0 to 65535"):
            bind(port)
