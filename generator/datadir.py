"""Safe access to the data folder: what staff wrote is never lost or half-written.

- read_bytes(path, data_dir, limit): only regular files inside the data folder are read
  (no symlinks, FIFOs or devices; O_NOFOLLOW and fstat, so nothing is followed or hangs);
- locked(data_dir, command): one writing command at a time (flock on the data folder;
  a second command waits up to LOCK_WAIT seconds, then says the folder is busy);
- commit(data_dir, files): several files replaced as one change — staged beside their
  targets, then renamed into place under a journal (DATA/.generator-journal.json);
- recover(data_dir): run by every command first. A journal left by a killed command is
  completed when every staged file is intact (roll forward), otherwise rolled back from the
  saved originals; the message says which happened.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import Iterator

from generator.problems import GeneratorError

JOURNAL_NAME = ".generator-journal.json"
LOCK_WAIT = 60.0  # seconds a writing command waits for another one to finish
_STAGED = ".generator-staged"
_BACKUP = ".generator-backup"


class UnsafeFile(GeneratorError):
    """A path in the data folder is not a regular file inside it (exit 2)."""


class DataFolderBusy(GeneratorError):
    """Another command is writing the data folder (exit 2)."""


# --- reading -------------------------------------------------------------------------------


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "符号链接"
    if stat.S_ISFIFO(mode):
        return "命名管道（FIFO）"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "设备文件"
    if stat.S_ISSOCK(mode):
        return "套接字"
    if stat.S_ISDIR(mode):
        return "文件夹"
    return "特殊文件"


def _refuse(rel: str, what: str) -> UnsafeFile:
    return UnsafeFile(f"{rel}：是{what}，不是数据文件夹中的普通文件，已拒绝读取。"
                      "数据文件夹中只能放普通文件：请把它换成文件本身（不要用链接、管道或设备）")


def check_inside(path: Path, data_dir: Path, rel: str | None = None) -> None:
    """Raise UnsafeFile unless path's folder lies inside data_dir (no symlinked folders leading out)."""
    rel = rel or str(path)
    root = os.path.realpath(data_dir)
    parent = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    if parent != root and not parent.startswith(root.rstrip(os.sep) + os.sep):
        raise UnsafeFile(f"{rel}：所在的文件夹是指向数据文件夹以外（{parent}）的链接，已拒绝读取。"
                         "请把文件放在数据文件夹之内，不要用链接")
    # folders between data_dir and the file must not be symlinks (even to places inside)
    here = Path(os.path.abspath(path)).parent
    top = Path(os.path.abspath(data_dir))
    while here != top and top in here.parents:
        if here.is_symlink():
            raise _refuse(here.relative_to(top).as_posix() + "/", "符号链接")
        here = here.parent


def folder_is_inside(folder: Path, data_dir: Path) -> bool:
    """Whether check_inside passes for every file directly in `folder` (it looks only at the
    file's folder and the folders above it): a caller reading a folder's many files checks it
    once and reads each with read_bytes(..., folder_checked=True)."""
    try:
        check_inside(Path(folder) / "_", data_dir)
    except UnsafeFile:
        return False
    return True


