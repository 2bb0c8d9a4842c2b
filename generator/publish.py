"""Stage 5 — publish: run the pipeline and turn the rendered Markdown into the static site.

load → validate → derive → render → MkDocs build. The site is built into a
temporary folder beside the output and moved into place only when everything
succeeded: a failed validation or build leaves the last good site untouched.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from generator import publication as publication_mod
from generator import sitedir
from generator.dates import check_as_of
from generator.files import write_if_changed
from generator.derive import Facts, derive, today
from generator.load import load
from generator.offline import keep_requests_on_site
from generator.problems import DataInvalid, GeneratorError, Problem
from generator.validate import validate

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Under the build folder: what a rebuild may reuse (rendered pages, the last site's sources).
CACHE_DIR = ".cache"


class BuildFailed(GeneratorError):
    exit_code = 1


@dataclass
class BuildResult:
    out_dir: Path
    as_of: date
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    pages_written: int = 0
    files: int = 0
    pages_built: int | None = None  # pages MkDocs built when reusing the last site; None: a full build

    def summary(self) -> str:
        stages = "，".join(f"{name} {seconds:.2f} 秒" for name, seconds in self.timings.items())
        return (f"网站已生成：{self.out_dir}（数据截至 {self.as_of.isoformat()}，{self.files} 个文件，"
                f"本次改写 {self.pages_written} 个页面源文件）。用时：{stages}。")


class _Timer:
    def __init__(self, timings: dict[str, float]):
        self.timings = timings

    def __call__(self, name: str):
        timer = self

        class _Stage:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                timer.timings[name] = time.perf_counter() - self.start

        return _Stage()


def prepare(data_dir: Path, as_of: date | None, timer: _Timer | None = None) -> tuple[Facts, list[Problem]]:
    """load → validate → derive; raises DataInvalid with every problem when the data has errors."""
    timer = timer or _Timer({})
    with timer("读取"):
        raw = load(data_dir)
    with timer("校验"):
        report = validate(raw)
    if report.dataset is None:
        raise DataInvalid(report.problems)
    with timer("计算"):
        as_of = check_as_of(as_of or today(report.dataset.site.timezone))
        facts = derive(report.dataset, as_of)
    return facts, [p for p in report.problems if not p.is_error]


def render_sources(facts: Facts, data_dir: Path, build_dir: Path, history: bool, timer: _Timer | None = None,
                   parallel: bool = False, publication: dict | None = None) -> int:
    """Write the Markdown sources, downloads and feed into build_dir; returns pages rewritten.

    parallel: use a second process where that is safe (_can_fork)."""
    from generator import history as history_mod
    from generator.opendata import write_open_data
    from generator.render import SEARCH_ENTRIES_FILE, render, search_entries_json

    timer = timer or _Timer({})
    hist = None
    if history:
        with timer("修改记录"):
            hist = history_mod.collect(_repo_root_of(data_dir), data_dir, facts.site.timezone).until(facts.as_of)
    with timer("生成页面"):
        # The open-data files (the XLSX workbook above all: 5 s at 10,000 records) are written
        # by a second process while this one renders the pages: they touch different files.
        open_data = _Forked(write_open_data, facts, build_dir / "docs") if parallel else None
        try:
            result = render(facts, build_dir, history=hist, cache_file=build_dir / CACHE_DIR / "render-pages.json",
                            publication=publication)
            write_if_changed(build_dir / SEARCH_ENTRIES_FILE, search_entries_json(facts))
        except BaseException:
            if open_data is not None:
                open_data.kill()
            raise
        if open_data is None:
            write_open_data(facts, build_dir / "docs")
        else:
            open_data.join()
    return result.written


def _can_fork() -> bool:
    """A second process by fork: on Linux, and only while this process runs no other thread
    (a forked child inherits locks that other threads may hold)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux") and threading.active_count() == 1


