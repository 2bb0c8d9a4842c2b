"""Figures of searched Markdown pages go to the engine beside the Markdown (generator/figures.py):
the built pages and search index are the ones MkDocs makes with the figures in the Markdown,
and an edit that changes only figures leaves MkDocs' input as it was (its output reused)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from generator import engine, pack
from generator.figures import PLACEHOLDER, Figures, split_html_figures
from generator.publish import build_site
from generator.tools.synth import REFERENCE_DATE, generate

AS_OF = REFERENCE_DATE


def _restore(text: str, values: list[str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[int(m.group(1))], text)


def test_only_plain_text_figures_become_placeholders():
    figures = Figures()
    assert figures.mark(1198) == "ZQFIG-0-ZQ" and figures.mark("48.0 KB") == "ZQFIG-1-ZQ"
    for value in ("512 字节", " 12", "12 ", "a_b", "1*2", "", "1\n2", "<b>1</b>", "1  KB"):
        assert figures.mark(value) == value  # stays in the Markdown
    assert figures.values == ["1198", "48.0 KB"]


def test_numbers_of_html_text_and_chart_drawing_become_placeholders_nothing_else():
    body = "\n\n".join([
        "共 12 项，见 [第 3 页](list/3/)。",  # Markdown: left alone
        '<div class="zq-figures"><span class="v">2,500 项</span><a href="commitments/CM-2019-001/">查看 3 条</a>'
        '<span id="n1" data-k="7">&#58;79.78%</span></div>',
        '<figure><svg viewBox="0 0 400 300" width="100%"><rect x="4" y="23" width="127.3" height="16"/>'
        '<path d="M62.1 207H306.8"/><text x="136.3" y="35.9">434</text></svg></figure>',
        '<div><h2 id="s2">第 2 节</h2><p>5 项</p></div>',  # a heading: its text is its id
        "<div><pre>10 20</pre></div>",  # code
        '<div markdown="1">\n1. 列表\n</div>',  # Markdown inside HTML
        "<div><div>1</div>",  # unbalanced
    ])
    marked, values = split_html_figures(body)
    assert _restore(marked, values) == body
    blocks = marked.split("\n\n")
    assert blocks[0] == "共 12 项，见 [第 3 页](list/3/)。"
    assert blocks[3:] == body.split("\n\n")[3:]
    assert 'href="commitments/CM-2019-001/"' in blocks[1] and 'id="n1" data-k="7"' in blocks[1] and "&#58;" in blocks[1]
    assert "2,500" not in blocks[1] and "查看 ZQFIG-" in blocks[1] and "79.78" not in blocks[1]
    assert re.search(r"[0-9]", re.sub(r"ZQFIG-[0-9]+-ZQ", "", blocks[2]).replace("svg", "")) is None
    assert values[:3] == ["2,500", "3", "79.78"]


def _without_figures(build: Path) -> None:
    """build's Markdown with the figures in it and no figures beside it: the input MkDocs had before."""
    docs = build / "docs"
    found = {}
    for name in ("blocks.pack", engine.DATA_FIGURES_PACK):
        path = build / name
        if not path.is_file():
            continue
        entries = list(pack.entries(path))
        with pack.PackWriter(path) as out:
            for key, meta, data in entries:
                if meta.get("figures"):
                    found[key] = meta.pop("figures")
                if meta["sizes"]:
                    out.add(key, meta, data)
    assert {"index.md", "data/index.md"} <= set(found)
    for rel, values in found.items():
        text = (docs / rel).read_text(encoding="utf-8")
        assert PLACEHOLDER.search(text)
        (docs / rel).write_text(_restore(text, values), encoding="utf-8")


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_the_engine_makes_of_placeholders_what_mkdocs_makes_of_the_figures(tmp_path: Path):
    data, site, build = tmp_path / "data", tmp_path / "site", tmp_path / "build"
    generate(data, 40, seed=3)
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    plain = tmp_path / "build-plain"
    shutil.copytree(build, plain)
    _without_figures(plain)
    result = engine.build(plain, tmp_path / "site-plain", as_of=AS_OF, timezone="Asia/Shanghai")
    assert not result.engine_reused  # MkDocs ran on the Markdown with the figures in it
    built, expected = _tree(site), _tree(tmp_path / "site-plain")
    assert [k for k in expected if built.get(k) != expected[k]] == []
    home = json.loads(expected["search/search_index.json"])
    assert any(re.search(r"[0-9]", d["text"]) for d in home["docs"] if d["location"].startswith("#"))


