"""Build the site with MkDocs + Material, then stamp the generator's HTML pages into shells.

Public interfaces only: ``mkdocs.config.load_config`` and ``mkdocs.commands.build.build``
(strict mode), the configuration written as ``mkdocs.yml`` (INHERITing the repository's),
front matter, the theme's template blocks, and the files MkDocs writes.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import logging
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timezone as dt_timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from generator import figures, pack, sitefiles
from generator.engine import reuse, search, stylesheet
from generator.engine.stamp import SHELL_MARKDOWN, Shell
from generator.offline import keep_requests_on_site
from generator.problems import GeneratorError

#: The generator's pages rendered to HTML (written by the render stage): a pack (see
#: generator/pack.py), one entry per page: its URL, then shell, title, toc, search; the body.
PAGES_PACK = "pages.pack"
#: Raw HTML blocks of Markdown pages, put back after the build: a pack, one entry per
#: page: its docs path, the blocks' sizes; the blocks one after the other.
BLOCKS_PACK = "blocks.pack"
_BLOCK = re.compile(r"<p>ZQBLOCK-([0-9]+)-ZQ</p>")
#: The 开放数据 page's figures (generator/figures.py), written by the open-data stage: a pack in
#: the format of BLOCKS_PACK, whose entries' meta hold ``figures`` (a page's figures in order;
#: BLOCKS_PACK's entries may hold them too).
DATA_FIGURES_PACK = "data-figures.pack"
#: Files placed into the built site as they are (letters: one per record), beside the engine:
#: a pack (see generator/pack.py), one entry per file: its site-relative path, {}, its bytes.
#: The engine neither collects nor copies them; each is written straight into the site (or
#: linked from the published site when its bytes did not change, see reuse.StampRecord).
SITE_FILES_PACK = "site-files.pack"
#: Where an earlier build kept those files, one file each (removed when found: a cache).
_OLD_SITE_FILES_DIR = "site-files"
#: A shell's file name in its folder (docs/<folder>/<name>): built, split, then removed.
SHELL_NAME = "zq-shell-{kind}.md"


class EngineFailed(GeneratorError):
    exit_code = 1


@dataclass(frozen=True)
class EngineResult:
    site_dir: Path
    markdown_pages: int
    stamped_pages: int
    engine_reused: bool = False  # MkDocs' output of the last build taken as it was (reuse.Snapshot)
    pages_linked: int = 0  # stamped pages hard-linked from the published site (reuse.StampRecord)
    stamp_record: "reuse.StampRecord | None" = None  # to save once the new site is in place

    #: Site-relative folders the engine made (0755) and wrote every file of (the stamped
    #: pages' folders) → the names of their files: nobody needs to list them again.
    folders: dict = field(default_factory=dict)

    @property
    def written(self) -> dict[str, str]:
        """Site-relative path → SHA-256 of the files the engine put from bytes it held (stamped
        pages, letters), each world-readable already: the manifest need not read them back."""
        return self.stamp_record.written if self.stamp_record is not None else {}


def build_finished(result: EngineResult, site: Path) -> None:
    """Call once the built site is in place at `site`: the next build may link its stamped pages."""
    if result.stamp_record is not None:
        result.stamp_record.save(Path(site))


def write_config(build_dir: Path, base_config: Path, templates_dir: Path, settings: dict) -> Path:
    """build_dir/mkdocs.yml: INHERITs the repository's mkdocs.yml; site name, URL and
    ``extra.zq`` (what the theme overrides show) from the site settings; ``hooks``: the
    engine's plugin events (engine/hooks.py)."""
    build_dir = Path(build_dir)
    config = {
        "INHERIT": Path(os.path.relpath(Path(base_config).resolve(), build_dir.resolve())).as_posix(),
        "docs_dir": "docs",
        "site_name": settings["site_name"],
        "site_url": settings["site_url"],
        "theme": {"custom_dir": Path(os.path.relpath(Path(templates_dir).resolve() / "overrides",
                                                     build_dir.resolve())).as_posix()},
        "extra": {"zq": settings["zq"]},
        # Plugin events of ours (engine/hooks.py): the theme's templates compiled once per machine.
        "hooks": [Path(os.path.relpath(Path(__file__).resolve().with_name("hooks.py"), build_dir.resolve())).as_posix()],
    }
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=True, width=10_000).encode("utf-8")
    path = build_dir / "mkdocs.yml"
    from generator.files import write_if_changed

    build_dir.mkdir(parents=True, exist_ok=True)
    write_if_changed(path, text)
    return path


