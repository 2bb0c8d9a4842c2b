"""Issue 12, item 2: text from site.yaml, departments.csv and tasks.yaml is data, never markup.

Material prints ``config.site_name`` unescaped in <title>, the header and an aria-label:
``site_name: '站前区<img src=x onerror=alert(1)>'`` ran script on every page. Validation
rejects markup in those files (file:line:field, in Chinese), and the build escapes it
anyway (the build below bypasses validation on purpose).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.cli import main
from generator.derive import derive
from generator.load import load
from generator.publish import render_sources
from generator import engine
from generator import sitefiles
from generator.render import DEFAULT_TEMPLATES_DIR, shell_text, site_settings
from generator.validate import validate
from tests.conftest import DEMO_DATA, edit, problems_of

AS_OF = date(2026, 11, 26)
ATTACK = "站前区<img src=x onerror=alert(1)>"
QUOTE_ATTACK = '站前区" onmouseover="alert(2)'


def test_site_name_with_markup_is_rejected_with_file_line_field(data_dir: Path, capsys):
    edit(data_dir / "site.yaml", "site_name: 站前区诚信政府建设信息公开", f"site_name: '{ATTACK}'")
    [p] = problems_of(data_dir)
    assert (p.file, p.line, p.field) == ("site.yaml", 2, "site_name")
    assert "HTML" in p.message and "纯文本" in p.message
    assert main(["validate", "--data", str(data_dir)]) == 1
    assert "site.yaml:2: site_name: 含有 HTML 标记" in capsys.readouterr().out


def test_nested_site_settings_entities_and_urls_are_checked(data_dir: Path):
    edit(data_dir / "site.yaml", "address: 辽宁省营口市站前区（演示地址）", "address: 站前区&lt;b&gt;")
    edit(data_dir / "site.yaml", "base_url: https://xygk.example.gov.cn/", "base_url: 'https://x.example/\" onfocus=\"alert(1)'")
    found = {(p.file, p.field) for p in problems_of(data_dir)}
    assert found == {("site.yaml", "contact.address"), ("site.yaml", "base_url")}


def test_department_name_with_markup_is_rejected(data_dir: Path):
    edit(data_dir / "departments.csv", "fgj,区发改局,", "fgj,区发改局<script>alert(1)</script>,")
    [p] = problems_of(data_dir)
    assert (p.file, p.line, p.field) == ("departments.csv", 3, "name")


def test_task_text_with_markup_is_rejected(data_dir: Path):
    edit(data_dir / "tasks.yaml", "title: 加快法规制度建设", "title: 加快法规制度建设<svg onload=alert(1)>")
    edit(data_dir / "tasks.yaml", "note: 区发改局牵头梳理", "note: </p><img src=x>区发改局牵头梳理")
    found = {(p.file, p.line, p.field) for p in problems_of(data_dir)}
    assert found == {("tasks.yaml", 7, "title"), ("tasks.yaml", 15, "note")}


def test_plain_text_with_angle_quotes_and_ampersand_words_passes(data_dir: Path):
    edit(data_dir / "site.yaml", "site_name: 站前区诚信政府建设信息公开", "site_name: 站前区诚信政府建设信息公开 & 《公开》 a < b")
    assert problems_of(data_dir) == []


def test_shell_text_is_the_same_printed_raw_or_escaped():
    for attack in (ATTACK, QUOTE_ATTACK, "a\u202eb&c'"):
        text = shell_text(attack)
        assert not set("<>&\"'\u202e") & set(text)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.bad: list[tuple[str, list]] = []
        self.title = ""
        self._in_title = False
        self.labels: list[str] = []

    def handle_starttag(self, tag, attrs):
        # Text attributes (accessible names) may carry the attack as escaped, inert text;
        # any other attribute of these tags that names it would be a live injection.
        if tag in ("img", "svg", "script") and any(
                k.startswith("on") or ("alert" in (v or "") and k not in ("aria-label", "title", "alt"))
                for k, v in attrs):
            self.bad.append((tag, attrs))
        if any(k.startswith("on") for k, _ in attrs):
            self.bad.append((tag, attrs))
        self.labels += [v for k, v in attrs if k == "aria-label" and v and "站前区" in v]
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.title += data
            self._in_title = False


@pytest.mark.slow
def test_hostile_shell_text_is_escaped_on_every_page(tmp_path: Path):
    dataset = validate(load(DEMO_DATA)).dataset
    site = dataclasses.replace(dataset.site, site_name=ATTACK, publisher=QUOTE_ATTACK,
                               contact={**dataset.site.contact, "address": "<script>alert(3)</script>"})
    departments = tuple(dataclasses.replace(d, name=d.name + "<img src=x onerror=alert(4)>") if d.id == "fgj" else d
                        for d in dataset.departments)
    tasks = tuple(dataclasses.replace(t, title=t.title + "<svg onload=alert(5)>") for t in dataset.tasks)
    facts = derive(dataclasses.replace(dataset, site=site, departments=departments, tasks=tasks), AS_OF)
    config = engine.write_config(tmp_path / "build", sitefiles.base_config(), DEFAULT_TEMPLATES_DIR, site_settings(facts))
    assert "site_name: 站前区＜img src=x onerror=alert(1)＞\n" in config.read_text(encoding="utf-8")

    render_sources(facts, DEMO_DATA, tmp_path / "build", history=False)
    out = tmp_path / "site"
    out.mkdir()
    engine.build(tmp_path / "build", out, as_of=AS_OF, timezone="Asia/Shanghai")
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 50
    for page in pages:
        html = page.read_text(encoding="utf-8")
        parser = _Tags()
        parser.feed(html)
        assert parser.bad == [], page
        assert "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html, page
        for label in parser.labels:
            assert "onmouseover" not in label or label.startswith("站前区"), (page, label)
    home = (out / "index.html").read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(home)
    assert "站前区＜img src=x onerror=alert(1)＞" in parser.title
    assert any(label.startswith("站前区＜img") for label in parser.labels)