class _Forked:
    """Run fn(*args) in a forked child; join() waits and re-raises its exception here."""

    def __init__(self, fn, *args):
        import pickle
        import traceback

        sys.stdout.flush()
        sys.stderr.flush()
        self.read_end, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns
            code = 0
            try:
                os.close(self.read_end)
                fn(*args)
                payload = b""
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
                code = 1
                try:
                    payload = pickle.dumps(exc)
                except Exception:  # noqa: BLE001
                    payload = pickle.dumps(GeneratorError("".join(traceback.format_exception(exc))))
            try:
                with os.fdopen(write_end, "wb") as fh:
                    fh.write(payload)
            finally:
                os._exit(code)
        os.close(write_end)

    def join(self) -> None:
        import pickle

        with os.fdopen(self.read_end, "rb") as fh:
            payload = fh.read()
        _, status = os.waitpid(self.pid, 0)
        if payload:
            raise pickle.loads(payload)
        if status != 0:
            raise GeneratorError(f"子进程异常退出（状态 {status}）。")

    def kill(self) -> None:
        import signal

        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        try:
            os.close(self.read_end)
        except OSError:
            pass


def _repo_root_of(data_dir: Path) -> Path:
    path = Path(data_dir).resolve()
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    return path


class _CollectWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


#: Record pages (``commitments/CM-….md`` …): their search entries come from the render stage.
_RECORD_PAGE = re.compile(r"(commitments|arrears|findings)/[A-Z]{2}-[0-9]{4}-[0-9]{3,}\.md")


# --- a faster path through Python-Markdown for raw HTML blocks ------------------------------
#
# Nearly every generated page is raw HTML blocks between a few Markdown headings.
# Python-Markdown finds the end of each block by feeding the whole page through
# html.parser (and MkDocs feeds it through a second time, to collect ids for anchor
# validation): two thirds of the Markdown time, 5–7 ms for a record page. The blocks
# are our templates' well-formed output, so the end of each can be found with one
# regular expression and the same stack rule the parser applies. Each such block is
# handed to the parser as a two-tag stand-in of the same element (the parser's
# decisions depend only on where the element starts and ends), and the stand-in is
# swapped for the block in the stash afterwards. Anything unusual (comments, script,
# markdown attributes, a '<' that is not a tag) takes the ordinary path; if the
# parser did not stash a stand-in as expected, the page is parsed the ordinary way.
# The HTML produced is byte-identical (checked over whole sites by the benchmark).

_BLOCK_START = re.compile(r"^<([a-zA-Z][a-zA-Z0-9]*)(?=[\s/>])", re.M)
_TAG = re.compile(r"""<(/?)([a-zA-Z][^\t\n\r\f />\x00]*)(?:[^>"']+|"[^"]*"|'[^']*')*>""")
_UNUSUAL = re.compile(r"<[!?]|</>|<(?:script|style|textarea|title|hr|plaintext|xmp)\b|\bmarkdown\s*=", re.I)
_ANCHOR_ATTR = re.compile(r"""\s(?:id|name)\s*=""", re.I)


