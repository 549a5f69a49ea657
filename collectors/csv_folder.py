"""CSV/Excel drop folder (hotline and call-centre exports), each file in batches of rows.

A file is read as a stream and stored a batch of rows at a time (``collectors.file_import``), so
memory stays flat whatever the file's size. Each batch's cursor names the file's content hash and
how many of its rows are stored; a worker killed mid-file resumes after those rows. The last
batch puts the hash among the imported files in the same transaction as its rows, so a file is
never imported twice, even when it is dropped again under another name. The file is moved to
done/ or failed/ (with a reason file) only after that commit; if the move is interrupted, the
next run recognises the hash and just finishes the move.

A file still being uploaded (a slow SFTP copy straight to ``.csv``) must not be read half-written:
a file is imported only once it has not changed for ``settle_seconds`` (its modification time is
that old, or its size and modification time have stayed the same across looks that long apart).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

from collectors.base import Batch, BatchOutcome
from collectors.file_import import FileImport
from collectors.files import SUPPORTED_SUFFIXES, FileRejected
from collectors.http_client import SourceUnavailable
from config.sources import CsvFolderSource
from domain.products import ProductTable
from domain.records import PreRejected

log = logging.getLogger(__name__)
MAX_REMEMBERED_FILES = 5_000
_SKIP_SUFFIXES = (".tmp", ".part", ".crdownload", ".reason.txt", ".result.txt")


@dataclass(frozen=True)
class Look:
    """A file's size and modification time, and when (wall clock) they were first seen so."""

    size: int
    mtime_ns: int
    since: float


def wait_reason(look: Look, previous: Look | None, wall_now: float, settle: float) -> str | None:
    """Why a file must wait because it may still be written, or None when it has settled.

    Settled: modified at least ``settle`` seconds ago, or unchanged since a look that long ago
    (the second rescues files whose mtime comes from a clock running ahead of ours).
    """
    if settle <= 0:
        return None
    age = wall_now - look.mtime_ns / 1e9
    if age >= settle:
        return None
    if previous is not None and (previous.size, previous.mtime_ns) == (look.size, look.mtime_ns):
        if wall_now - previous.since >= settle:
            return None
        return (
            f"等待上传完成 / waiting for the upload to finish: unchanged for "
            f"{wall_now - previous.since:.0f}s of {settle:g}s"
        )
    if previous is not None:
        return (
            f"文件仍在写入 / still being written: changed since the last look ({previous.size} → "
            f"{look.size} bytes); importing once unchanged for {settle:g}s"
        )
    return f"文件刚修改 / modified {max(age, 0):.0f}s ago: importing once unchanged for {settle:g}s"


