"""Build the site with MkDocs + Material, then stamp the generator's HTML pages into shells.

Public interfaces only: ``mkdocs.config.load_config`` and ``mkdocs.commands.build.build``
(strict mode), the configuration written as ``mkdocs.yml`` (INHERITing the repository's),
front matter, the theme's template blocks, and the files MkDocs writes.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timezone as dt_timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from generator import sitefiles
from generator.engine import search, stylesheet
from generator.engine.stamp import SHELL_MARKDOWN, Shell
from generator.offline import keep_requests_on_site
from generator.problems import GeneratorError

#: The generator's pages rendered to HTML (written by the render stage).
PAGES_MANIFEST = "pages.json"
PAGES_DIR = "pages"
#: Raw HTML blocks of Markdown pages (docs path → blocks), put back after the build.
BLOCKS_FILE = "blocks.json"
_BLOCK = re.compile(r"<p>ZQBLOCK-([0-9]+)-ZQ</p>")
#: Files placed into the built site as they are (letters: one per record), beside the engine:
#: the engine neither collects nor copies them. Hard links where the file system allows.
SITE_FILES_DIR = "site-files"
#: A shell's file name in its folder (docs/<folder>/<name>): built, split, then removed.
SHELL_NAME = "zq-shell-{kind}.md"


class EngineFailed(GeneratorError):
    exit_code = 1


@dataclass(frozen=True)
class EngineResult:
    site_dir: Path
    markdown_pages: int
    stamped_pages: int


def write_config(build_dir: Path, base_config: Path, templates_dir: Path, settings: dict) -> Path:
    """build_dir/mkdocs.yml: INHERITs the repository's mkdocs.yml; site name, URL and
    ``extra.zq`` (what the theme overrides show) from the site settings."""
    build_dir = Path(build_dir)
    config = {
        "INHERIT": Path(os.path.relpath(Path(base_config).resolve(), build_dir.resolve())).as_posix(),
        "docs_dir": "docs",
        "site_name": settings["site_name"],
        "site_url": settings["site_url"],
        "theme": {"custom_dir": Path(os.path.relpath(Path(templates_dir).resolve() / "overrides",
                                                     build_dir.resolve())).as_posix()},
        "extra": {"zq": settings["zq"]},
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


def _read_manifest(build_dir: Path) -> list[dict]:
    path = Path(build_dir) / PAGES_MANIFEST
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["pages"]


def _shell_path(page_url: str, kind: str) -> str:
    folder = page_url.rstrip("/").rpartition("/")[0]
    name = SHELL_NAME.format(kind=kind)
    return f"{folder}/{name}" if folder else name


def _code_folders() -> list[Path]:
    """Where the record pages' markup comes from: the generator's code and templates."""
    return [Path(__file__).resolve().parent.parent, sitefiles.templates_dir()]


def _url_of(docs_path: str) -> str:
    return docs_path[:-3] + "/"


def build(build_dir: Path, site_dir: Path, *, as_of: date, timezone: str, site_url: str = "") -> EngineResult:
    """Build build_dir/docs (with build_dir/mkdocs.yml, see write_config) into site_dir
    strictly, then stamp the pages of build_dir/pages.json. Raises EngineFailed."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    build_dir, site_dir = Path(build_dir), Path(site_dir)
    docs = build_dir / "docs"
    pages = _read_manifest(build_dir)
    shells: dict[str, str] = {}  # docs path of the shell → kind
    for p in pages:
        shells.setdefault(_shell_path(p["url"], p["shell"]), p["shell"])
    for path in shells:
        target = docs / path
        if target.exists():
            raise EngineFailed(f"页面 {path} 与外壳页面重名。")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(SHELL_MARKDOWN, encoding="utf-8")

    midnight = datetime.combine(as_of, dtime(0, 0), tzinfo=ZoneInfo(timezone))
    epoch = int(midnight.timestamp())
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

    _trim_indentation(site_dir)
    _restore_blocks(build_dir, site_dir)
    _place_site_files(build_dir / SITE_FILES_DIR, site_dir)
    stamped = _stamp_all(build_dir, site_dir, pages, shells, site_url)
    _add_search_entries(site_dir, pages, {_url_of(p) for p in shells})
    _add_sitemap_entries(site_dir, pages, {_url_of(p) for p in shells}, site_url, epoch)
    markdown_pages = sum(1 for _ in docs.rglob("*.md"))
    return EngineResult(site_dir, markdown_pages, stamped)


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


def _trim_indentation(site_dir: Path) -> None:
    """Every page the engine wrote (the Markdown pages and the shells, before stamping):
    indentation trimmed, and linked to the cut theme stylesheet (engine/stylesheet.py),
    which needs them all (and nothing else exists yet) to know which rules the site uses."""
    pages = sorted(site_dir.rglob("*.html"))
    texts = [path.read_text(encoding="utf-8") for path in pages]
    trimmed = [trim_indentation(text) for text in texts]
    swap = stylesheet.cut_theme_stylesheet(site_dir, trimmed, _code_folders())
    for path, text, new in zip(pages, texts, trimmed):
        if swap:
            new = new.replace(*swap)
        if new != text:
            path.write_text(new, encoding="utf-8")