def _fast_raw_html_extension():
    import markdown
    from markdown.htmlparser import htmlparser as _hp

    _NOT_FAST = {"hr", "script", "style", "textarea", "pre", "title"}

    def anchor_ids(tag_name: str, text: str) -> set[str]:
        """ids (and <a name>) of a start tag, read as html.parser reads attributes."""
        found = set()
        k = _hp.tagfind_tolerant.match(text, 1).end()
        while k < len(text):
            m = _hp.attrfind_tolerant.match(text, k)
            if not m:
                break
            name, rest, value = m.group(1, 2, 3)
            if rest and value and value[:1] == value[-1:] and value[:1] in "'\"":
                value = value[1:-1]
            if rest and value:
                value = _hp.unescape(value)
            name = name.lower()
            if rest and (name == "id" or (name == "name" and tag_name == "a")):
                found.add(value)
            k = m.end()
        return found

    class StandIn(markdown.preprocessors.Preprocessor):
        nonce = "\u2063zq\u2063"

        blocks: dict[str, tuple[str, str]] = {}

        def run(self, lines):
            self.blocks = {}
            self.ids: set[str] = set()
            self.original = lines
            self.stash_start = len(self.md.htmlStash.rawHtmlBlocks), self.md.htmlStash.html_counter
            text = "\n".join(lines)
            if self.nonce in text:
                return lines
            out, pos = [], 0
            for m in _BLOCK_START.finditer(text):
                start = m.start()
                if start < pos:
                    continue
                tag = m.group(1).lower()
                if tag in _NOT_FAST or not self.md.is_block_level(tag):
                    continue
                end, ids = self._element_end(text, start)
                if end is None:
                    continue
                key = f"{self.nonce}{len(self.blocks)}{self.nonce}"
                stand_in = f"<{tag}>{key}</{tag}>"
                self.blocks[key] = (stand_in, text[start:end])
                self.ids |= ids
                out.append(text[pos:start])
                out.append(stand_in)
                pos = end
            if not self.blocks:
                return lines
            out.append(text[pos:])
            return "".join(out).split("\n")

        def _element_end(self, text: str, start: int):
            """End of the element starting at start, by html.parser's raw-block rule; None if unusual."""
            stack: list[str] = []
            ids: set[str] = set()
            begin = start
            for m in _TAG.finditer(text, start):
                if m.start() != start and text.find("<", start, m.start()) != -1:
                    return None, ids  # a '<' that is not a tag: leave it to the parser
                closing, name = m.group(1), m.group(2).lower()
                raw = m.group(0)
                if start == begin and (closing or raw.endswith("/>")):
                    return None, ids  # not an element with content: leave it to the parser
                if closing:
                    if name in stack:
                        while stack.pop() != name:
                            pass
                    if not stack:
                        return (None if _UNUSUAL.search(text, begin, m.end()) else m.end()), ids
                else:
                    if _ANCHOR_ATTR.search(raw):
                        ids |= anchor_ids(name, raw)
                    if not raw.endswith("/>"):
                        stack.append(name)
                start = m.end()
            return None, ids

    class Restore(markdown.preprocessors.Preprocessor):
        def __init__(self, md, stand_in):
            super().__init__(md)
            self.stand_in = stand_in

        def run(self, lines):
            s = self.stand_in
            if not s.blocks:
                return lines
            stash = self.md.htmlStash.rawHtmlBlocks
            first, counter = s.stash_start
            keys = re.compile(re.escape(s.nonce) + r"[0-9]+" + re.escape(s.nonce))
            restored = 0
            ok = not any(s.nonce in line for line in lines)
            for i in range(first, len(stash)) if ok else ():
                block = stash[i]
                if not isinstance(block, str):
                    continue  # an element md_in_html built: never one of ours (no markdown attribute)
                for key in keys.findall(block):
                    stand_in, original = s.blocks[key]
                    if stand_in not in block:
                        ok = False
                        break
                    block = block.replace(stand_in, original, 1)
                    restored += 1
                stash[i] = block
            if not ok or restored != len(s.blocks):
                # The parser did something else with a stand-in: parse this page the ordinary way.
                del stash[first:]
                self.md.htmlStash.html_counter = counter
                lines = self.md.preprocessors["html_block"].run(s.original)
            if "mkdocs_raw_html" in self.md.preprocessors:  # MkDocs' anchor ids from raw HTML
                self.md.preprocessors["mkdocs_raw_html"].present_anchor_ids |= s.ids
            s.blocks = {}
            return lines

    class FastRawHtml(markdown.Extension):
        def extendMarkdown(self, md):
            stand_in = StandIn(md)
            md.preprocessors.register(stand_in, "zq_raw_html_stand_in", 22)  # before MkDocs' id scan (21)
            md.preprocessors.register(Restore(md, stand_in), "zq_raw_html_restore", 19)  # after html_block (20)

    return FastRawHtml()