def move_with_note(path: Path, folder: Path, note: str, digest: str, note_suffix: str) -> Path:
    """Move ``path`` into ``folder`` without overwriting, and write ``note`` next to it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}.{digest[:8]}.{int(time.time())}{path.suffix}"
    path.replace(target)
    target.with_name(target.name + note_suffix).write_text(note + "\n", encoding="utf-8")
    return target


class CsvFolderCollector:
    def __init__(self, config: CsvFolderSource, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock  # wall clock, the one file modification times are written with
        self.looks: dict[str, Look] = {}
        self.waiting: dict[str, str] = {}  # file name → why it is not imported yet
        self.products = ProductTable(config.products)
        self.inbox = Path(config.inbox)
        self.done = Path(config.done_dir) if config.done_dir else self.inbox / "done"
        self.failed = Path(config.failed_dir) if config.failed_dir else self.inbox / "failed"
        self.current: FileImport | None = None  # the file being imported, open between batches

    def pending(self) -> list[Path]:
        """Files waiting in the inbox, oldest first; hidden and partial uploads are left alone."""
        if not self.inbox.is_dir():
            raise SourceUnavailable(f"收件目录不存在 / inbox folder missing: {self.inbox}")
        files = [
            p
            for p in self.inbox.iterdir()
            if (p.is_symlink() or p.is_file())  # links are listed to be refused, see _fetch
            and not p.name.startswith((".", "~$"))
            and not p.name.lower().endswith(_SKIP_SUFFIXES)
        ]
        return sorted(files, key=lambda p: (p.lstat().st_mtime, p.name))

    def _look(self, path: Path) -> Look:
        info = path.lstat()
        previous = self.looks.get(path.name)
        if previous is not None and (previous.size, previous.mtime_ns) == (
            info.st_size,
            info.st_mtime_ns,
        ):
            return previous
        return Look(info.st_size, info.st_mtime_ns, self.clock())

    def settled(self, files: list[Path]) -> list[Path]:
        """The files safe to read now; the others are remembered with the reason they wait."""
        wall_now = self.clock()
        ready, looks, waiting = [], {}, {}
        for path in files:
            look = self._look(path)
            previous = self.looks.get(path.name)
            reason = wait_reason(look, previous, wall_now, self.config.settle_seconds)
            looks[path.name] = look
            if reason is None:
                ready.append(path)
                continue
            waiting[path.name] = reason
            if look is not previous:  # log each new state of the file once, not every run
                log.info("source %s: %s waits: %s", self.config.name, path.name, reason)
        self.looks, self.waiting = looks, waiting
        return ready

    def fetch(self, cursor: str, now: datetime) -> Batch:
        batch = self._fetch(cursor)
        batch.note = self.waiting_note()
        return batch

    def waiting_note(self) -> str:
        """The files held back and why, for the source page (the log says it once per state)."""
        if not self.waiting:
            return ""
        waiting = list(self.waiting.items())
        shown = "；".join(f"{name}：{reason}" for name, reason in waiting[:3])
        more = f"；另有 {len(waiting) - 3} 个 / {len(waiting) - 3} more" if len(waiting) > 3 else ""
        return f"{len(waiting)} 个文件等待导入 / file(s) waiting: {shown}{more}"[:2000]

    def _fetch(self, cursor: str) -> Batch:
        files = self.settled(self.pending())
        if not files:
            self._close()
            return Batch(records=[], cursor=cursor)
        path, has_more = files[0], len(files) > 1
        if self.current is not None and self.current.file.path in files:
            path = self.current.file.path  # finish the file begun before another one arrived
        known = json.loads(cursor)["files"] if cursor else []
        if path.is_symlink() or path.resolve().parent != self.inbox.resolve():
            # A link could import (and echo into reasons) any file the worker can read.
            reason = "符号链接，拒绝导入 / symbolic link refused"
            return self._failed(path, reason, "", cursor, has_more)
        before = self.looks[path.name]
        size_mb = before.size / 1_048_576
        if size_mb > self.config.max_file_mb:
            return self._failed(
                path, f"文件过大 / file too large: {size_mb:.0f} MB", "", cursor, has_more
            )
        state = json.loads(cursor) if cursor else {}
        known, partial = state.get("files", []), state.get("partial") or {}
        current = self.current
        if current is None or current.file.path != path or partial != self._partial(current):
            self._close()
            try:
                current = FileImport(path, self.config.encoding, self.config.sheet)
            except OSError as exc:  # swapped for a link or a special file after the check above
                reason = f"无法读取 / unreadable: {exc.strerror}"
                return self._failed(path, reason, "", cursor, has_more)
            except FileRejected as exc:
                return self._failed(path, str(exc), "", cursor, has_more)
            after = self._look(path)
            if after is not before or current.file.size != before.size:  # written while read
                current.close()
                self.looks[path.name] = after
                self.waiting[path.name] = "文件在读取时被修改 / changed while being read"
                log.info("source %s: %s changed while read; waits", self.config.name, path.name)
                return Batch(records=[], cursor=cursor, has_more=has_more)
            digest = current.digest
            if digest in known:
                current.close()
                note = "重复文件，已导入过 / same content already imported; nothing stored"
                return Batch(
                    records=[],
                    cursor=cursor,
                    has_more=has_more,
                    after_commit=lambda _o: self._move(
                        path, self.done, note, digest, ".result.txt"
                    ),
                )
            resume = partial.get("rows", 0) if partial.get("file") == digest else 0
            try:
                if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                    raise FileRejected(f"不支持的文件类型 / unsupported file type {path.suffix}")
                current.start(
                    dict(cast("Mapping[str, str]", self.config.columns)),
                    self.config.channel,
                    self.config.max_rows,
                    self.config.max_unpacked_mb * 1_048_576,
                    skip=resume,
                )
            except FileRejected as exc:
                current.close()
                return self._failed(path, str(exc), digest, cursor, has_more)
            self.current = current
        return self._next_batch(path, current, known, has_more)

    @staticmethod
    def _partial(current: FileImport) -> dict:
        return {"file": current.digest, "rows": current.position}

    def _close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None

    def _next_batch(
        self, path: Path, current: FileImport, known: list[str], has_more: bool
    ) -> Batch:
        """The next rows of the open file; its cursor says how far the file is stored."""
        try:
            records, problems, done = current.batch()
        except FileRejected as exc:  # damaged past the rows already counted: keep them stored
            self._close()
            return self._failed(path, str(exc), current.digest, json.dumps({"files": known}), True)
        rejected = [
            PreRejected(
                external_id=f"{path.name}:{line}",
                reason=reason,
                payload={"line": line, "values": raw},
            )
            for line, reason, raw in problems
        ]
        if not done:
            cursor = json.dumps({"files": known, "partial": self._partial(current)})
            batch = Batch(records=records, cursor=cursor, has_more=True, rejected=rejected)
            return batch
        self.current = None
        current.close()
        digest = current.digest
        new_cursor = json.dumps({"files": [*known, digest][-MAX_REMEMBERED_FILES:]})

        def finish(outcome: BatchOutcome) -> None:
            note = (
                f"导入完成 / imported: {current.position} 行 rows; encoding "
                f"{current.file.encoding}; sha256 {digest}; last batch {outcome.inserted} 新增 "
                f"new, {outcome.duplicates} 重复 duplicate, {outcome.quarantined} 隔离 quarantined"
            )
            self._move(path, self.done, note, digest, ".result.txt")

        return Batch(
            records=records,
            cursor=new_cursor,
            has_more=has_more,
            rejected=rejected,
            after_commit=finish,
        )

    def _failed(self, path: Path, reason: str, digest: str, cursor: str, has_more: bool) -> Batch:
        """The whole file is refused: one quarantine entry, then the file goes to failed/."""
        note = f"导入失败 / import failed: {reason}"
        return Batch(
            records=[],
            cursor=cursor,
            has_more=has_more,
            rejected=[PreRejected(path.name, f"file rejected: {reason}", {"file": path.name})],
            after_commit=lambda _o: self._move(path, self.failed, note, digest, ".reason.txt"),
        )

    def _move(self, path: Path, folder: Path, note: str, digest: str, suffix: str) -> None:
        target = move_with_note(path, folder, note, digest or "nohash00", suffix)
        log.info("source %s: %s → %s", self.config.name, path.name, target)
