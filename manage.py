#!/usr/bin/env python3
"""Complaint Radar command line: argument parsing only; the work lives in the packages."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# Detection does many small numpy steps: OpenBLAS's idle threads spin on every core meanwhile,
# doubling the worker's and the backtest's CPU and slowing the dashboard beside them (a rule
# replay: 11.3 s of CPU for 6.3 s of wall time, 6.0 for 6.0 with one thread). Set before numpy
# loads; an operator's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from config.settings import PROJECT_ROOT, get_settings


def _setup_logging(level: str) -> None:
    from config.logsafe import install

    install(level, "%(asctime)s %(levelname)s %(name)s: %(message)s")  # one line per record
    # httpx logs every request URL at INFO, and robot URLs carry their tokens (key=, access_token=).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # APScheduler logs two INFO lines per job run (every few seconds); keep its warnings only.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Alembic 1.20 logs seven "setup plugin" lines at INFO whenever it loads; its migration
    # lines ("Running upgrade …") stay.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _engine():
    from storage.db import make_engine
    from storage.migrate import upgrade_to_head

    settings = get_settings()
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    return engine


def _configured_sources() -> list | None:
    """The sources of sources.yaml, or None once the configuration errors are printed."""
    from config.loader import ConfigError, load_config

    try:
        return load_config(get_settings().config_dir).sources.sources
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return None


def cmd_check_config(args: argparse.Namespace) -> int:
    from config.loader import check_config

    config_dir = Path(args.config_dir or get_settings().config_dir)
    config, issues = check_config(config_dir)
    for issue in issues:
        print(f"ERROR {issue}", file=sys.stderr)
    if issues:
        print(f"{len(issues)} error(s) in {config_dir}", file=sys.stderr)
        return 1
    assert config is not None  # no issues: the configuration loaded
    from datetime import UTC, datetime

    from alerts.notify.commands import roster_findings
    from alerts.notify.config_traps import dashboard_url_warning, unreachable_people

    errors, warnings = roster_findings(config, datetime.now(UTC))
    warnings += dashboard_url_warning(config, get_settings().dashboard_url)
    warnings += unreachable_people(config)
    warnings += _failing_channels(datetime.now(UTC))
    errors, warnings = _secret_findings(errors, warnings)
    for text in warnings:
        print(f"WARN {text}", file=sys.stderr)
    for text in errors:
        print(f"ERROR {text}", file=sys.stderr)
    if errors:
        return 1
    print(f"configuration in {config_dir} is valid")
    return 0


def _failing_channels(now) -> list[str]:
    """Channels failing in the outbox of the configured database, if there is one to read."""
    from dashboard.channel_health import failing_warnings
    from storage.db import make_engine
    from storage.dialect import dialect_of_url

    url = get_settings().database_url
    try:
        dialect = dialect_of_url(url)
        if not dialect.has_database(url):
            return []  # no database yet: nothing was sent
        engine = make_engine(url, read_only=True, **dialect.connect_timeout(5))
        try:
            return failing_warnings(engine, now)
        finally:
            engine.dispose()
    except Exception as exc:  # an unreachable or unmigrated database must not fail the check
        return [f"未能读取数据库，未检查通知渠道状态（{type(exc).__name__}）"]


def _secret_findings(errors: list[str], warnings: list[str]) -> tuple[list[str], list[str]]:
    """Shipped or weak signing keys: an error, except inside the demo (a warning there)."""
    from config.secrets import demo_mode, weak_secrets

    found = [f"secret {weak}" for weak in weak_secrets()]
    if demo_mode():
        return errors, warnings + found
    return errors + found, warnings


def _refuse_weak_secrets() -> bool:
    """Say loudly on every worker start that a key is weak; True when the worker must not start."""
    from config.secrets import demo_mode, production_mode, weak_secrets

    weak = weak_secrets()
    if not weak or demo_mode():
        return False
    log = logging.getLogger("radar.secrets")
    for item in weak:
        log.error("WEAK SECRET %s: acknowledge links can be forged / customer keys reversed", item)
    if production_mode():
        log.critical(
            "RADAR_ENV=production: refusing to start with weak secrets (see docs/SECURITY.md)"
        )
        return True
    return False


def cmd_who_is_on_call(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from alerts.notify.commands import parse_when, who_is_on_call
    from config.loader import ConfigError, load_config
    from domain.calendar import HolidayCalendar

    try:
        config = load_config(get_settings().config_dir)
        at = parse_when(args.at, datetime.now(UTC), HolidayCalendar(config.rules.calendar).tz)
    except (ConfigError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(who_is_on_call(config, at))
    return 0


def cmd_test_notify(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from alerts.notify.channels import DeliveryError
    from alerts.notify.commands import send_test
    from config.loader import ConfigError, load_config

    settings = get_settings()
    try:
        config = load_config(settings.config_dir)
        print(send_test(config, args.channel, datetime.now(UTC), settings.dashboard_url))
    except (ConfigError, DeliveryError) as exc:
        print(f"发送失败：{exc}", file=sys.stderr)
        return 1
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from storage.db import redact_url

    _engine()
    print(f"database schema is up to date: {redact_url(get_settings().database_url)}")
    return 0


def cmd_worker(_args: argparse.Namespace) -> int:
    from config.loader import ConfigError, load_config
    from worker.context import WorkerContext
    from worker.main import run_worker

    settings = get_settings()
    if _refuse_weak_secrets():
        return 1
    try:
        config = load_config(settings.config_dir)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    only = frozenset(n.strip() for n in settings.worker_sources.split(",") if n.strip())
    unknown = only - {s.name for s in config.sources.sources}
    if unknown:
        print(f"RADAR_WORKER_SOURCES names unknown sources: {sorted(unknown)}", file=sys.stderr)
        return 1
    ctx = WorkerContext(
        config=config,
        engine=_engine(),
        dashboard_url=settings.dashboard_url,
        only_sources=only,
    )
    if settings.worker_name:
        ctx.name = settings.worker_name
    run_worker(ctx)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Worker and dashboard together; Ctrl-C stops both. The demo may keep the demo secrets."""
    os.environ["RADAR_DEMO"] = "1"  # inherited by the worker and the dashboard
    settings = get_settings()
    if cmd_check_config(argparse.Namespace(config_dir=None)) != 0:
        return 1
    _engine()
    env = dict(os.environ)
    if args.port:  # the worker's notification links point at this port too
        env["RADAR_DASHBOARD_PORT"] = str(args.port)
    python = sys.executable
    worker = subprocess.Popen([python, str(PROJECT_ROOT / "manage.py"), "worker"], env=env)
    dashboard = subprocess.Popen(
        [
            python, "-m", "streamlit", "run", str(PROJECT_ROOT / "streamlit_app.py"),
            "--server.port", str(args.port or settings.dashboard_port),
            "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",  # no re-imports under a running wall screen
        ],
        env=env,
    )  # fmt: skip
    port = args.port or settings.dashboard_port
    print(f"\n  Complaint Radar is running: dashboard at http://localhost:{port}  (Ctrl-C stops)\n")
    processes = [worker, dashboard]
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    stopped = (0, 130, -signal.SIGTERM, -signal.SIGINT, None)
    failed = [p for p in processes if p.returncode not in stopped]
    return 1 if failed else 0