def _record_search_plugin(build_dir: Path, incremental: "_Incremental | None" = None,
                          parallel: "_PagesInParallel | None" = None):
    """The generator's MkDocs plugin.

    Search: Material's search indexes the other pages, the render stage's entries
    (``build/search-records.json``) stand for the record pages. Material would parse
    and segment every table cell of every record page (a third of the build time, and
    an index of 4.6 MB at 1,000 records). The record pages keep their Markdown and
    HTML; only their search entries change. The index is written as UTF-8 instead of
    ``\\u`` escapes, which halves its size.

    Markdown: the raw-HTML fast path (_fast_raw_html_extension).

    Rebuilds: with ``incremental``, see _Incremental. Two cores: with ``parallel``, see
    _PagesInParallel.
    """
    from mkdocs.plugins import BasePlugin, event_priority

    from generator.render import SEARCH_ENTRIES_FILE

    entries_file = Path(build_dir) / SEARCH_ENTRIES_FILE

    class RecordSearch(BasePlugin):
        def on_config(self, config):
            config.markdown_extensions.append(_fast_raw_html_extension())
            return config

        def on_files(self, files, *, config):
            if incremental is not None:
                incremental.plan(files, config)
            return files

        def on_nav(self, nav, *, config, files):
            if parallel is not None:
                parallel.start(files)
            return nav

        @event_priority(-100)  # last: the page as MkDocs will write it
        def on_post_page(self, output, *, page, config):
            if parallel is not None and parallel.is_child and parallel.last_page(page):
                # MkDocs writes a page after this event, and the child leaves now: write it as MkDocs would
                from mkdocs import utils

                if output.strip():
                    utils.write_file(output.encode("utf-8", errors="xmlcharrefreplace"), page.file.abs_dest_path)
                parallel.finish(0, parallel.warnings.messages)
            return output

        def on_build_error(self, *, error):
            if parallel is not None and parallel.is_child:
                parallel.finish(1, [*parallel.warnings.messages, f"{type(error).__name__}: {error}"])
            elif parallel is not None:
                parallel.kill()

        def on_page_markdown(self, markdown, *, page, config, files):
            if _RECORD_PAGE.fullmatch(page.file.src_uri):
                page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}
            return markdown

        def on_env(self, env, *, config, files):
            if incremental is not None:
                incremental.before_writing(config)
            return env

        @event_priority(100)  # first: the child's pages are part of the build
        def on_post_build(self, *, config):
            if parallel is not None:
                parallel.join()

    class RecordSearchIndex(BasePlugin):
        @event_priority(-100)  # after Material's search plugin has written its index
        def on_post_build(self, *, config):
            index_path = Path(config.site_dir) / "search" / "search_index.json"
            if index_path.is_file() and entries_file.is_file():
                index = json.loads(index_path.read_text(encoding="utf-8"))
                if incremental is not None:
                    index["docs"] = incremental.merge_search(index["docs"])
                records = json.loads(entries_file.read_text(encoding="utf-8"))
                # In a preview, dirty rebuilds keep the previous entries: replace, never duplicate.
                known = {e["location"] for e in records}
                index["docs"] = [d for d in index["docs"] if d.get("location") not in known] + records
                data = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
                index_path.unlink()  # never write through a hard link into the previous site
                index_path.write_bytes(data.encode("utf-8"))
            if incremental is not None:
                incremental.remove_stale(config)

    return RecordSearch(), RecordSearchIndex()


def attach_plugins(config, build_dir: Path, incremental: "_Incremental | None" = None,
                   parallel: "_PagesInParallel | None" = None) -> None:
    """Add the generator's own MkDocs plugins to a loaded configuration."""
    main, index = _record_search_plugin(build_dir, incremental, parallel)
    config.plugins["generator/record-search"] = main
    config.plugins["generator/record-search-index"] = index


# --- rebuilding only what changed -------------------------------------------------------------
#
# A rebuild after one record changed must not cost a full MkDocs build. The site is
# still built into a fresh staging folder and swapped into place (a failed build
# leaves the last good site untouched), but the staging folder starts as hard links
# to the last site's files, and MkDocs' dirty mode builds only the pages whose
# source changed. "Changed" is decided by content digests recorded when the last
# site was built (build/.cache/site.json), not by mtimes; pages in the navigation
# are always rebuilt (their titles appear on every page); everything is rebuilt
# when anything that all pages share changed (mkdocs.yml, the theme and its
# overrides, package versions, this module). Files about to be written are
# unlinked first, so the last site's files are never written through. The search
# index is merged from the last site's entries for pages not rebuilt, in page
# order, and files no longer produced are removed. The result is byte-identical to
# a full build (the benchmark checks it).

