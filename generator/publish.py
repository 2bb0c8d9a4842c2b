"""Stage 5 — publish: run the pipeline and turn the rendered Markdown into the static site.

load → validate → derive → render → MkDocs build. The site is built into a
temporary folder beside the output and moved into place only when everything
succeeded: a failed validation or build leaves the last good site untouched.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from generator.derive import Facts, derive, today
from generator.load import load
from generator.problems import DataInvalid, GeneratorError, Problem
from generator.validate import validate

REPO_ROOT = Path(__file__).resolve().parent.parent


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
        as_of = as_of or today(report.dataset.site.timezone)
        facts = derive(report.dataset, as_of)
    return facts, [p for p in report.problems if not p.is_error]


def render_sources(facts: Facts, data_dir: Path, build_dir: Path, history: bool, timer: _Timer | None = None) -> int:
    """Write the Markdown sources, downloads and feed into build_dir; returns pages rewritten."""
    from generator import history as history_mod
    from generator.opendata import write_open_data
    from generator.render import render

    timer = timer or _Timer({})
    hist = None
    if history:
        with timer("修改记录"):
            hist = history_mod.collect(_repo_root_of(data_dir), data_dir, facts.site.timezone).until(facts.as_of)
    with timer("生成页面"):
        result = render(facts, build_dir, history=hist)
        write_open_data(facts, build_dir / "docs")
    return result.written


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


def mkdocs_build(build_dir: Path, site_dir: Path, as_of: date, timezone: str) -> None:
    """Build strictly; MkDocs' own dates (sitemap lastmod, gzip mtime) pinned to the as-of date."""
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
    try:
        config = load_config(str(build_dir / "mkdocs.yml"), site_dir=str(site_dir), strict=True)
        build(config)
    except (MkDocsException, SystemExit, OSError) as exc:
        details = "\n".join(f"  - {m}" for m in handler.messages) or f"  - {exc}"
        raise BuildFailed(f"MkDocs 构建失败（严格模式下任何警告都视为错误），原网站保持不变：\n{details}") from None
    finally:
        logger.removeHandler(handler)
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def _swap_into_place(built: Path, out_dir: Path) -> None:
    """Replace out_dir with built using renames, so readers never see a half-written site."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        out_dir.rename(old)
    built.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def build_site(data_dir: Path, out_dir: Path, as_of: date | None = None, history: bool = True,
               build_dir: Path | None = None, report: Callable[[str], None] = lambda line: None) -> BuildResult:
    data_dir, out_dir = Path(data_dir), Path(out_dir).resolve()
    build_dir = Path(build_dir) if build_dir else REPO_ROOT / "build"
    timings: dict[str, float] = {}
    timer = _Timer(timings)
    facts, warnings = prepare(data_dir, as_of, timer)
    for w in warnings:
        report(w.text())
    pages = render_sources(facts, data_dir, build_dir, history, timer)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    try:
        with timer("构建网站"):
            mkdocs_build(build_dir, staging, facts.as_of, facts.site.timezone)
        files = sum(1 for p in staging.rglob("*") if p.is_file())
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildResult(out_dir, facts.as_of, timings, warnings, pages, files)


def serve(data_dir: Path, as_of: date | None = None, host: str = "127.0.0.1", port: int = 8000,
          build_dir: Path | None = None) -> None:
    """Preview with live reload: a change under data/ re-renders the Markdown; MkDocs reloads the page."""
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

    observer = Observer()
    observer.schedule(_OnChange(), str(data_dir), recursive=True)
    observer.start()
    print(f"预览地址：http://{host}:{port}/ （修改 {data_dir}/ 下的记录后自动刷新，按 Ctrl+C 退出）", flush=True)
    try:
        mkdocs_serve(str(build_dir / "mkdocs.yml"), dev_addr=f"{host}:{port}", livereload=True)
    finally:
        observer.stop()
        observer.join()