class _CollectWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _pages(build_dir: Path, bodies: bool = True):
    """(url, meta, body) of each page of the pages pack, one at a time (none without a pack)."""
    path = Path(build_dir) / PAGES_PACK
    return pack.entries(path, bodies=bodies) if path.is_file() else iter(())


#: A pages.pack entry's meta as the render writes it: the shell's kind first (a plain name).
_SHELL_FIRST = re.compile(rb'\{"shell":"([A-Za-z0-9_-]+)"[,}]')


def _shell_of(raw: bytes) -> str:
    """The "shell" of a page's meta (its JSON text) without parsing the rest (the page's whole
    search text, 8,300 times a build): read from the front when it comes first, alone."""
    m = _SHELL_FIRST.match(raw)
    if m is not None and raw.count(b'"shell":') == 1:
        return m.group(1).decode("ascii")
    return json.loads(raw)["shell"]


#: The render key after the shell at the front of a page's meta (render._render writes them so).
_SHELL_AND_KEY = re.compile(rb'\{"shell":"[A-Za-z0-9_-]+","key":"([0-9a-f]{40,64})"[,}]')


def _key_of(raw: bytes) -> bytes | None:
    """The render key of a page's meta (its JSON text), None without one; read from the front
    as _shell_of reads the shell, and only when the meta names one key."""
    m = _SHELL_AND_KEY.match(raw)
    if m is not None and raw.count(b'"key":') == 1:
        return m.group(1)
    return None


def _shell_path(page_url: str, kind: str) -> str:
    folder = page_url.rstrip("/").rpartition("/")[0]
    name = SHELL_NAME.format(kind=kind)
    return f"{folder}/{name}" if folder else name


def _code_folders() -> list[Path]:
    """Where the record pages' markup comes from: the generator's code and templates."""
    return [Path(__file__).resolve().parent.parent, sitefiles.templates_dir()]


def _url_of(docs_path: str) -> str:
    return docs_path[:-3] + "/"


def build(build_dir: Path, site_dir: Path, *, as_of: date, timezone: str, site_url: str = "",
          previous_site: Path | None = None) -> EngineResult:
    """Build build_dir/docs (with build_dir/mkdocs.yml, see write_config) into site_dir
    strictly, then stamp the pages of build_dir/pages.pack. Raises EngineFailed.

    A rebuild reuses what did not change (see reuse.py): MkDocs' output when none of its
    inputs changed, and the stamped pages of previous_site (the published site that
    site_dir will replace) whose bytes are unchanged. Call build_finished() once site_dir
    is in place."""
    try:
        return _build(build_dir, site_dir, as_of=as_of, timezone=timezone, site_url=site_url,
                      previous_site=previous_site)
    except pack.PackError:
        # The render stage writes both packs just before; a damaged one means another build
        # used the same build folder at the same time.
        raise EngineFailed(f"中间文件 {Path(build_dir) / PAGES_PACK} 或 {BLOCKS_PACK} 已损坏（可能有另一个生成过程"
                           "同时使用了同一个 build 文件夹），原网站保持不变。请重新运行 generator build。") from None