SITE_MANIFEST = "site.json"


def _digest_file(path: str) -> str:
    import hashlib

    with open(path, "rb") as fh:
        return hashlib.sha1(fh.read()).hexdigest()


def _fingerprint(config, build_dir: Path) -> str:
    """What every page of the site depends on."""
    import hashlib
    from importlib import metadata

    h = hashlib.sha1()
    for path in (Path(build_dir) / "mkdocs.yml", REPO_ROOT / "mkdocs.yml", Path(__file__)):
        h.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    for theme_dir in config.theme.dirs:
        for root, dirs, names in os.walk(theme_dir):
            dirs.sort()
            for name in sorted(names):
                st = os.stat(os.path.join(root, name))
                h.update(f"{root}/{name}:{st.st_size}:{st.st_mtime_ns}\0".encode())
    for package in ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions", "jinja2", "jieba"):
        try:
            h.update(f"{package}={metadata.version(package)}\0".encode())
        except metadata.PackageNotFoundError:
            pass
    h.update(f"{sys.version}\0{os.environ.get('SOURCE_DATE_EPOCH')}".encode())
    return h.hexdigest()


class _Incremental:
    """State of one MkDocs build: what to rebuild (when a previous site can be reused)
    and the digests to record for the next build."""

    def __init__(self, fingerprint: str, previous: dict | None):
        self.fingerprint = fingerprint
        self.previous = previous  # {"sources": {src_uri: digest}} of the site in staging, or None: full build
        self.sources: dict[str, str] = {}
        self.rebuilt_urls: set[str] = set()
        self.page_urls: list[str] = []
        self.previous_search: list[dict] = []
        self.expected: set[str] = set()
        self.rebuilt = 0

    @property
    def reusing(self) -> bool:
        return self.previous is not None

    def plan(self, files, config) -> None:
        nav_pages = set()

        def walk(items):
            for item in items:
                if isinstance(item, dict):
                    for value in item.values():
                        walk(value if isinstance(value, list) else [value])
                elif isinstance(item, list):
                    walk(item)
                elif isinstance(item, str):
                    nav_pages.add(item)

        walk(config.nav or [])
        if not config.nav:  # navigation built from the files: every page carries every title
            nav_pages = {f.src_uri for f in files if f.is_documentation_page()}
        old = (self.previous or {}).get("sources", {})
        for f in files:
            digest = _digest_file(f.abs_src_path)
            self.sources[f.src_uri] = digest
            self.expected.add(os.path.normpath(f.abs_dest_path))
            if self.previous is None:
                changed = True
            else:
                changed = (old.get(f.src_uri) != digest or f.src_uri in nav_pages
                           or not os.path.exists(f.abs_dest_path))
            f.is_modified = (lambda value=changed: value)  # read by MkDocs' dirty build
            if changed and f.is_documentation_page():
                self.rebuilt += 1
        site = Path(config.site_dir)
        for name in (*config.theme.static_templates, "sitemap.xml.gz", "search/search_index.json"):
            self.expected.add(os.path.normpath(site / name))
        self.files = files

    def before_writing(self, config) -> None:
        """Read what is kept of the last site, then unlink every file this build writes."""
        if self.previous is None:
            return
        site = Path(config.site_dir)
        index = site / "search" / "search_index.json"
        try:
            self.previous_search = json.loads(index.read_text(encoding="utf-8"))["docs"]
        except (OSError, ValueError, KeyError):
            self.previous_search = []
        for f in self.files:
            url = "" if f.url in (".", "./") else f.url  # as Page.url, which Material's entries carry
            if f.is_documentation_page():
                self.page_urls.append(url)
            if f.is_modified():
                if f.is_documentation_page():
                    self.rebuilt_urls.add(url)
                _unlink(f.abs_dest_path)
        for name in (*config.theme.static_templates, "sitemap.xml.gz", "search/search_index.json"):
            _unlink(site / name)

    def merge_search(self, docs: list[dict]) -> list[dict]:
        """Material's entries of the rebuilt pages, the last site's for the others, in page order."""
        if self.previous is None:
            return docs
        by_page: dict[str, list[dict]] = {}
        for entry in self.previous_search:
            by_page.setdefault(entry.get("location", "").split("#")[0], []).append(entry)
        fresh: dict[str, list[dict]] = {}
        for entry in docs:
            fresh.setdefault(entry.get("location", "").split("#")[0], []).append(entry)
        merged = []
        for url in self.page_urls:
            merged += fresh.get(url, []) if url in self.rebuilt_urls else by_page.get(url, [])
        return merged

    def remove_stale(self, config) -> None:
        if self.previous is None:
            return
        site = str(config.site_dir)
        for root, dirs, names in os.walk(site, topdown=False):
            for name in names:
                path = os.path.normpath(os.path.join(root, name))
                if path not in self.expected:
                    os.unlink(path)
            if root != site and not os.listdir(root):
                os.rmdir(root)


