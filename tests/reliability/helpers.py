"""Building blocks for fault tests: a worker subprocess, config folders and loopback HTTP servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml

from config.settings import PROJECT_ROOT


def write_config(folder: Path, **files: Any) -> Path:
    """Write ``sources=..., rules=...`` as sources.yaml, rules.yaml ... into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (folder / f"{name}.yaml").write_text(
            yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return folder


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """Poll until ``predicate`` returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class WorkerProcess:
    """``python manage.py worker`` as a real subprocess; its output is appended to one log file."""

    url: str
    config_dir: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> WorkerProcess:
        env = {
            **os.environ,
            "RADAR_DATABASE_URL": self.url,
            "RADAR_CONFIG_DIR": str(self.config_dir),
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"\n=== start {self.starts} ===\n")
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "manage.py"), "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
        log.close()
        self.starts += 1
        return self

    @property
    def popen(self) -> subprocess.Popen:
        """The running process, for a test that signals or waits on it after ``start``."""
        assert self.process is not None, "the worker was not started"
        return self.process

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a power cut or the OOM killer."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return self.process.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class _Server:
    """A ThreadingHTTPServer on a free loopback port, run in a daemon thread."""

    handler_class: type[BaseHTTPRequestHandler]

    def __init__(self) -> None:
        owner = self

        def log_message(_handler: BaseHTTPRequestHandler, *_args: Any) -> None:
            return None  # keep test output quiet

        # A subclass built at run time, because the base is the subclass's own handler class.
        handler = type(
            "Handler",
            (self.handler_class,),
            {"server_owner": owner, "log_message": log_message},
        )
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pause(self) -> None:
        """Close the listening socket: connections are refused until ``resume``."""
        self.close()

    def resume(self) -> None:
        """Listen again on the same port."""
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self.httpd.RequestHandlerClass)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _WebhookHandler(BaseHTTPRequestHandler):
    server_owner: WebhookReceiver

    def do_POST(self) -> None:
        owner = self.server_owner
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        key = self.headers.get("Idempotency-Key", "")
        with owner.lock:
            owner.requests.append({"key": key, "body": body, "path": self.path})
            status = owner.status
        owner.received.set()
        if owner.delay:
            time.sleep(owner.delay)
        reply = json.dumps({"ok": status < 300}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


class WebhookReceiver(_Server):
    """Records every POST with its Idempotency-Key; ``delay`` keeps a send in flight, ``status``
    makes it fail. A real receiver drops repeated keys: ``delivered`` counts what it would keep."""

    handler_class = _WebhookHandler

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.status = status
        self.delay = delay
        self.received = threading.Event()
        super().__init__()

    def receipts(self) -> Counter[str]:
        with self.lock:
            return Counter(r["key"] for r in self.requests)

    def alert_keys(self) -> dict[tuple[int, str], set[str]]:
        """(alert id, state) → the distinct idempotency keys of messages that carried it."""
        out: dict[tuple[int, str], set[str]] = {}
        with self.lock:
            for request in self.requests:
                for alert in request["body"].get("alerts", []):
                    out.setdefault((alert["id"], alert["state"]), set()).add(request["key"])
        return out


class _SourceHandler(BaseHTTPRequestHandler):
    server_owner: ComplaintApi

    def do_GET(self) -> None:
        owner = self.server_owner
        query = parse_qs(urlparse(self.path).query)
        with owner.lock:
            owner.hits += 1
            mode = owner.mode
            since = (query.get("since") or [""])[0]
            items = [r for r in owner.records if not since or r["received_at"] >= since]
        if mode == "timeout":
            time.sleep(owner.slow_seconds)
        if mode == "hold":  # no answer until the test releases it
            owner.released.wait(120)
        if mode == "reset":  # close without an answer
            self.close_connection = True
            return
        status, body, kind = 200, json.dumps({"items": items}, ensure_ascii=False), "json"
        if mode == "500":
            status, body = 500, '{"error": "internal"}'
        elif mode == "429":
            status, body = 429, '{"error": "slow down"}'
        elif mode == "garbage":
            body, kind = "<html><body>502 Bad Gateway 网关错误 \x00\xff</body></html>", "html"
        elif mode == "wrong_shape":
            body = json.dumps({"items": {"not": "a list"}})
        data = body.encode("utf-8", "surrogateescape")
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if kind == "json" else "text/html")
        if mode == "429":
            self.send_header("Retry-After", "0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ComplaintApi(_Server):
    """An HTTP JSON complaint API whose behaviour the test switches: ok, 500, 429, timeout,
    hold (until ``released`` is set), reset, garbage, wrong_shape. Records are served when their
    time is at or after ``since``."""

    handler_class = _SourceHandler

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: list[dict[str, Any]] = []
        self.mode = "ok"
        self.hits = 0
        self.slow_seconds = 3.0
        self.released = threading.Event()
        super().__init__()

    def add(self, records: list[dict[str, Any]]) -> None:
        with self.lock:
            self.records.extend(records)

    def set_mode(self, mode: str) -> None:
        with self.lock:
            self.mode = mode


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
