"""End-to-end latency: a complaint appears at an HTTP source → its alert's webhook is delivered.

A real ``manage.py worker`` process runs against a scratch SQLite file and a config folder made
for the run: one ``http_api`` source polled every ``POLL`` seconds from a local server, one
threshold rule, one webhook channel pointing at a local receiver, no group wait.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.figures import Figure
from config.settings import PROJECT_ROOT

POLL = 10
BURST = 4  # complaints per round: the rule fires at 3

RULES = """evaluation_interval_seconds: 5
rules:
  - name: bench-latency
    kind: threshold
    description: 基准测试：同一产品 60 分钟内 3 件
    group_by: [product_code]
    window_minutes: 60
    threshold: 3
    severity: 2
    for_minutes: 0
    resolve_after_minutes: 30
"""
SOURCES = """sources:
  - name: bench-api
    kind: http_api
    url: http://127.0.0.1:{port}/complaints
    interval_seconds: {poll}
    since_param: null
    max_attempts: 1
"""
CHANNELS = """default_channel: bench-webhook
channels:
  - name: log
    kind: log
  - name: bench-webhook
    kind: webhook
    url_env: RADAR_BENCH_WEBHOOK_URL
"""
ROUTES = """receivers:
  - name: duty
    channels: [bench-webhook]
route:
  receiver: duty
group_wait_seconds: 0
"""


class Board:
    """What the fake source serves and what the receiver got, shared with the handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: list[dict[str, Any]] = []
        self.polls = 0
        self.deliveries: list[tuple[float, str]] = []


def _handler(board: Board) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with board.lock:
                body = json.dumps(board.records, ensure_ascii=False).encode()
                board.polls += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with board.lock:
                board.deliveries.append((time.monotonic(), body.decode("utf-8", "replace")))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_args: Any) -> None:
            return

    return Handler


def _config_dir(folder: Path, port: int) -> Path:
    config = folder / "config"
    shutil.copytree(
        PROJECT_ROOT / "config", config, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    (config / "rules.yaml").write_text(RULES, encoding="utf-8")
    (config / "sources.yaml").write_text(SOURCES.format(port=port, poll=POLL), encoding="utf-8")
    (config / "channels.yaml").write_text(CHANNELS, encoding="utf-8")
    (config / "routes.yaml").write_text(ROUTES, encoding="utf-8")
    return config


def _publish(board: Board, round_no: int) -> float:
    now = datetime.now(UTC)
    with board.lock:
        board.records.extend(
            {
                "id": f"L{round_no}-{i}",
                "received_at": now.isoformat(),
                "channel": "hotline",
                "product_code": f"LAT{round_no:02d}",
                "product_name": f"时延测试产品{round_no}",
                "text": "基准测试投诉",
            }
            for i in range(BURST)
        )
        return time.monotonic()


def _delivered(board: Board, code: str) -> float | None:
    """When the first webhook naming product ``code`` arrived."""
    with board.lock:
        return next((at for at, body in board.deliveries if code in body), None)


def _wait(predicate, timeout: float, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            raise RuntimeError(f"worker exited {process.returncode}: {log.read_text()[-800:]}")
        time.sleep(0.05)
    raise TimeoutError(f"timed out; worker log: {log.read_text()[-800:]}")


def measure(rounds: int) -> Figure:
    board = Board()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(board))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    folder = Path(tempfile.mkdtemp(prefix="radar-latency-"))
    log = folder / "worker.log"
    env = {
        **__import__("os").environ,
        "RADAR_CONFIG_DIR": str(_config_dir(folder, port)),
        "RADAR_DATABASE_URL": f"sqlite:///{folder / 'radar.db'}",
        "RADAR_BENCH_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        "RADAR_WORKER_NAME": "bench-latency",
    }
    latencies: list[float] = []
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "manage.py"), "worker"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait(lambda: board.polls >= 2, 120, process, log)  # started and scheduling
        for round_no in range(rounds):
            time.sleep(POLL * (0.3 + 0.35 * round_no % 1))  # publish at different poll phases
            code = f"LAT{round_no:02d}"
            published = _publish(board, round_no)
            _wait(lambda c=code: _delivered(board, c) is not None, POLL + 180, process, log)
            delivered = _delivered(board, code)
            assert delivered is not None  # _wait returned: it arrived
            latencies.append(delivered - published)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
    return Figure(
        name="latency",
        label=f"Latency HTTP source → webhook (poll {POLL} s, worst of {rounds})",
        value=max(latencies),
        unit="s",
        target=POLL + 5.0,
        higher_is_better=False,
        details={"latencies_s": [round(x, 2) for x in latencies], "poll_seconds": POLL},
    )