class _PagesInParallel:
    """A full build on two cores: MkDocs builds pages one after another, so a forked copy of
    the build process (forked once files and navigation are known) builds every other record
    page while this process builds the rest, the static files, the sitemap and the search
    index. Record pages are not in the navigation and carry no Markdown links, so nothing
    this process writes depends on them. The child writes its pages straight into the
    staging folder and exits after its last page; its warnings are logged here (strict mode
    counts them), its failure fails the build.
    """

    MIN_PAGES = 200  # below this a second process costs more than it saves

    def __init__(self) -> None:
        self.pid: int | None = None
        self.read_end: int | None = None
        self.parent_pid = os.getpid()

    def start(self, files) -> None:
        from mkdocs.commands import build as build_module

        records = [f for f in files.documentation_pages() if _RECORD_PAGE.fullmatch(f.src_uri)]
        share = records[1::2]
        if len(share) < self.MIN_PAGES:
            return
        read_end, write_end = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:  # this process: leave the child's pages alone
            os.close(write_end)
            self.pid, self.read_end = pid, read_end
            for f in share:
                f.is_modified = (lambda: False)
            return
        # the child: build only the share, then leave
        os.close(read_end)
        self.write_end = write_end
        self.child = True
        self.remaining = {f.src_uri for f in share}
        for f in files:
            shared = f.src_uri in self.remaining
            f.is_modified = (lambda value=shared: value)
        build_module._build_theme_template = lambda *args, **kwargs: None  # sitemap, 404: the parent's
        self.warnings = _CollectWarnings()
        logging.getLogger("mkdocs").addHandler(self.warnings)

    @property
    def is_child(self) -> bool:
        return os.getpid() != self.parent_pid

    def last_page(self, page) -> bool:
        """In the child: whether this page is the last of its share."""
        self.remaining.discard(page.file.src_uri)
        return not self.remaining

    def finish(self, code: int, messages: list[str]) -> None:
        """The child's end: report and exit without running anything else of the build."""
        try:
            with os.fdopen(self.write_end, "w", encoding="utf-8") as fh:
                json.dump({"code": code, "messages": messages}, fh)
        finally:
            os._exit(code)

    def join(self) -> None:
        """In this process: wait for the child; log its warnings; fail if it failed."""
        if self.pid is None:
            return
        with os.fdopen(self.read_end, "r", encoding="utf-8") as fh:
            text = fh.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        try:
            report = json.loads(text)
        except ValueError:
            report = {"code": 1, "messages": [f"并行构建记录页面的子进程异常退出（状态 {status}）。"]}
        log = logging.getLogger("mkdocs.commands.build")
        for message in report.get("messages", []):
            log.warning(message)
        if status != 0 or report.get("code"):
            from mkdocs.exceptions import BuildError

            raise BuildError("并行构建记录页面的子进程失败：" + "；".join(report.get("messages", [])))

    def kill(self) -> None:
        if self.pid is not None:
            _Forked.kill(self)  # same fields: pid, read_end
            self.pid = None


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _seed(previous_site: Path, staging: Path) -> None:
    """staging becomes a tree of hard links to previous_site's files (copies where linking fails)."""
    for root, dirs, names in os.walk(previous_site):
        rel = os.path.relpath(root, previous_site)
        target = staging if rel == "." else staging / rel
        target.mkdir(exist_ok=True)
        for name in names:
            src, dst = os.path.join(root, name), target / name
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)


