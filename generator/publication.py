"""Verifiable publications: the manifest every build writes, and `generator verify`.

A publication is a site built from one commit for one as-of date. Because the
same commit and as-of date always give the same bytes, anyone holding the
repository can check a published site:

- every build writes ``publication.json`` into the site root and into the data
  package folder (``data/publication.json``): the commit id, whether the work
  tree had uncommitted changes (``dirty``: such a build cannot be reproduced),
  the as-of date, the generator version and the sha256 of every published file
  (the two manifest copies themselves excluded);
- the footer of every page names the commit (see ``mkdocs_extra``);
- ``generator verify SITE_DIR`` first checks the site's files against its own
  manifest, then checks the commit out into a scratch folder (``git worktree
  add --detach``), rebuilds it with the same as-of date and reports every file
  that differs, is missing or is extra. The rebuild uses the generator of that
  commit when the commit carries one (this repository), else the installed one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Iterator

from generator import __version__, sitedir
from generator.files import write_if_changed
from generator.problems import GeneratorError

MANIFEST_NAME = "publication.json"
#: Where the manifest is written inside the site: the root and the data package folder.
MANIFEST_PATHS = (MANIFEST_NAME, f"data/{MANIFEST_NAME}")
FORMAT = 1

_GIT_LOCATION_VARIABLES = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX",
)


class VerifyError(GeneratorError):
    """verify cannot run (no manifest, no repository, unknown commit)."""

    exit_code = 2


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARIABLES}
    env.update(LC_ALL="C", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    return subprocess.run(["git", "--no-pager", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)


@dataclass(frozen=True)
class Identity:
    """What a build is made from: the commit (empty outside git), dirty work tree, the data folder in it."""

    commit: str = ""
    dirty: bool = False
    data_path: str = "data"  # the data folder, relative to the top of the repository

    @property
    def short(self) -> str:
        return self.commit[:12]


def identify(data_dir: Path) -> Identity:
    """The commit the data folder's repository is at, and whether its work tree differs from it."""
    data_dir = Path(data_dir).resolve()
    start = data_dir if data_dir.is_dir() else data_dir.parent
    try:
        head = _git(start, "rev-parse", "--show-toplevel", "HEAD")
    except OSError:
        return Identity(data_path=data_dir.name)
    lines = head.stdout.decode("utf-8", "surrogateescape").splitlines()
    if head.returncode != 0 or len(lines) < 2:
        return Identity(data_path=data_dir.name)
    top = Path(lines[0]).resolve()
    try:
        data_path = data_dir.relative_to(top).as_posix()
    except ValueError:
        data_path = data_dir.name
    status = _git(top, "status", "--porcelain", "--untracked-files=normal")
    dirty = status.returncode != 0 or bool(status.stdout.strip())
    return Identity(lines[1], dirty, data_path or ".")


def mkdocs_extra(identity: Identity | None) -> dict:
    """What the footer shows: the commit (short and full) and whether the build was dirty."""
    if identity is None or not identity.commit:
        return {}
    return {"commit": identity.commit, "short": identity.short, "dirty": identity.dirty, "manifest": MANIFEST_NAME}


# --- the manifest ----------------------------------------------------------------------------


def _sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, read with plain os calls (open, read, close: a site has thousands of files)."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        while True:
            block = os.read(fd, _BLOCK)
            digest.update(block)
            if len(block) < _BLOCK:  # a short read of a regular file is its end
                break
    finally:
        os.close(fd)
    return digest.hexdigest()


_BLOCK = 1 << 22


