"""Stage 5 — publish: run the pipeline and put the static site into place.

load → validate → derive → render (pages, open data) → engine (generator.engine) →
swap. The site is built into a temporary folder beside the output and moved into
place only when everything succeeded: a failed validation or build leaves the last
good site untouched.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

from generator import collector
from generator import publication as publication_mod
from generator import sitedir, sitefiles
from generator.dates import check_as_of
from generator.derive import Facts, derive, today
from generator.load import load
from generator.problems import DataInvalid, GeneratorError, Problem
from generator.validate import validate

#: Under the build folder: what a rebuild may reuse (rendered pages).
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
    pages_stamped: int = 0  # record and department pages stamped into the engine's shells
    engine_reused: bool = False  # MkDocs did not run: none of its inputs changed (engine/reuse.py)
    pages_linked: int = 0  # stamped pages hard-linked from the last site, their bytes unchanged

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


#: Under the build folder's cache: the YAML records' rows of the last load (load.YamlCache).
YAML_CACHE = "yaml-records.marshal"


def prepare(data_dir: Path, as_of: date | None, timer: _Timer | None = None,
            cache_dir: Path | None = None) -> tuple[Facts, list[Problem]]:
    """load → validate → derive; raises DataInvalid with every problem when the data has errors.
    cache_dir: where the load keeps its YAML parses for the next build (build/.cache)."""
    facts, warnings, _ = prepare_with_dataset(data_dir, as_of, timer, cache_dir)
    return facts, warnings


def prepare_with_dataset(data_dir: Path, as_of: date | None, timer: _Timer | None = None,
                         cache_dir: Path | None = None):
    """prepare(), and the validated dataset as well: (facts, warnings, dataset)."""
    timer = timer or _Timer({})
    # load, validate and derive make the records' objects (about 200,000 containers at 10,000
    # records), nearly all of which live on, and next to no cyclic garbage. The cyclic collector
    # is paused meanwhile (validate and derive pause it themselves too), and the objects made are
    # then frozen (gc.freeze: left out of every collection) until render unfreezes them
    # (render.render, which freezes them for its own time anyway): made while it was paused, they
    # are all "young", and the first collections after prepare would scan every one of them
    # (0.1-0.2 s at 10,000 records).
    with collector.paused():
        with timer("读取"):
            raw = load(data_dir, yaml_cache=Path(cache_dir) / YAML_CACHE if cache_dir is not None else None)
        with timer("校验"):
            report = validate(raw, as_of)
        if report.dataset is None:
            raise DataInvalid(report.problems)
        with timer("计算"):
            as_of = check_as_of(as_of or today(report.dataset.site.timezone))
            facts = derive(report.dataset, as_of)
        gc.freeze()
    return facts, [p for p in report.problems if not p.is_error], report.dataset


def render_sources(facts: Facts, data_dir: Path, build_dir: Path, history: bool, timer: _Timer | None = None) -> int:
    """Write the pages, downloads and feed into build_dir; returns files rewritten."""
    from generator import history as history_mod
    from generator.privacy import load_redactions
    from generator.render import render

    timer = timer or _Timer({})
    hist = None
    if history:
        with timer("修改记录"):
            redactions, _ = load_redactions(data_dir)  # checked by the validate stage
            hist = history_mod.collect(_repo_root_of(data_dir), data_dir, facts.site.timezone,
                                       redactions=redactions).until(facts.as_of)
    with timer("生成页面"):
        result = render(facts, build_dir, history=hist, cache_file=build_dir / CACHE_DIR / "render-pages.json")
    with timer("开放数据"):
        from generator.engine import DATA_FIGURES_PACK, SITE_FILES_PACK

        _write_downloads(facts, build_dir / "docs", build_dir / SITE_FILES_PACK, build_dir / CACHE_DIR,
                         result.record_keys, build_dir / DATA_FIGURES_PACK)
    return result.written


def _write_downloads(facts: Facts, docs_dir: Path, site_files: Path | None = None,
                     cache_dir: Path | None = None, record_keys: dict | None = None,
                     figures_pack: Path | None = None) -> None:
    """Open data and feed (opendata.py; its unchanged files and tables from cache_dir, a record
    kind's tables unchanged by its records' render keys in record_keys), then
    letters, department feeds and calendar (extras.py; the letters into the pack site_files,
    which the engine places into the site as they are; an unchanged record's letter, by its
    render key in record_keys, from the last pack). figures_pack: the 开放数据 page's figures
    (opendata.write_open_data)."""
    from generator.extras import write_extras
    from generator.opendata import write_open_data

    # As in render: the facts (millions of objects at 100,000 records) outlive this stage, so
    # the cyclic garbage collector leaves them out of its full collections meanwhile; the
    # stage's tables, cells and files are short-lived and never in a cycle.
    gc.freeze()
    try:
        write_open_data(facts, docs_dir, cache_dir, record_keys, figures_pack)
        write_extras(facts, docs_dir, site_files, cache_dir, record_keys)
    finally:
        gc.unfreeze()


def _repo_root_of(data_dir: Path) -> Path:
    path = Path(data_dir).resolve()
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    return path


def build_site(data_dir: Path, out_dir: Path, as_of: date | None = None, history: bool = True,
               build_dir: Path | None = None, report: Callable[[str], None] = lambda line: None) -> BuildResult:
    """The whole pipeline into out_dir (see the module docstring)."""
    sitedir.check_target(out_dir, protect=[Path(data_dir)])  # before any work: never a data or repository folder
    timings: dict[str, float] = {}
    build_dir = Path(build_dir) if build_dir else sitefiles.build_dir()
    facts, warnings = prepare(Path(data_dir), as_of, _Timer(timings), build_dir / CACHE_DIR)
    for w in warnings:
        report(w.text())
    rendered = _render_stage(facts, Path(data_dir), build_dir, history, _Timer(timings))
    # The engine stage reads only what render wrote: dropping the facts here lets the engine
    # (MkDocs, Material's search index, stamping) run without them in memory, a few hundred
    # MB at 100,000 records.
    del facts
    result = _engine_stage(rendered, Path(data_dir), out_dir, build_dir, _Timer(timings))
    result.warnings.extend(warnings)
    return result


def build_from_facts(facts: Facts, data_dir: Path, out_dir: Path, *, history: bool = True,
                     build_dir: Path | None = None, timings: dict[str, float] | None = None) -> BuildResult:
    """render → engine → swap into out_dir, for facts already derived."""
    data_dir = Path(data_dir)
    sitedir.check_target(out_dir, protect=[data_dir])
    build_dir = Path(build_dir) if build_dir else sitefiles.build_dir()
    timer = _Timer({} if timings is None else timings)
    return _engine_stage(_render_stage(facts, data_dir, build_dir, history, timer), data_dir, out_dir, build_dir, timer)


@dataclass(frozen=True)
class _Rendered:
    """What the engine stage needs of a render (everything else is in the build folder)."""
    as_of: date
    identity: publication_mod.Identity
    timezone: str
    pages_written: int


def _render_stage(facts: Facts, data_dir: Path, build_dir: Path, history: bool, timer: _Timer) -> _Rendered:
    from generator import engine
    from generator.render import DEFAULT_TEMPLATES_DIR, site_settings

    pages = render_sources(facts, data_dir, build_dir, history, timer)
    identity = publication_mod.identify(data_dir)
    engine.write_config(build_dir, sitefiles.base_config(), DEFAULT_TEMPLATES_DIR,
                        site_settings(facts, publication_mod.mkdocs_extra(identity)))
    return _Rendered(facts.as_of, identity, facts.site.timezone, pages)


def _engine_stage(rendered: _Rendered, data_dir: Path, out_dir: Path, build_dir: Path, timer: _Timer) -> BuildResult:
    from generator import engine
    from generator.engine.reuse import Spare

    out_dir = sitedir.check_target(out_dir, protect=[data_dir])
    # The published site (if any): its unchanged stamped pages are linked, not written again.
    previous = out_dir if (out_dir / sitedir.MARKER).is_file() else None
    # The old site stays until the new is in; then its bare folders are kept for the next build.
    spare = Spare(build_dir)
    with sitedir.replacing(out_dir, protect=[data_dir], dispose=spare.keep) as staging:
        with timer("构建网站"):
            try:
                result = engine.build(build_dir, staging, as_of=rendered.as_of, timezone=rendered.timezone,
                                      previous_site=previous)
            except engine.EngineFailed as exc:
                raise BuildFailed(str(exc)) from None
            # The old site's files the new one shares stay in the spare (reuse.Spare.keep).
            record = result.stamp_record
            spare.shared = record.new if record is not None else None
            # The old site's page folders known without reading them (StampRecord.settle).
            spare.known = (record.old_plain, record.old_settled) if record is not None and record.old_settled else None
        with timer("发布清单"):
            # One walk of the new site: the manifest's file list, each file made world-readable
            # on the way (which spares sitedir its own walk); the files the engine wrote from
            # bytes are neither stat'ed nor read back (their digests come from the engine).
            digests = publication_mod.FileDigests(build_dir / CACHE_DIR / "site-digests.json", result.written)
            files = sitedir.readable_files(staging, known=digests.written, folders=result.folders)
            manifest = publication_mod.write_manifest(staging, rendered.identity, rendered.as_of, digests, files)
        # Every file of the site is in the manifest but the manifests themselves (no second walk).
        files = len(manifest["files"]) + sum(1 for rel in publication_mod.MANIFEST_PATHS if (staging / rel).is_file())
    engine.build_finished(result, out_dir)  # only now: the new site is the published one
    digests.save()
    return BuildResult(out_dir, rendered.as_of, timer.timings, [], rendered.pages_written, files, result.stamped_pages,
                       result.engine_reused, result.pages_linked)