class _DropDirtyWarning(logging.Filter):
    """MkDocs warns that a dirty build may leave navigation stale; ours rebuilds the pages that
    carry the navigation's titles, and strict mode would count the warning as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("A 'dirty' build is being performed")


def mkdocs_build(build_dir: Path, site_dir: Path, as_of: date, timezone: str,
                 previous_site: Path | None = None) -> dict:
    """Build strictly; MkDocs' own dates (sitemap lastmod, gzip mtime) pinned to the as-of date.

    With previous_site (a site this build folder built, see _reusable_site), pages
    whose sources did not change are reused from it (site_dir must be empty).
    Returns the manifest to record for the next build.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    midnight = datetime.combine(as_of, dtime(0, 0), tzinfo=ZoneInfo(timezone))
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(midnight.timestamp()))
    # jieba (Chinese segmentation for the search index) announces its dictionary on every run.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    try:
        import jieba

        jieba.setLogLevel(logging.WARNING)
    except ImportError:  # pragma: no cover - jieba is a dependency
        pass
    handler = _CollectWarnings()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    dirty_filter = _DropDirtyWarning()
    build_logger = logging.getLogger("mkdocs.commands.build")
    try:
        config = load_config(str(build_dir / "mkdocs.yml"), site_dir=str(site_dir), strict=True)
        fingerprint = _fingerprint(config, build_dir)
        reuse = None
        if previous_site is not None:
            manifest = _read_manifest(build_dir)
            if manifest.get("fingerprint") == fingerprint:
                _seed(previous_site, Path(site_dir))
                reuse = manifest
        incremental = _Incremental(fingerprint, reuse)
        parallel = _PagesInParallel() if reuse is None and _can_fork() else None
        attach_plugins(config, build_dir, incremental, parallel)
        build_logger.addFilter(dirty_filter)
        try:
            # dirty: MkDocs builds only the files whose is_modified() says so (see _Incremental.plan)
            build(config, dirty=incremental.reusing or parallel is not None)
        finally:
            if parallel is not None and parallel.is_child:  # never run the rest of the pipeline twice
                os._exit(1)
            if parallel is not None:
                parallel.kill()
        keep_requests_on_site(Path(site_dir))  # the theme's CDN loads → the site's own files
    except (MkDocsException, SystemExit, OSError) as exc:
        details = "\n".join(f"  - {m}" for m in handler.messages) or f"  - {exc}"
        raise BuildFailed(f"MkDocs 构建失败（严格模式下任何警告都视为错误），原网站保持不变：\n{details}") from None
    finally:
        build_logger.removeFilter(dirty_filter)
        logger.removeHandler(handler)
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
    return {"fingerprint": fingerprint, "sources": incremental.sources,
            "reused": incremental.reusing, "pages_built": incremental.rebuilt if incremental.reusing else None}