def _markdown(build: Path) -> dict[str, bytes]:
    return {p.relative_to(build / "docs").as_posix(): p.read_bytes() for p in (build / "docs").rglob("*.md")}


@pytest.mark.slow
def test_an_edit_that_changes_figures_only_reuses_mkdocs_output(tmp_path: Path):
    data, site, build = tmp_path / "data", tmp_path / "site", tmp_path / "build"
    generate(data, 60, seed=7)
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    home_before = (site / "index.html").read_bytes()
    data_before = (site / "data" / "index.html").read_bytes()
    sources = _markdown(build)
    ledger = data / "arrears" / "ledger.csv"
    lines = ledger.read_text(encoding="utf-8").split("\n")
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("amount")] = f"{float(cells[header.index('amount')]) + 1234.56:.2f}"
    lines[1] = ",".join(cells)
    ledger.write_text("\n".join(lines), encoding="utf-8")
    again = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert _markdown(build) == sources and again.engine_reused
    assert (site / "index.html").read_bytes() != home_before  # the totals moved
    assert (site / "data" / "index.html").read_bytes() != data_before  # and the download sizes
    full = tmp_path / "full"
    build_site(data, full, as_of=AS_OF, history=False, build_dir=tmp_path / "build-full")
    rebuilt, fresh = _tree(site), _tree(full)
    assert sorted(rebuilt) == sorted(fresh)
    assert [k for k in fresh if rebuilt[k] != fresh[k]] == []


def test_the_engine_refuses_a_placeholder_in_a_heading_or_without_its_figure():
    from generator.engine.build import EngineFailed, _put_figures

    assert _put_figures("index.md", "<p>ZQFIG-0-ZQ 项</p>", ["12"]) == "<p>12 项</p>"
    with pytest.raises(EngineFailed):
        _put_figures("index.md", '<h2 id="zqfig-0-zq">ZQFIG-0-ZQ</h2>', ["12"])
    with pytest.raises(EngineFailed):
        _put_figures("index.md", "<p>ZQFIG-1-ZQ</p>", ["12"])
    with pytest.raises(EngineFailed):
        _put_figures("index.md", "<p>12</p>", ["12"])  # figures beside a page without placeholders: stale


def test_a_page_holding_placeholder_text_of_its_own_keeps_its_figures():
    """Record text such as 'ZQFIG-0-ZQ' (in any case) could not be told from a placeholder
    after MkDocs: the page's figures then stay in its Markdown."""
    for text in ("ZQFIG-0-ZQ", "zqfig-12-zq"):
        body = f'<div class="zq-figure"><span>12 笔</span><span>{text}</span></div>\n'
        assert split_html_figures(body) == (body, [])
    assert split_html_figures('<div class="zq-figure"><span>12 笔</span></div>\n')[1] == ["12"]


def test_no_figures_are_handed_over_when_the_site_settings_hold_placeholder_text():
    from dataclasses import dataclass

    from generator.figures import usable

    @dataclass
    class Site:
        site_name: str

    assert usable(Site("站前区诚信政府建设信息公开"))
    assert not usable(Site("站前区 ZQFIG-1-ZQ"))  # its name is on every page, outside the Markdown


def test_record_text_that_looks_like_a_placeholder_is_published_as_it_is(tmp_path: Path):
    """A commitment titled with placeholder text, shown among the home page's recent changes:
    the build goes through, and the home page and the search index show the title as written."""
    data = tmp_path / "data"
    shutil.copytree(Path(__file__).parent.parent / "data", data)
    for path in (data / "commitments").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"^title: ", "title: ZQFIG-0-ZQ 与 ", text, count=1, flags=re.M), encoding="utf-8")
    site = tmp_path / "site"
    build_site(data, site, as_of=AS_OF, history=False, build_dir=tmp_path / "build")
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "ZQFIG-0-ZQ 与" in home and re.search(r'class="zq-figure__value">[0-9]', home)
    index = (site / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "ZQFIG-0-ZQ \u200b与" in index