def _build(build_dir: Path, site_dir: Path, *, as_of: date, timezone: str, site_url: str,
           previous_site: Path | None) -> EngineResult:
    build_dir, site_dir = Path(build_dir), Path(site_dir)
    docs = build_dir / "docs"
    shells: dict[str, str] = {}  # docs path of the shell → kind
    path = build_dir / PAGES_PACK
    for url, raw, _ in pack.entries(path, bodies=False, raw_meta=True) if path.is_file() else ():
        kind = _shell_of(raw)
        shells.setdefault(_shell_path(url, kind), kind)
    for path in shells:
        if (docs / path).exists():
            raise EngineFailed(f"页面 {path} 与外壳页面重名。")

    midnight = datetime.combine(as_of, dtime(0, 0), tzinfo=ZoneInfo(timezone))
    epoch = int(midnight.timestamp())
    config_path = build_dir / "mkdocs.yml"
    base_config, overrides = _config_inputs(config_path)
    snapshot = reuse.Snapshot(build_dir)
    key, statics = reuse.engine_key(build_dir, docs, overrides, base_config, shells, epoch, _code_folders())
    saved = snapshot.matches(key)
    swap = saved.get("swap") if saved is not None else None
    if swap is not None and not (isinstance(swap, list) and len(swap) == 2 and all(isinstance(s, str) for s in swap)):
        saved = None  # a damaged key file
    if saved is not None:  # none of the inputs changed: MkDocs' last output, as _trim_engine_pages left it
        # (jieba not imported: search._words quiets it when a new run of text needs it)
        snapshot.restore(saved, docs, site_dir)
        site_url = saved.get("site_url", "")
        keep_requests_on_site(site_dir)  # the files from docs/, as after a MkDocs run
        _trim_copied_pages(site_dir, saved["from_docs"], tuple(swap) if swap else None)
    else:
        snapshot.forget()
        site_url = _run_mkdocs(build_dir, docs, site_dir, shells, epoch)
        swap = _trim_engine_pages(build_dir, site_dir)
        snapshot.save(key, statics, site_dir, site_url, {"swap": list(swap) if swap else None})

    shell_pages = _finish_engine_pages(build_dir, site_dir, {_url_of(p) for p in shells})
    spare = reuse.Spare(build_dir)
    try:  # the last site's folders (and shared files) around the engine's output: no mkdir per record page
        adopted = spare.adopt(site_dir)
    except OSError as exc:
        raise EngineFailed(f"网站的文件夹未能就位，原网站保持不变：{exc}") from None
    record = reuse.StampRecord(build_dir, previous_site)
    record.present = spare.files  # taken as they are when unchanged, else replaced
    placed = _place_site_files(build_dir / SITE_FILES_PACK, site_dir, record)
    files_linked = record.linked
    folders: dict[str, tuple[str, ...]] = {}
    # The spare's folders that will hold nothing but their page: as known as new ones.
    plain = {rel for rel, names in spare.plain.items() if rel not in placed and set(names) <= {"index.html"}}
    stamped = _stamp_all(build_dir, site_dir, shells, shell_pages, site_url, epoch, record, folders, plain)
    dropped = record.drop_unclaimed(os.fspath(site_dir))  # the spare's files of pages no longer in the site
    if adopted is not None:
        reuse.Spare.prune([*adopted, *dropped], os.fspath(site_dir))  # the folders of pages no longer in the site
    record.settle(os.fspath(site_dir), folders)  # every page is in place
    markdown_pages = sum(1 for _ in docs.rglob("*.md"))
    return EngineResult(site_dir, markdown_pages, stamped, saved is not None, record.linked - files_linked, record,
                        folders)


def _config_inputs(config_path: Path) -> tuple[Path | None, Path | None]:
    """The repository's mkdocs.yml that build_dir/mkdocs.yml INHERITs and the theme's
    overrides folder, as write_config named them (inputs of MkDocs' output)."""
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None, None
    folder = config_path.parent
    inherit = config.get("INHERIT")
    custom = (config.get("theme") or {}).get("custom_dir") if isinstance(config.get("theme"), dict) else None
    return (folder / inherit if inherit else None), (folder / custom if custom else None)