def _read_manifest(build_dir: Path) -> dict:
    try:
        data = json.loads((Path(build_dir) / CACHE_DIR / SITE_MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _site_identity(out_dir: Path) -> list:
    st = out_dir.stat()
    return [str(out_dir), st.st_dev, st.st_ino]


def _reusable_site(build_dir: Path, out_dir: Path) -> Path | None:
    """out_dir, if it is the site that this build folder built last (and nobody replaced it)."""
    manifest = _read_manifest(build_dir)
    try:
        if manifest.get("site") == _site_identity(out_dir):
            return out_dir
    except OSError:
        pass
    return None


def _write_manifest(build_dir: Path, out_dir: Path, manifest: dict) -> None:
    data = {"fingerprint": manifest["fingerprint"], "site": _site_identity(out_dir), "sources": manifest["sources"]}
    write_if_changed(Path(build_dir) / CACHE_DIR / SITE_MANIFEST, json.dumps(data, sort_keys=True).encode("utf-8"))


def build_site(data_dir: Path, out_dir: Path, as_of: date | None = None, history: bool = True,
               build_dir: Path | None = None, report: Callable[[str], None] = lambda line: None,
               reuse: bool = True) -> BuildResult:
    """The whole pipeline into out_dir. With reuse (the default), pages of the last site built
    from the same build folder whose sources did not change are reused (see _Incremental)."""
    data_dir = Path(data_dir)
    out_dir = sitedir.check_target(out_dir, protect=[data_dir])  # before any work: never a data or repository folder
    build_dir = Path(build_dir) if build_dir else REPO_ROOT / "build"
    timings: dict[str, float] = {}
    timer = _Timer(timings)
    facts, warnings = prepare(data_dir, as_of, timer)
    for w in warnings:
        report(w.text())
    identity = publication_mod.identify(data_dir)
    pages = render_sources(facts, data_dir, build_dir, history, timer, parallel=_can_fork(),
                           publication=publication_mod.mkdocs_extra(identity))

    with sitedir.replacing(out_dir, protect=[data_dir]) as staging:  # the old site stays until the new is in
        with timer("构建网站"):
            manifest = mkdocs_build(build_dir, staging, facts.as_of, facts.site.timezone,
                                    previous_site=_reusable_site(build_dir, out_dir) if reuse else None)
        with timer("发布清单"):
            publication_mod.write_manifest(staging, identity, facts.as_of)
        files = sum(1 for p in staging.rglob("*") if p.is_file())
    _write_manifest(build_dir, out_dir, manifest)
    return BuildResult(out_dir, facts.as_of, timings, warnings, pages, files, manifest["pages_built"])


def serve(data_dir: Path, as_of: date | None = None, host: str = "127.0.0.1", port: int = 8000,
          build_dir: Path | None = None) -> None:
    """Preview with live reload: a change under data/ re-renders the Markdown; MkDocs reloads the page."""
    import mkdocs.commands.serve as serve_module
    from mkdocs.commands.serve import serve as mkdocs_serve
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    data_dir = Path(data_dir)
    build_dir = Path(build_dir) if build_dir else REPO_ROOT / "build"

    def refresh() -> None:
        try:
            facts, warnings = prepare(data_dir, as_of)
            render_sources(facts, data_dir, build_dir, history=False)
            print(f"已按 {facts.as_of} 的数据更新预览。", flush=True)
        except DataInvalid as exc:
            print("\n".join(p.text() for p in exc.problems if p.is_error), flush=True)
            print("数据有错误，预览保持上一次的内容。", flush=True)

    refresh()
    if not (build_dir / "mkdocs.yml").exists():
        raise GeneratorError("数据有错误，无法生成预览。请先运行 generator validate 并修正。")

    class _OnChange(FileSystemEventHandler):
        def __init__(self) -> None:
            self.timer: threading.Timer | None = None

        def on_any_event(self, event) -> None:  # debounce bursts of editor writes
            if self.timer:
                self.timer.cancel()
            self.timer = threading.Timer(0.3, refresh)
            self.timer.start()

    # mkdocs serve loads the configuration itself (again on each rebuild): add our plugins there.
    load_config = serve_module.load_config

    def load_config_with_plugins(*args, **kwargs):
        config = load_config(*args, **kwargs)
        attach_plugins(config, build_dir)
        return config

    serve_module.load_config = load_config_with_plugins
    observer = Observer()
    observer.schedule(_OnChange(), str(data_dir), recursive=True)
    observer.start()
    print(f"预览地址：http://{host}:{port}/ （修改 {data_dir}/ 下的记录后自动刷新，按 Ctrl+C 退出）", flush=True)
    try:
        mkdocs_serve(str(build_dir / "mkdocs.yml"), dev_addr=f"{host}:{port}", livereload=True)
    finally:
        serve_module.load_config = load_config
        observer.stop()
        observer.join()