def cmd_import(args: argparse.Namespace) -> int:
    """Backfill a CSV/Excel history file; mapping from the named source's config, then --mapping."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from collectors.backfill import import_file, parse_mapping
    from collectors.files import FileRejected
    from config.loader import ConfigError, load_config
    from config.sources import source_zone
    from domain.products import ProductTable
    from storage.db import make_session_factory

    try:
        config = load_config(get_settings().config_dir)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    configured = next((s for s in config.sources.sources if s.name == args.source), None)
    # Offset-less times: the source's zone, or calendar.timezone for a file of no known source.
    zone = source_zone(configured) if configured else ZoneInfo(config.rules.calendar.timezone)
    try:
        columns = {**getattr(configured, "columns", {}), **parse_mapping(args.mapping or [])}
        summary = import_file(
            make_session_factory(_engine()),
            Path(args.file),
            args.source,
            datetime.now(UTC),
            columns=columns,
            channel=args.channel or getattr(configured, "channel", None),
            products=ProductTable(getattr(configured, "products", [])),
            zone=zone,
        )
    except (FileRejected, ValueError, OSError) as exc:
        print(f"导入失败 / import failed: {exc}", file=sys.stderr)
        return 1
    print(summary)
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from alerts.backtest.cli import backtest_command

    rules = Path(args.rules) if args.rules else PROJECT_ROOT / "config" / "rules.yaml"
    source = Path(args.counts or args.complaints)
    return backtest_command(
        source, Path(args.out), rules, args.tick, counts=bool(args.counts), interval=args.interval
    )


def cmd_bench(args: argparse.Namespace) -> int:
    from bench.run import run

    try:
        return run(args.only, args.quick, Path(args.markdown) if args.markdown else None)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2


def cmd_retention(args: argparse.Namespace) -> int:
    """Blank raw texts older than --days (default RADAR_TEXT_RETENTION_DAYS); counts are kept."""
    from datetime import UTC, datetime

    from storage.db import make_session_factory
    from storage.retention import apply_retention

    days = args.days if args.days is not None else get_settings().text_retention_days
    if not days:
        print("文本保留期未设置 / text retention is off (RADAR_TEXT_RETENTION_DAYS=0)")
        return 0
    try:
        result = apply_retention(make_session_factory(_engine()), datetime.now(UTC), days)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(
        f"texts blanked: {result.texts_blanked}, quarantine payloads blanked: "
        f"{result.payloads_blanked} (before {result.cutoff:%Y-%m-%d %H:%M} UTC)"
    )
    return 0


def cmd_rekey_products(args: argparse.Namespace) -> int:
    """Move stored complaints and counts to the product codes the sources' alias tables now give."""
    from domain.products import ProductTable
    from storage.db import make_session_factory, session_scope
    from storage.rekey import describe, rekey_sources

    sources = _configured_sources()
    if sources is None:
        return 1
    tables = {s.name: ProductTable(s.products) for s in sources if getattr(s, "products", None)}
    if args.source:
        if args.source not in tables:
            print(f"no alias table (products:) for source {args.source!r} in sources.yaml",
                  file=sys.stderr)  # fmt: skip
            return 2
        tables = {args.source: tables[args.source]}
    if not tables:
        print("没有产品别名表 / no source has an alias table (products:) in sources.yaml")
        return 0
    factory = make_session_factory(_engine())
    if args.apply:  # one transaction: every source moved, or none
        with session_scope(factory) as session:
            plans = rekey_sources(session, tables, apply=True)
    else:
        with factory() as session:
            plans = rekey_sources(session, tables)
    for plan in plans:
        print(f"{plan.source}: {'to move' if plan else 'nothing to move'}")
        for line in describe(plan):
            print(line)
    if args.apply and any(plans):
        print("done; baselines refit when the worker next starts (or at local midnight)")
    elif any(plans):
        print("dry run: nothing changed; run again with --apply to move")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="manage.py", description="Complaint Radar (投诉雷达)")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-config", help="validate config/*.yaml; exit 1 on any error")
    check.add_argument(
        "--config-dir", help="folder with the YAML files (default: RADAR_CONFIG_DIR)"
    )
    check.set_defaults(func=cmd_check_config)
    who = sub.add_parser(
        "who-is-on-call",
        help="who is on call now or at --at (local time, rules.yaml calendar.timezone)",
    )
    who.add_argument("--at", help="local date-time, e.g. 2027-02-06T00:30 (default: now)")
    who.set_defaults(func=cmd_who_is_on_call)
    test_notify = sub.add_parser("test-notify", help="send a test message through one channel")
    test_notify.add_argument("channel", help="a channel name from channels.yaml")
    test_notify.set_defaults(func=cmd_test_notify)
    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(
        func=cmd_migrate
    )
    sub.add_parser("worker", help="run the collector/evaluator/notifier worker").set_defaults(
        func=cmd_worker
    )
    demo = sub.add_parser("demo", help="run worker and dashboard together")
    demo.add_argument("--port", type=int, help="dashboard port (default: RADAR_DASHBOARD_PORT)")
    demo.set_defaults(func=cmd_demo)
    bt = sub.add_parser(
        "backtest", help="replay a complaint CSV through the rules; alerts as JSONL"
    )
    given = bt.add_mutually_exclusive_group(required=True)
    given.add_argument("--complaints", help="CSV with id,received_at,channel,...,text")
    given.add_argument(
        "--counts", help="CSV with interval_start,count and key columns (product_code, ...)"
    )
    bt.add_argument("--interval", default="5m", help="length of one --counts row (default 5m)")
    bt.add_argument("--out", required=True, help="JSONL file: one line per alert that fires")
    bt.add_argument("--rules", help="rules YAML (default: config/rules.yaml)")
    bt.add_argument("--tick", default="5m", help="simulated evaluation interval (default 5m)")
    bt.set_defaults(func=cmd_backtest)
    bench = sub.add_parser("bench", help="benchmarks: each figure against its target")
    bench.add_argument(
        "--only",
        help="comma-separated: ingest,tick,backtest,dashboard,latency,detection "
        "(prefixes: tick-postgres, ingest-sqlite, ...)",
    )
    bench.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    bench.add_argument("--markdown", help="also write the figures as a Markdown table here")
    bench.set_defaults(func=cmd_bench)
    keep = sub.add_parser("retention", help="blank complaint texts older than N days")
    keep.add_argument("--days", type=int, help="default: RADAR_TEXT_RETENTION_DAYS")
    keep.set_defaults(func=cmd_retention)
    imp = sub.add_parser("import", help="backfill complaints from a CSV/Excel history file")
    imp.add_argument("file", help="a .csv or .xlsx file")
    imp.add_argument("--source", default="import", help="source name (default: import)")
    imp.add_argument("--mapping", action="append", help="field=column, e.g. received_at=受理时间")
    imp.add_argument("--channel", help="channel for rows without one, e.g. hotline")
    imp.set_defaults(func=cmd_import)
    rekey = sub.add_parser(
        "rekey-products",
        help="after adding product aliases: move stored complaints and counts to the new codes",
    )
    rekey.add_argument("--source", help="only this source (default: every source with products)")
    rekey.add_argument("--apply", action="store_true", help="make the changes (default: dry run)")
    rekey.set_defaults(func=cmd_rekey_products)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(get_settings().log_level)
    from sqlalchemy.exc import OperationalError

    from storage.db import redact_url

    try:
        return args.func(args)
    except OperationalError as exc:  # one clear line, no traceback, no password
        reason = str(exc.orig or exc).splitlines()[0][:300]
        url = redact_url(get_settings().database_url)
        print(f"数据库不可用 / database unavailable: {url}: {reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before a command installed its own handling
        return 130


if __name__ == "__main__":
    sys.exit(main())