def _place_site_files(root: Path, site_dir: Path) -> None:
    """build_dir/site-files/** into the site, as they are. A hard link is safe: the writer
    replaces a changed file (a new inode), never rewrites one in place."""
    if not root.is_dir():
        return
    root_s, site = os.fspath(root), os.fspath(site_dir)
    for dirpath, _dirs, names in os.walk(root_s):
        if not names:
            continue
        rel = os.path.relpath(dirpath, root_s)
        folder = site if rel == os.curdir else os.path.join(site, rel)
        os.makedirs(folder, exist_ok=True)
        for name in sorted(names):
            src, target = os.path.join(dirpath, name), os.path.join(folder, name)
            try:
                os.link(src, target)
                continue
            except FileExistsError:
                pass
            except OSError:  # another file system, or links not allowed
                if not os.path.lexists(target):
                    shutil.copyfile(src, target)
                    continue
            raise EngineFailed(f"{Path(os.path.relpath(target, site)).as_posix()}：网站中已有同名文件。")


def _restore_blocks(build_dir: Path, site_dir: Path) -> None:
    path = build_dir / BLOCKS_FILE
    if not path.is_file():
        return
    for docs_path, blocks in json.loads(path.read_text(encoding="utf-8")).items():
        stem = docs_path[:-3]
        out = site_dir / (stem + ".html" if stem == "index" or stem.endswith("/index") else stem + "/index.html")
        text = out.read_text(encoding="utf-8")
        restored = _BLOCK.sub(lambda m: blocks[int(m.group(1))], text)
        if _BLOCK.search(text) is None or restored.count("ZQBLOCK-") != sum(b.count("ZQBLOCK-") for b in blocks):
            raise EngineFailed(f"{docs_path}：页面中的 HTML 块没有按预期还原。")
        out.write_text(restored, encoding="utf-8")


def _stamp_all(build_dir: Path, site_dir: Path, pages: list[dict], shells: dict[str, str], site_url: str) -> int:
    learnt: dict[str, Shell] = {}
    for path in shells:
        url = _url_of(path)
        out = site_dir / url / "index.html"
        learnt[path] = Shell(out.read_text(encoding="utf-8"), url, site_url)
        shutil.rmtree(site_dir / url)
    # Plain strings and os calls: this loop runs once per record page (pathlib costs more than the join).
    pages_dir = os.fspath(build_dir / PAGES_DIR)
    site = os.fspath(site_dir)
    made: set[str] = set()
    for p in pages:
        shell = learnt[_shell_path(p["url"], p["shell"])]
        with open(os.path.join(pages_dir, p["file"]), "rb") as fh:
            body = fh.read()
        if b"\r" in body:  # as text mode reads it (universal newlines)
            body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        folder = os.path.join(site, p["url"])
        parent = os.path.dirname(folder.rstrip("/"))
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        try:
            os.mkdir(folder)
        except FileExistsError:
            pass
        data = shell.stamp_bytes(title=p["title"], url=p["url"], site_url=site_url, toc=p["toc"], body=body)
        with open(os.path.join(folder, "index.html"), "wb") as fh:
            fh.write(data)
    return len(pages)


def _add_search_entries(site_dir: Path, pages: list[dict], shell_urls: set[str]) -> None:
    """Material's index of the Markdown pages, plus one entry per stamped page (from the facts)."""
    index_path = site_dir / "search" / "search_index.json"
    if not index_path.is_file():
        return
    index = json.loads(index_path.read_text(encoding="utf-8"))
    docs = [d for d in index["docs"] if d.get("location", "").split("#")[0] not in shell_urls]
    for p in pages:
        if p.get("search") is None:
            continue
        docs.append({"location": p["url"], "title": search.segment(p["title"]), "text": search.segment(p["search"])})
    index["docs"] = docs
    # UTF-8 rather than \u escapes: half the bytes for Chinese text.
    index_path.write_bytes(json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


_URL_ENTRY = re.compile(r"\s*<url>\s*<loc>([^<]*)</loc>.*?</url>", re.S)


def _add_sitemap_entries(site_dir: Path, pages: list[dict], shell_urls: set[str], site_url: str, epoch: int) -> None:
    path = site_dir / "sitemap.xml"
    if not path.is_file() or not site_url:
        return
    text = path.read_text(encoding="utf-8")
    shells = {site_url + u for u in shell_urls}
    text = _URL_ENTRY.sub(lambda m: "" if m.group(1) in shells else m.group(0), text)
    lastmod = datetime.fromtimestamp(epoch, dt_timezone.utc).date().isoformat()
    from xml.sax.saxutils import escape

    entries = "".join(f"\n    <url>\n         <loc>{escape(site_url + p['url'])}</loc>\n"
                      f"         <lastmod>{lastmod}</lastmod>\n    </url>" for p in pages)
    end = text.rindex("</urlset>")
    text = text[:end].rstrip("\n") + entries + "\n" + text[end:]
    data = text.encode("utf-8")
    path.write_bytes(data)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, filename=str(path) + ".gz", mode="wb", mtime=epoch) as gz:
        gz.write(data)
    (site_dir / "sitemap.xml.gz").write_bytes(buf.getvalue())
