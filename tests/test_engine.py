"""The engine seam: one package knows MkDocs/Markdown/Material, through public APIs only;
pages stamped into shells equal what the engine would have built; Zensical builds the shells."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from generator.engine.stamp import SHELL_MARKDOWN, Shell, ShellError, TocEntry

ROOT = Path(__file__).resolve().parents[1]
ENGINE_LIBRARIES = re.compile(r"^\s*(?:from|import)\s+(mkdocs|markdown|material|pymdownx)\b", re.M)


def test_only_the_engine_imports_the_site_engine():
    offenders = []
    for path in sorted((ROOT / "generator").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("generator/engine/"):
            continue
        if ENGINE_LIBRARIES.search(path.read_text(encoding="utf-8")):
            offenders.append(rel)
    assert offenders == []


def test_no_private_attributes_of_the_engine_or_html_parser():
    """No `_`-prefixed name of mkdocs, markdown, material or html.parser, and no monkeypatching of them."""
    private = re.compile(r"\b(?:mkdocs|markdown|material|htmlparser|html\.parser|build_module|serve_module|md|_hp)"
                         r"(?:\.[A-Za-z]\w*)*\._[a-zA-Z]\w*")
    found = []
    for path in sorted((ROOT / "generator").rglob("*.py")):
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if private.search(line) or re.search(r"htmlStash|_RawHTMLPreprocessor|_build_theme_template|is_modified\s*=",
                                                 line):
                found.append(f"{path.relative_to(ROOT)}:{no}: {line.strip()}")
    assert found == []


def _mkdocs_shell(tmp_path: Path) -> str:
    """A real shell page built by MkDocs + Material with the repository's theme."""
    import yaml

    build = tmp_path / "build"
    (build / "docs" / "commitments").mkdir(parents=True)
    (build / "docs" / "index.md").write_text("# 首页\n", encoding="utf-8")
    for page in ("commitments/index.md", "arrears/index.md", "findings/index.md", "evaluations/index.md",
                 "tasks/index.md", "departments/index.md", "changes/index.md", "data/index.md", "data/dictionary.md", "about.md",
                 "policy.md", "objection.md", "methodology.md", "guide.md"):
        (build / "docs" / page).parent.mkdir(parents=True, exist_ok=True)
        (build / "docs" / page).write_text(f"# {page}\n\n## 信用修复\n", encoding="utf-8")
    (build / "docs" / "commitments" / "zq-shell-commitments.md").write_text(SHELL_MARKDOWN, encoding="utf-8")
    config = {"INHERIT": str(ROOT / "mkdocs.yml"), "docs_dir": "docs", "site_url": "https://example.gov.cn/",
              "theme": {"custom_dir": str(ROOT / "site_templates" / "overrides")}}
    (build / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(build / "mkdocs.yml"),
                          "-d", str(tmp_path / "site")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return (tmp_path / "site" / "commitments" / "zq-shell-commitments" / "index.html").read_text(encoding="utf-8")


def test_stamping_fills_title_canonical_contents_and_body(tmp_path):
    shell = Shell(_mkdocs_shell(tmp_path), "commitments/zq-shell-commitments/", "https://example.gov.cn/")
    toc = [TocEntry(2, "基本信息", "基本信息"), TocEntry(2, "账款", "拖欠中小企业账款"),
           TocEntry(3, "年度", "年度情况"), TocEntry(2, "对本记录有异议", "对本记录有异议？")]
    page = shell.stamp(title="某承诺（CM-2024-001）", url="commitments/CM-2024-001/", site_url="https://example.gov.cn/",
                       toc=toc, body='<div class="zq-record"><h1>某承诺</h1></div>\n<h2 id="基本信息">基本信息</h2>\n')
    assert "ZQSHELL" not in page and "zqshell" not in page
    assert "<title>某承诺（CM-2024-001） - " in page
    assert '<link rel="canonical" href="https://example.gov.cn/commitments/CM-2024-001/">' in page
    assert '<a href="#基本信息" class="md-skip">' in page  # the skip link goes to the first heading
    assert page.count("<h1") == 1  # ours; the theme adds none
    nav = page[page.index('data-md-component="toc"'):]
    nav = nav[:nav.index('data-md-component="content"')]
    hrefs = re.findall(r'href="#([^"]+)"', nav)
    assert hrefs == ["基本信息", "账款", "年度", "对本记录有异议"]
    assert 'aria-label="拖欠中小企业账款"' in nav  # the nested list of the entry with children
    assert page.index('data-md-component="toc"') < page.index('<div class="zq-record">')
    # The build stamps in UTF-8 (the shell encoded once): the same bytes, titles with braces and escapes too.
    body = '<div class="zq-record"><h1>某承诺</h1></div>\n<h2 id="基本信息">基本信息</h2>\n'
    assert shell.stamp_bytes(title="某承诺（CM-2024-001）", url="commitments/CM-2024-001/",
                             site_url="https://example.gov.cn/", toc=[(e.level, e.anchor, e.title) for e in toc],
                             body=body.encode("utf-8")) == page.encode("utf-8")
    odd = [TocEntry(2, "{0}", "a<b>{1}&"), TocEntry(3, "x", "}{"), TocEntry(3, "y", "y"), TocEntry(2, "z", "z")]
    odd_page = shell.stamp(title="{t}", url="u/", site_url="", toc=odd, body="")
    assert "a&lt;b&gt;{1}&amp;" in odd_page and 'href="#{0}"' in odd_page and "}{" in odd_page
    assert shell.stamp_bytes(title="{t}", url="u/", site_url="", toc=[(e.level, e.anchor, e.title) for e in odd],
                             body=b"") == odd_page.encode("utf-8")


def test_a_shell_without_its_placeholders_is_refused():
    with pytest.raises(ShellError):
        Shell("<html><body><p>没有占位符</p></body></html>", "x/zq-shell/", "")


def test_zensical_builds_the_shells_and_they_stamp(tmp_path):
    """Zensical (the successor that reads mkdocs.yml, MiniJinja templates) builds the theme and a shell."""
    zensical = shutil.which("zensical") or str(Path(sys.executable).with_name("zensical"))
    if not Path(zensical).exists():
        pytest.skip("zensical is not installed here (it is in the test extras: pip install -e '.[test]')")
    docs = tmp_path / "docs"
    for page in ("index.md", "commitments/index.md", "arrears/index.md", "findings/index.md", "evaluations/index.md",
                 "tasks/index.md", "departments/index.md", "changes/index.md", "data/index.md", "data/dictionary.md", "about.md",
                 "policy.md", "objection.md", "methodology.md", "guide.md"):
        (docs / page).parent.mkdir(parents=True, exist_ok=True)
        (docs / page).write_text(f"# {page}\n\n## 信用修复\n", encoding="utf-8")
    (docs / "commitments" / "zq-shell-commitments.md").write_text(SHELL_MARKDOWN, encoding="utf-8")
    shutil.copytree(ROOT / "site_templates" / "assets", docs / "assets")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("docs_dir: build/docs", "docs_dir: docs")
    config = config.replace("custom_dir: site_templates/overrides",
                            f"custom_dir: {ROOT / 'site_templates' / 'overrides'}")
    config = config.replace("\nextra:\n  generator: false\n",
                            "\nsite_url: https://example.gov.cn/\nextra:\n  generator: false\n"
                            "  zq: {as_of: '2026-11-26', sample: true, publisher: 测试单位, feed: feed.xml}\n")
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    run = subprocess.run([zensical, "build", "-f", str(tmp_path / "mkdocs.yml")], capture_output=True, text=True,
                         cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    site = tmp_path / "site"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "zq-sample" in home and "测试单位" in home  # our overrides ran under MiniJinja
    shell = Shell((site / "commitments" / "zq-shell-commitments" / "index.html").read_text(encoding="utf-8"),
                  "commitments/zq-shell-commitments/", "https://example.gov.cn/")
    page = shell.stamp(title="某承诺（CM-2024-001）", url="commitments/CM-2024-001/", site_url="https://example.gov.cn/",
                       toc=[TocEntry(2, "基本信息", "基本信息")], body="<h1>某承诺</h1>")
    assert "<title>某承诺（CM-2024-001）" in page and 'href="#基本信息"' in page and "ZQSHELL" not in page


def test_site_files_are_placed_as_they_are_and_never_over_a_page(tmp_path):
    from generator import pack
    from generator.engine import SITE_FILES_PACK, reuse
    from generator.engine.build import EngineFailed, _place_site_files

    build = tmp_path / "build"
    (build / "site-files" / "letters").mkdir(parents=True)  # an earlier build's letters, one file each
    (build / "site-files" / "letters" / "DF-2026-001.html").write_bytes(b"<p>gone</p>")
    letter = b"<p>letter</p>"
    with pack.PackWriter(build / SITE_FILES_PACK) as files:
        files.add("letters/CM-2024-001.html", {}, letter)
    site = tmp_path / "site"
    site.mkdir()
    record = reuse.StampRecord(build, None)
    umask = os.umask(0o022)
    try:
        _place_site_files(build / SITE_FILES_PACK, site, record)
    finally:
        os.umask(umask)
    assert (site / "letters" / "CM-2024-001.html").read_bytes() == letter
    assert not (build / "site-files").exists()  # a cache of removed records' letters: gone
    # The manifest takes the digest the writer had, of a file world-readable already.
    assert record.written == {"letters/CM-2024-001.html": hashlib.sha256(letter).hexdigest()}
    with pack.PackWriter(build / SITE_FILES_PACK) as files:
        files.add("index.html", {}, b"not the home page")
    (site / "index.html").write_bytes(b"home")
    with pytest.raises(EngineFailed):
        _place_site_files(build / SITE_FILES_PACK, site, reuse.StampRecord(build, None))
    assert (site / "index.html").read_bytes() == b"home"


# --- the theme's indentation --------------------------------------------------------------------


def test_indentation_becomes_one_line_break_and_nothing_else_changes():
    from generator.engine.build import trim_indentation

    page = ('<div class="a">\n      <p title="two\n    lines" data-x=\'a > b\'>text\n    more</p>\n\n\n    <span>x</span> <b>y</b>\n'
            '<a href="/">\n   \n  首页\n\n   </a><pre>\n    code keeps   its indentation\n</pre>\n  <script>\n  var s = "a\n   b";\n  </script>\n'
            '  <textarea>\n  typed\n</textarea> <code>a\n  b</code>\n</div>')
    assert trim_indentation(page) == (
        '<div class="a">\n<p title="two\n    lines" data-x=\'a > b\'>text\nmore</p>\n<span>x</span> <b>y</b>\n'
        '<a href="/">\n首页\n</a><pre>\n    code keeps   its indentation\n</pre>\n<script>\n  var s = "a\n   b";\n  </script>\n'
        '<textarea>\n  typed\n</textarea> <code>a\n  b</code>\n</div>')


# --- search and sitemap entries of the stamped pages, written as the pages come ----------------


def test_search_and_sitemap_entries_are_streamed_to_the_bytes_of_the_whole_documents(tmp_path):
    """The index is json.dumps of Material's index (shells left out) plus the stamped pages' entries;
    the sitemap is the engine's without the shells plus theirs, gzipped with the pinned time."""
    import gzip
    import json

    from generator.engine import search
    from generator.engine.build import _SearchIndex, _Sitemap

    site = tmp_path / "site"
    (site / "search").mkdir(parents=True)
    material = {"config": {"lang": ["zh"], "separator": "[\\s\\u200b]+"},
                "docs": [{"location": "", "title": "首页", "text": "站前区"},
                         {"location": "commitments/zq-shell-commitments/#zqshella", "title": "ZQSHELLA", "text": ""}],
                "after": [1]}
    (site / "search" / "search_index.json").write_text(json.dumps(material), encoding="utf-8")
    url = "https://example.org/"
    (site / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset>\n    <url>\n         <loc>https://example.org/</loc>\n    </url>\n'
        "    <url>\n         <loc>https://example.org/commitments/zq-shell-commitments/</loc>\n    </url>\n</urlset>",
        encoding="utf-8")
    pages = [("commitments/CM-1/", "承诺 <一>", "政府承诺 兑现"), ("departments/fgj/", "发改局", None)]
    shells = {"commitments/zq-shell-commitments/"}
    with _SearchIndex(site, shells) as index, _Sitemap(site, shells, url, 86400) as sitemap:
        for page_url, title, text in pages:
            index.add(page_url, title, text)
            sitemap.add(page_url)

    expected = dict(material, docs=[material["docs"][0], {"location": "commitments/CM-1/", "title": search.segment("承诺 <一>"),
                                                          "text": search.segment("政府承诺 兑现")}])
    assert (site / "search" / "search_index.json").read_bytes() == json.dumps(
        expected, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    sitemap_text = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert sitemap_text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset>\n    <url>\n         <loc>https://example.org/</loc>\n    </url>'
        "\n    <url>\n         <loc>https://example.org/commitments/CM-1/</loc>\n         <lastmod>1970-01-02</lastmod>\n    </url>"
        "\n    <url>\n         <loc>https://example.org/departments/fgj/</loc>\n         <lastmod>1970-01-02</lastmod>\n    </url>"
        "\n</urlset>")
    import io

    whole = io.BytesIO()  # gzipped in one piece: the same bytes as written page by page
    with gzip.GzipFile(fileobj=whole, filename=str(site / "sitemap.xml") + ".gz", mode="wb", mtime=86400) as gz:
        gz.write(sitemap_text.encode("utf-8"))
    assert (site / "sitemap.xml.gz").read_bytes() == whole.getvalue()


def test_a_damaged_page_pack_is_a_clear_engine_failure(tmp_path):
    from datetime import date

    from generator.engine import EngineFailed, build

    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "pages.pack").write_bytes(b"not a pack\n")
    with pytest.raises(EngineFailed, match="已损坏.*原网站保持不变"):
        build(tmp_path / "build", tmp_path / "site", as_of=date(2026, 11, 30),
              timezone="Asia/Shanghai")


# --- the engine's hooks ---------------------------------------------------------------------------


def test_the_engine_config_names_the_hooks_and_the_theme_environment_renders_as_before(tmp_path):
    """build/mkdocs.yml names engine/hooks.py (MkDocs' documented hooks: setting); its on_env
    gives an overlay of the theme's environment with a bytecode cache, rendering the same."""
    import jinja2
    import yaml

    from generator.engine import hooks, write_config
    from generator.render import DEFAULT_TEMPLATES_DIR

    path = write_config(tmp_path / "build", ROOT / "mkdocs.yml", DEFAULT_TEMPLATES_DIR,
                        {"site_name": "站", "site_url": "https://example.gov.cn/", "zq": {}})
    named = yaml.safe_load(path.read_text(encoding="utf-8"))["hooks"]
    assert [(path.parent / p).resolve() for p in named] == [Path(hooks.__file__).resolve()]
    env = jinja2.Environment(loader=jinja2.DictLoader({"t.html": "{% for x in xs %}<b>{{ x }}</b>{% endfor %}"}),
                             autoescape=True)
    env.filters["twice"] = lambda v: v * 2
    config = types.SimpleNamespace(config_file_path=str(path))
    theme = hooks.on_env(env, config, None)
    assert isinstance(theme.bytecode_cache, jinja2.BytecodeCache) and theme.filters["twice"](2) == 4
    for _ in range(2):  # compiled, then (another overlay) loaded from the cache
        assert hooks.on_env(env, config, None).get_template("t.html").render(xs=["<", 1]) == "<b>&lt;</b><b>1</b>"
    # The cache is in the build folder, so removing build/ removes it too.
    files = list((tmp_path / "build" / hooks.CACHE_DIR).glob("*.cache"))
    assert files
    # A damaged file (its checksum, its code, cut short, junk) is compiled again, never an error.
    from jinja2.bccache import bc_magic

    for damage in (lambda b: b[:len(bc_magic)] + b"\x80\x05garbage" + b[len(bc_magic) + 12:],
                   lambda b: b[:len(b) - 5], lambda b: b"junk", lambda b: b[:len(bc_magic)]):
        for f in files:
            f.write_bytes(damage(f.read_bytes()))
        assert hooks.on_env(env, config, None).get_template("t.html").render(xs=["<", 1]) == "<b>&lt;</b><b>1</b>"
        assert hooks.on_env(env, config, None).get_template("t.html").render(xs=["<", 1]) == "<b>&lt;</b><b>1</b>"


def test_a_pages_shell_is_read_from_the_front_of_its_meta_or_from_the_whole_json():
    from generator.engine.build import _shell_of

    assert _shell_of(b'{"shell":"commitment","title":"x","search":"\\u957f"}') == "commitment"
    assert _shell_of(b'{"shell":"finding"}') == "finding"
    # Not first, not alone, not a plain name: the JSON decides.
    assert _shell_of(b'{"title":"{\\"shell\\":\\"x\\",","shell":"arrears"}') == "arrears"
    assert _shell_of(b'{"shell":"a","shell":"department"}') == "department"
    assert _shell_of(b'{"shell":"a\\u0062","title":"t"}') == "ab"


def test_search_segment_gives_what_the_substitution_gave():
    """segment (runs split out and replaced in a list) gives what re.sub with a callback per run
    gave, with and without the runs of the last build (known) and the words used, in order."""
    import html
    import random
    import re

    from generator.engine import search

    han = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

    def old(text, known=None, used=None):
        def words(m):
            found = known.get(m.group(0)) if known else None
            if found is None:
                found = search._words(m.group(0))
            if used is not None:
                used.append(found)
            return found
        return han.sub(words, html.escape(text, quote=False)).strip("\u200b")

    rng = random.Random(5)
    pieces = ["政府", "承诺", "兑现", "拖欠账款", "中小企业", "a", "AR-2024-001", " ", "<", "&", "\u200b", "，", "。",
              "\u3400", "\uf900", "甲", "x y", "\n"]
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 15)))
        assert search.segment(text) == old(text)
        known = {"政府": "\u200b政\u200b府\u200b"} if rng.random() < 0.5 else {}
        used_new, used_old = [], []
        assert search.segment(text, known, used_new) == old(text, known, used_old)
        assert used_new == used_old