def _run_mkdocs(build_dir: Path, docs: Path, site_dir: Path, shells: dict[str, str], epoch: int) -> str:
    """MkDocs (strict) over docs/ and the shells into site_dir; returns the site URL."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    for path in shells:
        target = docs / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(SHELL_MARKDOWN, encoding="utf-8")
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)  # MkDocs' documented way to pin its dates
    search.quiet()
    handler = _CollectWarnings()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    try:
        config = load_config(str(build_dir / "mkdocs.yml"), site_dir=str(site_dir), strict=True)
        site_url = config.site_url or ""
        mkdocs_build(config)
        keep_requests_on_site(site_dir)  # the theme's CDN loads → the site's own files
    except (MkDocsException, SystemExit, OSError) as exc:
        details = "\n".join(f"  - {m}" for m in handler.messages) or f"  - {exc}"
        raise EngineFailed(f"MkDocs 构建失败（严格模式下任何警告都视为错误），原网站保持不变：\n{details}") from None
    finally:
        logger.removeHandler(handler)
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
        for path in shells:
            try:
                (docs / path).unlink()
            except FileNotFoundError:
                pass
    return site_url


#: Kept as they are: an element whose white space is content or code, and every tag (its
#: attribute values may hold line breaks). What else matches is white space of the text
#: that holds a line break: the theme's indentation and blank lines.
_INDENT = re.compile(r"""(<(pre|textarea|script|style|code)\b.*?</\2\s*>"""
                     r"""|<[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>)"""
                     r"""|[ \t\r\n]*\n[ \t\r\n]*""", re.S | re.I)


def trim_indentation(html: str) -> str:
    """The theme's indentation and blank lines, each run reduced to one line break.

    Outside <pre>, <textarea>, <script>, <style> and <code>, a run of white space that
    holds a line break renders exactly as a single line break does (HTML collapses it to
    one space, or to nothing between blocks), so the page looks and reads the same; text,
    tags and attribute values are left exactly as they were. About 5 KB (18 %) of every
    record page is such white space.
    """
    return _INDENT.sub(lambda m: m.group(1) or "\n", html)


def _trim_engine_pages(build_dir: Path, site_dir: Path) -> tuple[str, str] | None:
    """Every page MkDocs wrote (the Markdown pages and the shells), right after it ran, each
    read once and written once: indentation trimmed and linked to the cut theme stylesheet
    (engine/stylesheet.py, which needs them all, and nothing else exists yet, to know which
    rules the site uses). Returns the stylesheet link's swap (see cut_theme_stylesheet).
    What this leaves is what the engine's snapshot keeps (reuse.Snapshot): a rebuild whose
    inputs did not change (reuse.engine_key digests the code folders too) neither reads nor
    trims these pages again."""
    paths = sorted(site_dir.rglob("*.html"))
    texts = [path.read_text(encoding="utf-8") for path in paths]
    pages = [trim_indentation(text) for text in texts]  # without their blocks: a few KB each
    swap = stylesheet.cut_theme_stylesheet(site_dir, pages, _code_folders(), Path(build_dir) / reuse.STYLESHEET_CUT)
    if swap:
        pages = [page.replace(*swap) for page in pages]
    for path, text, new in zip(paths, texts, pages):
        if new != text:
            reuse.replace_bytes(path, new.encode("utf-8"))
    return swap


def _trim_copied_pages(site_dir: Path, from_docs: list[str], swap: tuple[str, str] | None) -> None:
    """What _trim_engine_pages did to the HTML files MkDocs copied from docs/, done again to
    today's copies (the snapshot takes those files from docs/: see reuse.Snapshot.restore)."""
    for rel in from_docs:
        if rel.endswith(".html"):
            path = site_dir / rel
            text = path.read_text(encoding="utf-8")
            new = trim_indentation(text)
            if swap:
                new = new.replace(*swap)
            if new != text:
                reuse.replace_bytes(path, new.encode("utf-8"))


def _finish_engine_pages(build_dir: Path, site_dir: Path, shell_urls: set[str]) -> dict[str, str]:
    """The engine's pages with raw HTML blocks or figures get them back (blocks.pack and
    DATA_FIGURES_PACK, one page's at a time; the figures into the search index too); the
    shells are returned (URL → HTML) rather than written back: stamping learns from them,
    then removes them. Only those pages are read."""
    searched: dict[str, list[str]] = {}  # page URL → its figures, to put into the search index too
    for name in (BLOCKS_PACK, DATA_FIGURES_PACK):
        blocks_pack = Path(build_dir) / name
        for docs_path, meta, data in pack.entries(blocks_pack) if blocks_pack.is_file() else ():
            stem = docs_path[:-3]
            index = stem == "index" or stem.endswith("/index")
            path = site_dir / (stem + ".html" if index else stem + "/index.html")
            blocks, pos = [], 0
            for size in meta["sizes"]:
                blocks.append(data[pos:pos + size].decode("utf-8"))
                pos += size
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                text = ""
            restored = text
            if blocks:
                restored = _BLOCK.sub(lambda m: blocks[int(m.group(1))], text)
                if _BLOCK.search(text) is None or restored.count("ZQBLOCK-") != sum(b.count("ZQBLOCK-") for b in blocks):
                    raise EngineFailed(f"{docs_path}：页面中的 HTML 块没有按预期还原。")
            if meta.get("figures"):
                restored = _put_figures(docs_path, restored, meta["figures"])
                searched[stem[:-5] if index else stem + "/"] = meta["figures"]
            reuse.replace_bytes(path, restored.encode("utf-8"))  # may be a link into the engine's snapshot
    if searched:
        _put_search_figures(site_dir / "search" / "search_index.json", searched)
    return {url: (site_dir / url / "index.html").read_text(encoding="utf-8") for url in shell_urls}


def _put_figures(docs_path: str, text: str, values: list[str]) -> str:
    """The page's figures in place of their placeholders (generator/figures.py)."""
    try:
        restored = figures.PLACEHOLDER.sub(lambda m: values[int(m.group(1))], text)
    except IndexError:
        restored = None
    if restored is None or figures.PLACEHOLDER.search(text) is None or figures.IN_SLUG in text:
        raise EngineFailed(f"{docs_path}：页面中的数字占位符没有按预期还原（占位符不应出现在标题中）。")
    return restored


def _put_search_figures(path: Path, searched: dict[str, list[str]]) -> None:
    """The figures of the pages in `searched` (URL → figures) into the search index's entries of
    their sections, as Material would have written them from the pages with the figures: the
    same text at the placeholders' places (generator/figures.py). A placeholder left in one of
    those pages' entries fails the build."""
    if not path.is_file():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    for doc in index.get("docs", ()):
        values = searched.get(doc.get("location", "").split("#")[0])
        if values is not None:
            for field in ("title", "text"):
                if "ZQFIG-" in doc.get(field, ""):
                    doc[field] = figures.PLACEHOLDER.sub(lambda m: values[int(m.group(1))], doc[field])
            # A page with figures holds no placeholder text of its own (render and opendata leave
            # such a page's figures in its Markdown), so any left is one not put back. Other
            # pages' text may hold it: it is then the data's.
            if any(figures.holds_placeholder_text(doc.get(field, "")) for field in ("title", "text", "location")):
                raise EngineFailed("搜索索引中的数字占位符没有按预期还原。")
    data = json.dumps(index, separators=(",", ":"))  # as Material writes it
    reuse.replace_bytes(path, data.encode("utf-8"))  # may be a link into the engine's snapshot


#: A site file's meta as extras.write_extras writes it (the line's end included).
_SHA256_META = re.compile(rb'\{"sha256":"([0-9a-f]{64})"\}\n?')


def _place_site_files(path: Path, site_dir: Path, record: reuse.StampRecord) -> set[str]:
    """The files of the site-files pack into the site, as they are: each written as a new
    file, or linked from the published site when its bytes did not change (record.put);
    never over a file the engine made. Returns the folders they went into (site-relative)."""
    old = path.with_name(_OLD_SITE_FILES_DIR)
    if old.is_dir():
        shutil.rmtree(old)
    made: set[str] = set()
    if not path.is_file():
        return made
    site = os.fspath(site_dir)
    for rel, raw, read_body in pack.lazy_entries(path, raw_meta=True):
        folder = os.path.dirname(rel)
        if folder not in made:
            os.makedirs(os.path.join(site, folder), exist_ok=True)
            made.add(folder)
        m = _SHA256_META.fullmatch(raw)  # the file's digest (extras.write_extras): its bytes read only when new
        try:
            record.put(rel, os.path.join(site, rel), read_body, exclusive=True, digest=m.group(1).decode() if m else None)
        except FileExistsError:
            raise EngineFailed(f"{rel}：网站中已有同名文件。") from None
        except ValueError:  # its bytes are not those its digest names: written by another build meanwhile
            raise pack.PackError(f"{path}: {rel} does not match its digest") from None
    return made


def _stamp_all(build_dir: Path, site_dir: Path, shells: dict[str, str], shell_pages: dict[str, str],
               site_url: str, epoch: int, record: reuse.StampRecord, folders: dict[str, tuple[str, ...]],
               plain: set[str] = frozenset()) -> int:
    """Stamp every page of the pages pack into its shell, and add its search and sitemap
    entries as it goes: one page in memory at a time. Fills `folders` (EngineResult.folders)
    with the pages' folders made here, when a new folder gets mode 0755 (the usual umask),
    and those in `plain`: the spare's folders that are 0755, have no subfolder and hold
    nothing but the page's file (reuse.Spare.plain)."""
    learnt: dict[str, Shell] = {}
    for path in shells:
        url = _url_of(path)
        learnt[path] = Shell(shell_pages[url], url, site_url)
        shutil.rmtree(site_dir / url)
    shell_urls = {_url_of(p) for p in shells}
    # Plain strings and os calls: this loop runs once per record page (pathlib costs more than the join).
    site = os.fspath(site_dir)
    made: set[str] = set()
    fresh_mode: bool | None = None  # whether os.mkdir makes 0755 folders (known after the first)
    page_only = ("index.html",)
    stamped = 0
    entries = reuse.SearchEntries(build_dir)
    common = _stamp_common(shells, shell_pages, site_url, epoch)
    path = Path(build_dir) / PAGES_PACK
    with _SearchIndex(site_dir, shell_urls, entries) as index, _Sitemap(site_dir, shell_urls, site_url, epoch) as sitemap:
        for url, raw, read_body in pack.lazy_entries(path, raw_meta=True) if path.is_file() else ():
            # What the stamped bytes are made from: the shells, site URL and date (common) and
            # the page's entry, which its render key stands for when it has one (render.HtmlPage.key:
            # equal keys, equal entries), else its bytes. An unchanged one is linked from the
            # published site unstamped, its body not even read.
            source = common.copy()
            key = _key_of(raw)
            body = None
            if key is not None:
                source.update(b"key\0%d\0%s\0%s" % (len(url), url.encode("utf-8"), key))
            else:
                body = read_body()
                source.update(b"%d\0%s\0%d\0%s\0" % (len(url), url.encode("utf-8"), len(raw), raw))
                source.update(body)
            source = source.hexdigest()
            folder = os.path.join(site, url)
            rel = url + "index.html"
            target = os.path.join(folder, "index.html")
            new = url.rstrip("/") in plain
            if rel not in record.present and not new:  # (a file of the spare's is in its folder already)
                parent = os.path.dirname(folder.rstrip("/"))
                if parent not in made:
                    os.makedirs(parent, exist_ok=True)
                    made.add(parent)
                try:
                    os.mkdir(folder)
                    if fresh_mode is None:
                        fresh_mode = stat.S_IMODE(os.stat(folder).st_mode) == 0o755
                    new = fresh_mode
                except FileExistsError:
                    pass
            linked = record.link(rel, target, source)
            entry = index.made_from(url, source)  # an unchanged page's search entry
            if not linked or entry is None:
                p = json.loads(raw)
            if not linked:
                shell = learnt[_shell_path(url, p["shell"])]
                if body is None:
                    body = read_body()
                if b"\r" in body:  # as text mode reads it (universal newlines)
                    body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
                data = shell.stamp_bytes(title=p["title"], url=url, site_url=site_url, toc=p["toc"], body=body)
                record.put(rel, target, data, source=source)  # written, or linked
            if new and rel in record.written:
                folders[url.rstrip("/")] = page_only
            if entry is not None:
                index.add_entry(entry)
            else:
                index.add(url, p["title"], p["search"], source)
            sitemap.add(url)
            stamped += 1
    entries.save()
    return stamped


def _stamp_common(shells: dict[str, str], shell_pages: dict[str, str], site_url: str, epoch: int):
    """A SHA-1 (to copy per page) of what every stamped page is made from besides its pack
    entry: the shells' HTML, the site URL, the build date and the stamping code."""
    digest = hashlib.sha1(repr((site_url, epoch, sorted(shells.items()))).encode("utf-8", "surrogatepass"))
    for path in sorted(shells):
        text = shell_pages[_url_of(path)].encode("utf-8", "surrogatepass")
        digest.update(b"%d\0%s" % (len(text), text))
    here = Path(__file__).resolve().parent
    for code in ("build.py", "stamp.py"):
        digest.update((here / code).read_bytes())
    return digest


class _SearchIndex:
    """Material's index of the Markdown pages, plus one entry per stamped page (from the
    facts), written as the pages come: Material's index (small: the Markdown pages only)
    is read whole, the stamped pages' entries never are. The bytes are json.dumps' of the
    whole index."""

    _DOCS = "ZQ-SEARCH-DOCS"

    def __init__(self, site_dir: Path, shell_urls: set[str], cache: reuse.SearchEntries | None = None):
        self.path = site_dir / "search" / "search_index.json"
        self.cache = cache
        self.out = None
        if not self.path.is_file():
            return
        index = json.loads(self.path.read_text(encoding="utf-8"))
        docs = [d for d in index["docs"] if d.get("location", "").split("#")[0] not in shell_urls]
        index["docs"] = self._DOCS
        # UTF-8 rather than \u escapes: half the bytes for Chinese text.
        head, sep, self.tail = self._dumps(index).partition(self._dumps(self._DOCS))
        if not sep:
            raise EngineFailed("搜索索引的格式无法识别。")
        self.out = reuse.open_new(self.path, buffering=1 << 20)
        self.out.write(head + b"[" + b",".join(self._dumps(d) for d in docs))
        self.first = not docs

    @staticmethod
    def _dumps(value) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def add(self, url: str, title: str, text: str | None, source: str | None = None) -> None:
        """The page's entry (none when text is None); `source`: what the page was made from,
        for SearchEntries.made_from next time."""
        if self.out is None or text is None:
            return
        def make(segment=search.segment) -> str:
            return self._dumps({"location": url, "title": segment(title), "text": segment(text)}).decode("utf-8")

        self.add_entry(make() if self.cache is None else self.cache.entry(url, title, text, make, source))

    def made_from(self, url: str, source: str) -> str | None:
        """The page's entry as the last build made it from the same source (see add_entry), or None."""
        if self.out is None or self.cache is None:
            return None
        return self.cache.made_from(url, source)

    def add_entry(self, entry: str) -> None:
        """An entry as add() made it (JSON text)."""
        data = entry.encode("utf-8")
        self.out.write(data if self.first else b"," + data)
        self.first = False

    def __enter__(self) -> "_SearchIndex":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.out is not None:
            if exc_type is None:
                self.out.write(b"]" + self.tail)
            self.out.close()


_URL_ENTRY = re.compile(r"\s*<url>\s*<loc>([^<]*)</loc>.*?</url>", re.S)


class _Sitemap:
    """The engine's sitemap without the shells, plus one entry per stamped page, written
    (and gzipped) as the pages come."""

    def __init__(self, site_dir: Path, shell_urls: set[str], site_url: str, epoch: int):
        path = site_dir / "sitemap.xml"
        self.out = self.gz = None
        if not path.is_file() or not site_url:
            return
        text = path.read_text(encoding="utf-8")
        shells = {site_url + u for u in shell_urls}
        text = _URL_ENTRY.sub(lambda m: "" if m.group(1) in shells else m.group(0), text)
        self.site_url = site_url
        self.lastmod = datetime.fromtimestamp(epoch, dt_timezone.utc).date().isoformat()
        end = text.rindex("</urlset>")
        self.tail = ("\n" + text[end:]).encode("utf-8")
        self.out = reuse.open_new(path, buffering=1 << 20)
        self.gz = gzip.GzipFile(filename=str(path) + ".gz", mode="wb", mtime=epoch,
                                fileobj=reuse.open_new(site_dir / "sitemap.xml.gz", buffering=1 << 20))
        self._write(text[:end].rstrip("\n").encode("utf-8"))

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.gz.write(data)

    def add(self, url: str) -> None:
        if self.out is not None:
            # (&, < and > escaped as xml.sax.saxutils.escape does, without its imports: urllib, http, ssl)
            self._write(f"\n    <url>\n         <loc>{html.escape(self.site_url + url, quote=False)}</loc>\n"
                        f"         <lastmod>{self.lastmod}</lastmod>\n    </url>".encode("utf-8"))

    def __enter__(self) -> "_Sitemap":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.out is not None:
            if exc_type is None:
                self._write(self.tail)
            self.out.close()
            fileobj = self.gz.fileobj
            self.gz.close()
            fileobj.close()