def read_bytes(path: Path, data_dir: Path, limit: int | None = None, rel: str | None = None, *,
               folder_checked: bool = False) -> bytes:
    """The bytes of a regular file inside data_dir; UnsafeFile for anything else.

    OSError (missing file, no permission) passes through; a file over `limit` bytes raises
    UnsafeFile naming the size. folder_checked: folder_is_inside(path's folder, data_dir) was
    True just before (the file itself is still opened without following a link)."""
    rel = rel or str(path)
    if not folder_checked:
        check_inside(path, data_dir, rel)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.EMLINK and os.path.islink(path)):
            raise _refuse(rel, "符号链接") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(rel, _kind(st.st_mode))
        if limit is not None and st.st_size > limit:
            raise UnsafeFile(f"{rel}：文件过大（{st.st_size / 1e6:.1f} MB），超过 {limit / 1e6:.0f} MB 的上限")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if limit is not None and total > limit:  # grew while being read
                raise UnsafeFile(f"{rel}：文件过大，超过 {limit / 1e6:.0f} MB 的上限")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def is_regular(path: Path) -> bool:
    """Whether path itself (not what a symlink points to) is a regular file."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


# --- one writer at a time ---------------------------------------------------------------------


@contextlib.contextmanager
def locked(data_dir: Path, command: str, wait: float | None = None) -> Iterator[None]:
    """Hold the data folder's write lock for the duration; completes an interrupted commit first.

    The lock is an flock on the data folder itself: nothing is written to take it (a dry run
    leaves the folder byte for byte as it was) and the kernel releases it when a process dies."""
    data_dir = Path(data_dir)
    wait = LOCK_WAIT if wait is None else wait
    try:
        fd = os.open(data_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise GeneratorError(f"无法打开数据文件夹 {data_dir}：{exc.strerror or exc}") from None
    deadline = time.monotonic() + wait
    told = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DataFolderBusy(f"数据文件夹 {data_dir} 正被另一个命令修改（如 generator new、generator import），"
                                         f"本次命令（{command}）没有写入任何内容。请等它结束后重新运行") from None
                if not told:
                    print(f"generator：数据文件夹正被另一个命令修改，等待它结束（最长 {wait:.0f} 秒）……", file=sys.stderr, flush=True)
                    told = True
                time.sleep(0.05)
        message = _recover_locked(data_dir)
        if message:
            print(f"generator：{message}", file=sys.stderr, flush=True)
        yield
    finally:
        os.close(fd)  # releases the lock


# --- several files as one change ------------------------------------------------------------------


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_new(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)


def _hook(point: str) -> None:
    """GENERATOR_TEST_KILL_AT=<point>: the test suite kills a commit at that point (kill -9)."""
    if os.environ.get("GENERATOR_TEST_KILL_AT") == point:
        os.kill(os.getpid(), 9)


def commit(data_dir: Path, files: dict[Path, bytes]) -> list[Path]:
    """Replace several files under data_dir as one change (call inside locked()); returns them.

    Each file is staged beside its target and synced; a journal naming every target, its
    staged copy, a hard-linked backup of the original and both digests is written; then the
    staged files are renamed into place and the journal is removed. A crash at any point
    leaves either the old files, or a journal that recover() completes or rolls back."""
    data_dir = Path(data_dir)
    entries: list[dict] = []
    made: list[Path] = []
    try:
        for path, data in files.items():
            path = Path(path)
            check_inside(path, data_dir)
            rel = path.relative_to(data_dir).as_posix()
            old = path.read_bytes() if path.exists() else None
            mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
            staged = path.with_name(f".{path.name}{_STAGED}")
            backup = path.with_name(f".{path.name}{_BACKUP}")
            path.parent.mkdir(parents=True, exist_ok=True)
            made.append(staged)
            _write_new(staged, data, mode)
            if old is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(backup)
                made.append(backup)
                os.link(path, backup)
            entries.append({"target": rel, "staged": staged.relative_to(data_dir).as_posix(),
                            "backup": backup.relative_to(data_dir).as_posix() if old is not None else None,
                            "new": _digest(data), "old": _digest(old) if old is not None else None})
        journal = data_dir / JOURNAL_NAME
        tmp = data_dir / f"{JOURNAL_NAME}.tmp"
        made.append(tmp)
        _write_new(tmp, json.dumps({"started": time.strftime("%Y-%m-%d %H:%M:%S"), "files": entries},
                                   ensure_ascii=False, indent=1).encode("utf-8"))
        os.replace(tmp, journal)
    except OSError as exc:  # nothing replaced yet: remove what was staged
        for path in made:
            with contextlib.suppress(OSError):
                os.unlink(path)
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        raise GeneratorError(f"无法写入数据文件夹{where}：{exc.strerror or exc}。原文件没有改动。") from None
    _fsync_dir(data_dir)
    for i, entry in enumerate(entries):
        if i:
            _hook("between-renames")
        try:
            os.replace(data_dir / entry["staged"], data_dir / entry["target"])
        except OSError as exc:  # put back the files already replaced; if that fails too, the journal stays
            _rollback(data_dir, entries)
            _finish(data_dir, entries)
            raise GeneratorError(f"无法写入 {entry['target']}：{exc.strerror or exc}。原文件没有改动。") from None
    _finish(data_dir, entries)
    return [data_dir / e["target"] for e in entries]


def _finish(data_dir: Path, entries: list[dict]) -> None:
    for entry in entries:
        for key in ("staged", "backup"):
            if entry.get(key):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(data_dir / entry[key])
    for folder in {(data_dir / e["target"]).parent for e in entries}:
        _fsync_dir(folder)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(data_dir / JOURNAL_NAME)
    _fsync_dir(data_dir)


def _file_digest(path: Path) -> str | None:
    try:
        return _digest(path.read_bytes()) if is_regular(path) else None
    except OSError:
        return None


def _rollback(data_dir: Path, entries: list[dict]) -> None:
    """Every target back to its original bytes (a new file removed), from the hard-linked backups."""
    for e in entries:
        target = data_dir / e["target"]
        if e["old"] is None:
            if _file_digest(target) == e["new"]:
                target.unlink()
        elif _file_digest(target) != e["old"]:
            backup = data_dir / e["backup"]
            if _file_digest(backup) != e["old"]:
                raise GeneratorError(f"导入被中断，且 {e['target']} 的原文件备份已丢失，无法自动恢复。"
                                     f"请用 git checkout -- {e['target']} 恢复后重新导入，然后删除 {JOURNAL_NAME}")
            os.replace(backup, target)


def _recover_locked(data_dir: Path) -> str | None:
    journal = data_dir / JOURNAL_NAME
    if not journal.exists():
        # staged copies of a commit killed before its journal was written: the originals stand
        for pattern in (f".*{_STAGED}", f".*{_BACKUP}", f"{JOURNAL_NAME}.tmp"):
            for path in data_dir.rglob(pattern):
                if is_regular(path):
                    path.unlink()
        return None
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
        entries = list(record["files"])
        started = str(record.get("started", ""))
        for e in entries:  # the journal may only name files inside the data folder
            for key in ("target", "staged", "backup"):
                if e.get(key):
                    check_inside(data_dir / e[key], data_dir)
    except (OSError, ValueError, KeyError, TypeError, UnsafeFile):
        raise GeneratorError(f"数据文件夹中的导入日志 {JOURNAL_NAME} 已损坏，无法判断上次导入是否完成。"
                             "请用 git status / git diff 检查 data/ 中的修改，确认后删除该文件") from None
    names = "、".join(e["target"] for e in entries)
    # roll forward when every file is either already in place or staged intact
    if all(_file_digest(data_dir / e["target"]) == e["new"] or _file_digest(data_dir / e["staged"]) == e["new"]
           for e in entries):
        for e in entries:
            if _file_digest(data_dir / e["target"]) != e["new"]:
                os.replace(data_dir / e["staged"], data_dir / e["target"])
        _finish(data_dir, entries)
        return (f"上次导入（{started} 开始）在写入文件时被中断；已完成该次导入：{names} 均已写入。"
                "请运行 generator validate 检查，然后提交修改。")
    # otherwise put every original back
    _rollback(data_dir, entries)
    _finish(data_dir, entries)
    return (f"上次导入（{started} 开始）在写入文件时被中断，且暂存的文件不完整；已撤销该次导入：{names} 恢复为导入前的内容。"
            "请重新运行该次导入。")


def recover(data_dir: Path) -> bool:
    """Complete or roll back an interrupted commit, telling the clerk which; False: nothing to do.

    Writing commands get this from locked(); the CLI runs it before every other command."""
    data_dir = Path(data_dir)
    if not (data_dir / JOURNAL_NAME).exists():
        return False
    with locked(data_dir, "恢复中断的导入"):
        pass  # locked() recovers and prints the message
    return True