def _regular_files(root: str, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(relative POSIX path, path) of every regular file under root; symbolic links are not followed."""
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _regular_files(entry.path, prefix + entry.name + "/")
            elif entry.is_file(follow_symlinks=False):
                yield prefix + entry.name, entry.path


def site_files(site_dir: Path, digests: "FileDigests | None" = None,
               files: Iterable[tuple[str, str]] | None = None) -> dict[str, str]:
    """sha256 of every file under site_dir (relative POSIX paths, sorted), the manifests excluded.

    With `digests` (the build's own bookkeeping, never for verify), a file the build wrote
    from bytes it held, or that is still the very file digested by an earlier build, is not
    read (see FileDigests). `files`: the (relative path, path) of every file under site_dir
    when the caller walks the folder anyway (sitedir.readable_files)."""
    skip = {*MANIFEST_PATHS, sitedir.MARKER}  # bookkeeping, not published content
    if files is None:
        files = _regular_files(os.fspath(site_dir))
    found = sorted((rel, path) for rel, path in files if rel not in skip)
    if digests is None:
        return {rel: _sha256(path) for rel, path in found}
    return {rel: digests.digest(rel, path) for rel, path in found}


class FileDigests:
    """sha256 of a build's site files without reading them where the build knows them.

    Two sources: `written` (site-relative path → sha256), the files the build itself wrote
    from bytes it held (the engine's stamped pages and letters: 16,500 files at 10,000
    records, neither stat'ed nor read back); and digests by identity (device, inode, mtime
    in ns, size) kept between builds: a rebuild links the unchanged files of the last site
    into the new one (the same inode, mtime and size). Every other file (new, replaced, or
    modified in place, which changes its mtime) is read. The manifest's digests are the
    same either way; `generator verify` never uses this class."""

    def __init__(self, path: Path | None, written: dict[str, str] | None = None):
        self.path = path
        self.written: dict[str, str] = dict(written or {})
        self.old: dict[str, str] = {}
        self.new: dict[str, str] = {}
        if path is not None:
            try:
                saved = json.loads(Path(path).read_text(encoding="utf-8"))
                if isinstance(saved, dict) and saved.get("format") == 1 and isinstance(saved.get("files"), dict):
                    self.old = saved["files"]
            except (OSError, ValueError):
                pass

    def digest(self, rel: str, path: str) -> str:
        """The sha256 of the site file `rel` at path."""
        known = self.written.get(rel)
        return known if known is not None else self.sha256(path)

    def sha256(self, path: str) -> str:
        """The sha256 of the file at path: by its identity when an earlier build read it."""
        st = os.stat(path, follow_symlinks=False)
        key = f"{st.st_dev}:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"
        digest = self.old.get(key)
        if digest is None:
            digest = _sha256(path)
        self.new[key] = digest
        return digest

    def save(self) -> None:
        if self.path is None or self.new == self.old:
            return
        write_if_changed(Path(self.path), json.dumps({"format": 1, "files": self.new}, separators=(",", ":")).encode("utf-8"))


def manifest(site_dir: Path, identity: Identity, as_of: date, digests: FileDigests | None = None,
             files: Iterable[tuple[str, str]] | None = None) -> dict:
    return {
        "format": FORMAT,
        "commit": identity.commit,
        "dirty": identity.dirty,
        "data_path": identity.data_path,
        "as_of": as_of.isoformat(),
        "generator_version": __version__,
        "files": site_files(site_dir, digests, files),
    }


#: What json.dumps writes as it is in a string (ensure_ascii=False): no quote, backslash or control character.
_PLAIN_JSON_TEXT = re.compile(r'[^"\\\x00-\x1f\x7f]*\Z')


def manifest_text(data: dict) -> str:
    """json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) plus a line break, the
    manifest's text, with its "files" (one line per file, 16,500 at 10,000 records, already in
    order) written by a join when no path or digest needs escaping: with an indent, json.dumps
    runs its pure-Python encoder over every entry (tested equal)."""
    files = data["files"]
    keys, values = "".join(files), "".join(files.values())
    if not files or not _PLAIN_JSON_TEXT.match(keys) or not _PLAIN_JSON_TEXT.match(values) or list(files) != sorted(files):
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    mark = "\0files\0"  # a string json.dumps escapes: never in its output as it is
    head = json.dumps({**data, "files": mark}, ensure_ascii=False, indent=1, sort_keys=True)
    body = ",\n".join([f'  "{rel}": "{digest}"' for rel, digest in files.items()])
    return head.replace(json.dumps(mark), "{\n" + body + "\n }", 1) + "\n"


def write_manifest(site_dir: Path, identity: Identity, as_of: date, digests: FileDigests | None = None,
                   files: Iterable[tuple[str, str]] | None = None) -> dict:
    """Write publication.json into the site and its data package folder (a new file, never in place:
    the files of a site may be hard links into the previous site), world-readable (0644) whatever
    the umask: it is written after the walk that makes the site's files so (sitedir.readable_files).
    `digests`, `files`: see site_files."""
    data = manifest(site_dir, identity, as_of, digests, files)
    text = manifest_text(data).encode("utf-8")
    for rel in MANIFEST_PATHS:
        path = Path(site_dir) / rel
        if not path.parent.is_dir():
            continue
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_bytes(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    return data


def read_manifest(site_dir: Path) -> dict:
    path = Path(site_dir) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VerifyError(f"{path} 不存在：这不是本生成器生成的网站，或生成时间早于发布清单功能。") from None
    except (OSError, ValueError) as exc:
        raise VerifyError(f"{path} 无法读取或不是有效的 JSON（{exc}）。") from None
    if (not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict)
            or not isinstance(data.get("as_of"), str)):
        raise VerifyError(f"{path} 的格式无法识别。")
    try:
        date.fromisoformat(data["as_of"])
    except ValueError:
        raise VerifyError(f"{path} 中的数据日期“{data['as_of']}”无效。") from None
    return data


# --- verify ----------------------------------------------------------------------------------


@dataclass
class Verification:
    commit: str
    as_of: str
    notes: list[str] = field(default_factory=list)  # facts about the check (dirty build, version)
    tampered: list[str] = field(default_factory=list)  # site files that do not match its own manifest
    differing: list[str] = field(default_factory=list)  # files whose rebuilt bytes differ
    missing: list[str] = field(default_factory=list)  # in the rebuild, not in the site
    extra: list[str] = field(default_factory=list)  # in the site, not in the rebuild

    @property
    def ok(self) -> bool:
        return not (self.tampered or self.differing or self.missing or self.extra)

    def text(self) -> str:
        lines = [f"复核发布：提交 {self.commit[:12] or '（无）'}，数据截至 {self.as_of}。", *self.notes]
        for title, paths in (("与网站自带的发布清单不符（文件被改动过）", self.tampered),
                             ("与重新生成的结果不同", self.differing),
                             ("重新生成时有、网站中缺少", self.missing),
                             ("网站中有、重新生成时没有", self.extra)):
            if paths:
                lines.append(f"{title}（{len(paths)} 个）：")
                lines += [f"  {p}" for p in paths[:200]]
                if len(paths) > 200:
                    lines.append(f"  ……另有 {len(paths) - 200} 个")
        lines.append("复核通过：网站与该提交重新生成的结果逐字节相同。" if self.ok else "复核未通过。")
        return "\n".join(lines)


def _compare(expected: dict[str, str], actual: dict[str, str], result: Verification) -> None:
    for rel in sorted(set(expected) | set(actual)):
        if rel not in actual:
            result.missing.append(rel)
        elif rel not in expected:
            result.extra.append(rel)
        elif expected[rel] != actual[rel]:
            result.differing.append(rel)


def _rebuild(checkout: Path, data_path: str, out: Path, as_of: str, work: Path,
             report: Callable[[str], None]) -> None:
    """Build the checked-out commit into `out`: with its own generator when it has one."""
    data_dir = checkout / data_path
    if (checkout / "generator" / "__init__.py").is_file() and (checkout / "generator" / "publication.py").is_file():
        env = dict(os.environ)
        env["PYTHONPATH"] = str(checkout) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.pop("GENERATOR_DEBUG", None)
        proc = subprocess.run([sys.executable, "-m", "generator", "build", "--data", str(data_dir), "--out", str(out),
                               "--as-of", as_of], cwd=checkout, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
            raise VerifyError("重新生成失败：\n" + "\n".join(tail))
        return
    report("该提交中没有生成器代码，使用当前安装的生成器重新生成。")
    from generator.publish import build_site

    build_site(data_dir, out, as_of=date.fromisoformat(as_of), build_dir=work / "build")


def verify(site_dir: Path, repo_dir: Path = Path("."), report: Callable[[str], None] = lambda line: None) -> Verification:
    """Check a built site against its manifest and against a fresh build of its commit."""
    site_dir = Path(site_dir)
    if not site_dir.is_dir():
        raise VerifyError(f"网站文件夹 {site_dir} 不存在。")
    data = read_manifest(site_dir)
    commit = str(data.get("commit") or "")
    result = Verification(commit, data["as_of"])
    if data.get("generator_version") != __version__:
        result.notes.append(f"说明：网站由生成器 {data.get('generator_version')} 生成，当前为 {__version__}。")
    # 1. the site against its own manifest: catches an edited file without any rebuild
    actual = site_files(site_dir)
    check = Verification(commit, data["as_of"])
    _compare(data["files"], actual, check)
    result.tampered = sorted(check.differing + check.missing + check.extra)
    if not commit:
        raise VerifyError("发布清单中没有提交编号（网站不是在 git 仓库中生成的），无法重新生成复核。")
    if data.get("dirty"):
        result.notes.append("注意：这个网站是在有未提交修改的工作区中生成的，重新生成的结果可能不同。")
    # 2. rebuild the commit in a scratch work tree
    top = _git(Path(repo_dir), "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise VerifyError(f"{Path(repo_dir).resolve()} 不是 git 仓库，无法检出提交 {commit[:12]}。")
    top_dir = Path(top.stdout.decode("utf-8", "surrogateescape").strip())
    if _git(top_dir, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        raise VerifyError(f"仓库中没有提交 {commit}：请先获取完整历史（git fetch --unshallow）。")
    work = Path(tempfile.mkdtemp(prefix="generator-verify-"))
    checkout = work / "src"
    try:
        added = _git(top_dir, "worktree", "add", "--detach", "--quiet", str(checkout), commit)
        if added.returncode != 0:
            raise VerifyError(f"无法检出提交 {commit[:12]}：{added.stderr.decode('utf-8', 'replace').strip()}")
        report(f"已检出提交 {commit[:12]}，按数据日期 {data['as_of']} 重新生成……")
        rebuilt = work / "site"
        _rebuild(checkout, str(data.get("data_path") or "data"), rebuilt, data["as_of"], work, report)
        _compare(site_files(rebuilt), actual, result)
    finally:
        _git(top_dir, "worktree", "remove", "--force", str(checkout))
        shutil.rmtree(work, ignore_errors=True)
        _git(top_dir, "worktree", "prune")
    return result


def register(command) -> None:
    p = command("verify", "复核已发布的网站：检出其发布清单中的提交，按同一数据日期重新生成，逐个文件比对", cmd_verify)
    p.add_argument("site_dir", metavar="SITE_DIR", help="要复核的网站文件夹（含 publication.json）")
    p.add_argument("--repo", default=".", help="含该提交的 git 仓库（默认当前文件夹）")


def cmd_verify(args) -> int:
    result = verify(Path(args.site_dir), Path(args.repo), report=lambda line: print(line, file=sys.stderr))
    print(result.text())
    return 0 if result.ok else 1
