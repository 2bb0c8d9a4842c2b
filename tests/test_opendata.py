"""The open-data package and the Atom feed: what a reader downloads must be valid, exact and safe.

Most tests read one package written from the demo data; the formula-injection
tests write a copy of the demo data with one hostile record added.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import feedparser
import frictionless
import openpyxl
import pandas as pd
import pytest
import yaml

from generator import opendata
from generator.derive import derive
from generator.load import load
from generator.schema import load_package
from generator.validate import validate

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data"
AS_OF = date(2026, 11, 26)
FORMULA = ("=", "+", "-", "@", "\t", "\r")
ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

HOSTILE = """\
id: CM-2026-900
title: '=HYPERLINK("http://x")'
category: 服务承诺
department: yshj
partners: []
counterparty: "@SUM(1)"
counterparty_masked: false
promised_on: 2026-01-05
source: "+1"
content: "-2"
deadline: 2026-12-31
status: 履行中
progress:
  - date: 2026-02-01
    note: "\\tX"
  - date: 2026-03-01
    note: "\\rY"
rectification:
  - step: "=1+1"
    due: 2026-06-30
"""


def facts_from(data_dir: Path, as_of: date = AS_OF):
    report = validate(load(data_dir))
    assert report.dataset is not None, [p.message for p in report.errors]
    return derive(report.dataset, as_of)


@pytest.fixture(scope="module")
def demo():
    return facts_from(DEMO)


@pytest.fixture(scope="module")
def docs(demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "docs"
    opendata.write_open_data(demo, out)
    from generator.extras import write_extras  # the pages the data page links to: feeds/index.md

    write_extras(demo, out)
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    data = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(DEMO, data)
    (data / "commitments" / "CM-2026-900.yaml").write_text(HOSTILE, encoding="utf-8")
    facts = facts_from(data)
    out = data.parent / "docs"
    opendata.write_open_data(facts, out)
    return facts, out


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def texts(root: Path):
    """(name, text) of every file under `root`, zip members (XLSX, ZIP) opened, Markdown unescaped."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix in (".xlsx", ".zip"):
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    yield f"{path.name}!{member}", html.unescape(z.read(member).decode("utf-8"))
        elif path.suffix == ".sqlite":  # every table, as SQL text
            import sqlite3

            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                yield path.name, "\n".join(conn.iterdump())
            finally:
                conn.close()
        else:
            text = path.read_text(encoding="utf-8-sig")
            yield path.name, html.unescape(text) if path.suffix in (".md", ".xml") else text


# --- the package -------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(1)", "'@SUM(1)"),
    ("\tX", "'\tX"), ("\rY", "'\rY"), ("区发改局", "区发改局"), ("1=1", "1=1"), ("", ""),
])
def test_neutralise_prefixes_a_quote_to_formula_text_only(text, expected):
    assert opendata.neutralise(text) == expected


def test_demo_package_passes_the_frictionless_cli(docs):
    cli = shutil.which("frictionless") or str(Path(sys.executable).with_name("frictionless"))
    assert Path(cli).exists(), "frictionless CLI missing: pip install 'frictionless>=5.15,<6'"
    run = subprocess.run([cli, "validate", "--json", "datapackage.json"], cwd=docs / "data",
                         capture_output=True, text=True, timeout=300)
    report = json.loads(run.stdout)
    errors = [e["message"] for task in report["tasks"] for e in task["errors"]] + [e["message"] for e in report["errors"]]
    assert report["valid"], errors
    assert run.returncode == 0
    assert len(report["tasks"]) == len(load_package().resources)


def test_descriptor_is_the_schema_without_extensions(docs, demo):
    descriptor = json.loads((docs / "data" / "datapackage.json").read_text(encoding="utf-8"))
    assert "x-" not in json.dumps(descriptor, ensure_ascii=False).replace("x-public", "")
    assert not any(k.startswith("x-") for k in _all_keys(descriptor))
    assert descriptor["title"].startswith("【演示数据】") and "演示数据" in descriptor["keywords"]
    assert descriptor["sample"] is True
    assert descriptor["created"] == "2026-11-26T00:00:00+08:00"
    assert descriptor["contributors"] == [{"title": demo.site.publisher, "role": "publisher"}]
    assert descriptor["licenses"][0]["path"] == demo.site.licence["url"]
    package = load_package()
    assert [r["name"] for r in descriptor["resources"]] == [r.name for r in package.resources]
    for res in descriptor["resources"]:
        schema = package.resource(res["name"])
        assert res["path"] == f"csv/{res['name']}.csv"
        assert (res["format"], res["encoding"], res["mediatype"]) == ("csv", "utf-8-sig", "text/csv")
        assert read_csv(docs / "data" / res["path"])[0] == [f["name"] for f in res["schema"]["fields"]]
        for field in res["schema"]["fields"]:
            source = schema.field(field["name"])
            assert field["title"] == source.title and field["description"] == source.description
            if source.max_length is not None:  # room for the neutralising quote in free text
                assert field["constraints"]["maxLength"] == source.max_length + source.is_free_text


def _all_keys(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _all_keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _all_keys(v)


def test_csv_files_open_in_excel_and_pandas_with_the_rows_the_site_shows(docs, demo):
    tables = opendata.public_tables(demo)
    package = load_package()
    for name, rows in tables.items():
        path = docs / "data" / "csv" / f"{name}.csv"
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
        assert raw.count(b"\r\n") >= len(rows) + 1 and raw.endswith(b"\r\n"), name
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert list(frame.columns) == package.resource(name).field_names
        assert len(frame) == len(rows), name
        for i, row in enumerate(rows):
            for key, value in row.items():
                if isinstance(value, str) and not value.startswith(FORMULA):
                    assert frame.at[i, key] == value, (name, i, key)
                elif isinstance(value, date):
                    assert frame.at[i, key] == value.isoformat()
    assert "区政府办公室" in set(pd.read_csv(docs / "data/csv/departments.csv", encoding="utf-8-sig")["name"])


def test_json_rows_carry_exact_numbers(docs, demo):
    for name, rows in opendata.public_tables(demo).items():
        loaded = json.loads((docs / "data" / "json" / f"{name}.json").read_text(encoding="utf-8"),
                            parse_float=Decimal)
        assert len(loaded) == len(rows)
        for got, want in zip(loaded, rows):
            assert list(got) == list(want)
            for key, value in want.items():
                expected = value.isoformat() if isinstance(value, date) else value
                assert got[key] == expected, (name, key)


def test_rows_follow_the_as_of_date(demo):
    early = facts_from(DEMO, date(2025, 6, 30))
    tables = opendata.public_tables(early)
    assert all(r["promised_on"] <= early.as_of for r in tables["commitments"])
    assert all(r["paid_on"] <= early.as_of for r in tables["arrears_repayments"])
    assert len(tables["arrears_repayments"]) == sum(len(a.repayments) for a in early.arrears)
    assert all(r["date"] <= early.as_of for r in tables["commitment_progress"] + tables["task_progress"])
    assert {r["commitment_id"] for r in tables["commitment_progress"]} <= {r["id"] for r in tables["commitments"]}
    assert len(opendata.public_tables(demo)["arrears_repayments"]) > len(tables["arrears_repayments"])


def test_hidden_findings_leave_no_trace(docs, demo):
    records = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((DEMO / "findings").glob("*.yaml"))]
    shown = {f.record.id for f in demo.findings}
    hidden = [r for r in records if r["id"] not in shown]
    assert {r["id"] for r in hidden} == {"DF-2024-002", "DF-2025-001", "DF-2025-003", "DF-2026-004"}
    # An id as a word of its own: contract number ZQ-DF-2025-001 is another thing.
    ids = re.compile("|".join(rf"(?<![\w-]){r['id']}(?!\d)" for r in hidden))
    summaries = [r["summary"] for r in hidden] + [o["summary"] for r in hidden for o in r.get("objections") or []]
    scanned = list(texts(docs / "data")) + [("feed.xml", html.unescape((docs / "feed.xml").read_text(encoding="utf-8")))]
    assert len(scanned) > 40
    for name, text in scanned:
        assert not ids.search(text), (name, ids.search(text))
        for summary in summaries:
            assert summary not in text, (name, summary[:20])
    assert ids.search("见 DF-2025-001。") and not ids.search("ZQ-DF-2025-001")
    # Only anonymous counts pass on.
    summary = json.loads((docs / "data/api/summary.json").read_text(encoding="utf-8"))
    assert summary["findings"]["hidden"] == {"expired": 1, "revoked": 1, "repaired": 1, "unpublished": 1}


def test_masked_counterparties_stay_masked(docs, demo):
    masked = [c for c in demo.commitments if c.record.counterparty_masked and c.record.counterparty]
    assert masked
    rows = {r[0]: r for r in read_csv(docs / "data/csv/commitments.csv")[1:]}
    column = load_package().resource("commitments").field_names.index("counterparty")
    for c in masked:
        assert rows[c.record.id][column] == c.counterparty_shown != c.record.counterparty
        for name, text in texts(docs / "data"):
            assert c.record.counterparty not in text, name


def test_formula_injection_is_neutralised_in_csv_and_xlsx(hostile):
    facts, out = hostile
    data = out / "data"
    package = load_package()
    string_fields = {r.name: {f.name for f in r.fields if f.type == "string"} for r in package.resources}
    found = set()
    for name, fields in string_fields.items():
        table = read_csv(data / "csv" / f"{name}.csv")
        header = table[0]
        for row in table[1:]:
            for key, cell in zip(header, row):
                if key in fields:
                    assert not cell.startswith(FORMULA), (name, key, cell)
                    if cell.startswith("'"):
                        found.add(cell)
    assert {"'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(1)", "'\tX", "'\rY", "'=1+1"} <= found

    workbook = openpyxl.load_workbook(data / "zhanqian-integrity.xlsx")
    quoted = set()
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.data_type == "s" and not cell.value.startswith(FORMULA), (ws.title, cell.coordinate)
                    if cell.value.startswith("'"):
                        quoted.add(cell.value.replace("\n", "\r"))  # XML reads a CR back as LF
    assert {"'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(1)", "'\tX", "'\rY", "'=1+1"} <= quoted

    # JSON keeps the text as typed; the package with the quotes still validates.
    rows = json.loads((data / "json" / "commitments.json").read_text(encoding="utf-8"))
    assert any(r["title"] == '=HYPERLINK("http://x")' for r in rows)
    report = frictionless.validate(str(data / "datapackage.json"))
    assert report.valid, report.flatten(["type", "message"])[:5]


def test_xlsx_is_typed_and_readable(docs, demo):
    workbook = openpyxl.load_workbook(docs / "data" / "zhanqian-integrity.xlsx")
    package = load_package()
    assert workbook.sheetnames == ["说明"] + [r.title for r in package.resources]
    tables = opendata.public_tables(demo)
    for res in package.resources:
        ws = workbook[res.title]
        assert ws.freeze_panes == "A2"
        assert [c.value for c in ws[1]] == [f.title for f in res.fields]
        assert ws.max_row == len(tables[res.name]) + 1
    ws = workbook["拖欠中小企业账款"]
    amount = [f.name for f in package.resource("arrears").fields].index("amount") + 1
    due = [f.name for f in package.resource("arrears").fields].index("due_on") + 1
    cell = ws.cell(row=2, column=amount)
    assert Decimal(str(cell.value)) == tables["arrears"][0]["amount"] and cell.number_format == "0.00"
    cell = ws.cell(row=2, column=due)
    assert isinstance(cell.value, datetime) and cell.number_format == "yyyy-mm-dd"
    assert all(4 <= (ws.column_dimensions[k].width or 0) <= 62 for k in "ABCDEF")
    assert workbook.properties.title.startswith("【演示数据】")


def test_two_builds_give_the_same_bytes(demo, docs, tmp_path):
    again = tmp_path / "docs"
    from generator.extras import write_extras

    written = opendata.write_open_data(demo, again) + write_extras(demo, again)
    first = sorted(p.relative_to(docs) for p in docs.rglob("*") if p.is_file())
    assert sorted(p.relative_to(again) for p in written) == first
    for rel in first:
        assert (docs / rel).read_bytes() == (again / rel).read_bytes(), rel
    # No wall clock in the workbook: fixed member times and document dates.
    with zipfile.ZipFile(again / "data" / "zhanqian-integrity.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 11, 26, 0, 0, 0)}
        assert z.namelist()[0] == "[Content_Types].xml"
        core = z.read("docProps/core.xml").decode()
        assert core.count("2026-11-26T00:00:00Z") == 2


def test_unchanged_files_are_not_rewritten_and_stale_files_go(demo, tmp_path):
    docs = tmp_path / "docs"
    written = opendata.write_open_data(demo, docs)
    for path in written:
        os.utime(path, (1_000_000, 1_000_000))
    (docs / "data" / "csv" / "gone.csv").write_text("x", encoding="utf-8")
    (docs / "data" / "old").mkdir()
    (docs / "data" / "old" / "file.json").write_text("{}", encoding="utf-8")
    (docs / "index.md").write_text("# 首页", encoding="utf-8")  # not ours: left alone
    assert opendata.write_open_data(demo, docs) == written
    assert all(p.stat().st_mtime == 1_000_000 for p in written)
    assert not (docs / "data" / "csv" / "gone.csv").exists() and not (docs / "data" / "old").exists()
    assert (docs / "index.md").exists()
    assert set(written) == {p for p in (docs / "data").rglob("*") if p.is_file()} | {docs / "feed.xml"}


def test_api_is_documented_and_matches_the_facts(docs, demo):
    api = docs / "data" / "api"
    summary = json.loads((api / "summary.json").read_text(encoding="utf-8"))
    assert list(summary) == [key for key, _ in opendata.SUMMARY_DOC]
    assert summary["as_of"] == "2026-11-26" and summary["sample"] is True
    assert summary["arrears"]["outstanding"] == str(demo.summary.arrears.outstanding)
    page = (docs / "data" / "index.md").read_text(encoding="utf-8")
    for spec in opendata.API_LISTS:
        doc = json.loads((api / f"{spec.name}.json").read_text(encoding="utf-8"))
        assert doc["count"] == len(doc["items"]) == len(list(spec.items(demo)))
        for item in doc["items"]:
            assert list(item) == [f.key for f in spec.fields]
            assert not item["url"].startswith(("/", "http"))
        assert f"(api/{spec.name}.json)" in page
        for f in spec.fields:
            assert f"<code>{opendata.md(f.key)}</code>" in page
    first = json.loads((api / "commitments.json").read_text(encoding="utf-8"))["items"][0]
    assert first["url"] == f"commitments/{first['id']}/"


# --- the pages ---------------------------------------------------------------------------


def test_dictionary_lists_every_resource_and_field():
    package = load_package()
    text = html.unescape(opendata.dictionary_markdown(package))
    for res in package.resources:
        assert f"## {res.title} {{#{res.name}}}" in text
        for f in res.fields:
            assert f"| <code>{f.name}</code> | {f.title} |" in text, (res.name, f.name)
    assert "区直部门、区委部门、街道办事处、派驻机构、司法机关" in text
    for line in opendata.dictionary_markdown(package).splitlines():
        if line.startswith("| <code>"):
            assert line.count("|") == 7, line  # a | inside a cell would add a column


def test_data_page_links_point_at_written_files(docs):
    page = (docs / "data" / "index.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page)
    assert "csv/commitments.csv" in targets and "../feed.xml" in targets and "dictionary.md" in targets
    for target in targets:
        assert (docs / "data" / target).resolve().exists(), target
    assert "2026-11-26" in page and "演示数据" in page and "单引号" in page and "utf-8-sig" in page


def test_data_derived_text_is_escaped(demo):
    site = dataclasses.replace(demo.site, publisher="<script>alert(1)</script> | *机构* [x](y)",
                               licence={"name": "# 许可 | `x`", "url": "javascript:alert(1)"})
    page = opendata.data_page_markdown(dataclasses.replace(demo, site=site), [])
    assert "<script>" not in page and "*机构*" not in page and "[x](y)" not in page
    assert "javascript:" not in page and "# 许可" not in page
    assert "&lt;script&gt;" in page


def test_pages_build_with_mkdocs_strict(docs, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(docs, tmp_path / "docs")
    (tmp_path / "docs" / "index.md").write_text("# 首页\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: test\ndocs_dir: docs\nsite_dir: site\nuse_directory_urls: true\ntheme: {name: mkdocs}\n"
        "plugins: []\nmarkdown_extensions: [tables, attr_list, admonition, md_in_html, toc]\n"
        "validation: {links: {not_found: warn, anchors: warn, unrecognized_links: warn}}\n"
        "nav: [index.md, {开放数据: [data/index.md, data/dictionary.md]}]\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert (site / "data" / "csv" / "commitments.csv").exists() and (site / "feed.xml").exists()


# --- the feed ----------------------------------------------------------------------------


def test_feed_parses_newest_first_with_unique_ids(docs, demo):
    parsed = feedparser.parse((docs / "feed.xml").read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == f"{demo.site.site_name} 更新"
    entries = parsed.entries
    assert 0 < len(entries) <= opendata.FEED_LIMIT == 100
    assert len(entries) == min(100, len(demo.changes))
    updated = [e.updated for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert len({e.id for e in entries}) == len(entries)
    assert all(e.link.startswith(demo.site.base_url) and e.link.endswith("/") for e in entries)
    first = demo.changes[0]
    assert entries[0].title == f"{opendata.RECORD_KINDS[first.record_kind]}｜{first.title}：{first.text}"
    assert entries[0].link == f"{demo.site.base_url}{first.record_kind}/{first.record_id}/"


def test_feed_has_the_rfc4287_required_elements(docs, demo):
    root = ET.parse(docs / "feed.xml").getroot()
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1 and root.find(f"{ATOM}{name}").text, name
    assert root.find(f"{ATOM}id").text == "tag:xygk.example.gov.cn,2024:feed"
    assert root.find(f"{ATOM}updated").text == f"{demo.changes[0].date.isoformat()}T00:00:00+08:00"
    assert root.find(f"{ATOM}author/{ATOM}name").text == demo.site.publisher
    links = {l.get("rel"): l.get("href") for l in root.findall(f"{ATOM}link")}
    assert links == {"self": demo.site.base_url + "feed.xml", "alternate": demo.site.base_url}
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1 and entry.find(f"{ATOM}{name}").text
        assert entry.find(f"{ATOM}id").text.startswith("tag:xygk.example.gov.cn,2024:")
        assert RFC3339.match(entry.find(f"{ATOM}updated").text)
        assert entry.find(f"{ATOM}link").get("href").startswith("https://")
        assert entry.find(f"{ATOM}summary").get("type") == "text"


def test_feed_ids_stay_when_later_changes_arrive(demo):
    early = facts_from(DEMO, date(2026, 3, 31))
    ids = lambda facts: {e.id: e.updated for e in feedparser.parse(opendata.atom_feed(facts)).entries}  # noqa: E731
    before, after = ids(early), ids(demo)
    oldest_kept = min(after.values())
    # A finding whose display ended in between (DF-2025-003, a six-month 警告) leaves the feed, as it must.
    gone = {f.record.id for f in early.findings} - {f.record.id for f in demo.findings}
    assert gone == {"DF-2025-003"}
    assert before and {i for i, when in before.items() if when > oldest_kept and not any(g in i for g in gone)} <= set(after)


def test_feed_is_written_as_elementtree_writes_it(demo):
    """The feed is written as strings: the same text ElementTree gives for the same tree, odd text included."""
    odd = [dataclasses.replace(c, title=t, text=x) for c, t, x in
           zip(demo.changes, ['a&b<c>"d\'', "", "\t x  y ", "  "], ["", "\x01", ']]> & "q"\n', "\x02ok"])]
    for site in (demo.site, dataclasses.replace(demo.site, publisher="", licence={})):
        facts = dataclasses.replace(demo, site=site, changes=(*odd, odd[0]))  # a repeated change: an "-2" id
        data = opendata.atom_feed(facts, path="feeds/x.xml", title='t\t"&<>', feed_key="feed/x").decode("utf-8")
        first, second, body = data.split("\n", 2)
        assert first == '<?xml version="1.0" encoding="utf-8"?>'
        assert second == '<?xml-stylesheet type="text/xsl" href="../feeds/feed.xsl"?>'
        root = ET.fromstring(body)
        assert root.findall(f"{ATOM}entry")[-1].find(f"{ATOM}id").text.endswith("-2")
        for element in root.iter():  # the tree as the generator built it before: xmlns as a plain attribute
            element.tag = element.tag.removeprefix(ATOM)
        root.attrib = {"xmlns": ATOM[1:-1], **root.attrib}
        ET.indent(root)
        assert body == ET.tostring(root, encoding="unicode") + "\n"


def test_feed_without_changes_is_still_valid(demo):
    quiet = dataclasses.replace(demo, changes=())
    parsed = feedparser.parse(opendata.atom_feed(quiet))
    assert parsed.bozo == 0 and parsed.entries == []
    assert parsed.feed.updated == "2026-11-26T00:00:00+08:00"


def test_feed_escapes_text_and_drops_control_characters(demo):
    change = dataclasses.replace(demo.changes[0], title="<b>&标题</b>\x01", text="]]> & <x>")
    parsed = feedparser.parse(opendata.atom_feed(dataclasses.replace(demo, changes=(change,))))
    assert parsed.bozo == 0
    assert parsed.entries[0].title.endswith("<b>&标题</b>：]]> & <x>")


def test_public_rows_are_put_in_the_schema_order_and_a_wrong_row_is_refused(demo, monkeypatch):
    names = load_package().resource("evaluations").field_names
    reordered = lambda facts, res: iter([{n: i for i, n in enumerate(reversed(names))}])  # noqa: E731
    monkeypatch.setitem(opendata._ROWS, "evaluations", reordered)
    row = opendata.public_tables(demo)["evaluations"][0]
    assert list(row) == names and row[names[0]] == len(names) - 1
    monkeypatch.setitem(opendata._ROWS, "evaluations", lambda facts, res: iter([{"year": 2026}]))
    with pytest.raises(ValueError, match="evaluations"):
        opendata.public_tables(demo)


def test_indented_json_is_exactly_what_json_dumps_writes():
    """_dump writes the API files with joins instead of json's pure-Python indenting encoder:
    the same text for every shape (and json.dumps itself for what it leaves alone: floats,
    non-str keys, other classes)."""
    import random
    from collections import OrderedDict

    from generator.opendata import _dump

    rng = random.Random(11)
    texts = ["", "a", "中文", '"', "\\", "\n", "\t", "\x00", "\x1f", "\u2028", "é", "</script>", "&", " "]

    def value(depth: int):
        pick = rng.randrange(12 if depth < 4 else 6)
        if pick == 0:
            return rng.choice(texts) + rng.choice(texts)
        if pick == 1:
            return rng.choice([0, -1, 10**20, 7])
        if pick == 2:
            return rng.choice([True, False])
        if pick == 3:
            return None
        if pick == 4:
            return rng.choice([0.5, 1e300, -0.0, float("nan")])
        if pick == 5:
            return rng.choice(texts)
        if pick in (6, 7):
            return {rng.choice(texts) + str(i): value(depth + 1) for i in range(rng.randrange(4))}
        if pick == 8:
            return tuple(value(depth + 1) for _ in range(rng.randrange(3)))
        if pick == 9:
            return {rng.choice([1, None, True, "k"]): value(depth + 1)}
        if pick == 10:
            return OrderedDict(a=value(depth + 1))
        return [value(depth + 1) for _ in range(rng.randrange(4))]

    for _ in range(3000):
        obj = value(0)
        assert _dump(obj) == (json.dumps(obj, ensure_ascii=False, indent=1) + "\n").encode("utf-8"), repr(obj)


def test_open_data_from_the_cache_is_what_is_made_without_it(demo, data_dir: Path, tmp_path: Path):
    """The workbooks' sheets and the tables' CSV and JSON of the last build are reused only for
    tables whose rows did not change: the files are byte for byte those made without a cache,
    after a record changed too; files of tables no longer made leave the cache."""
    cache = tmp_path / "cache"
    plain = opendata.open_data_files(demo)
    assert dict(opendata.iter_open_data_files(demo, cache)) == plain
    stored = {p: p.read_bytes() for p in cache.rglob("*") if p.is_file()}
    assert len([p for p in stored if p.parent.name == "open-data-tables"]) == 2 * len(
        opendata.published_resources(load_package())) + len(opendata.API_LISTS)
    assert dict(opendata.iter_open_data_files(demo, cache)) == plain
    assert {p: p.read_bytes() for p in cache.rglob("*") if p.is_file()} == stored  # nothing made again
    record = sorted((data_dir / "commitments").glob("*.yaml"))[0]
    text = record.read_text(encoding="utf-8")
    record.write_text(re.sub(r"^title: (.*)$", r"title: \1（改）", text, count=1, flags=re.M), encoding="utf-8")
    changed = facts_from(data_dir)
    again = dict(opendata.iter_open_data_files(changed, cache))
    assert again == opendata.open_data_files(changed) and again != plain
    now = {p: p.read_bytes() for p in cache.rglob("*") if p.is_file()}
    assert 0 < len(set(now) - set(stored)) < len(stored) // 2  # only the changed tables' files are new
    assert len(now) == len(stored)  # the old ones removed


def test_api_lists_written_field_by_field_are_what_json_dumps_writes(demo):
    """api_list_bytes encodes each field's values in one pass and each item by a template: the
    same bytes as json.dumps(api_list(...), indent=1), for the real lists and for lists of odd
    values (texts to escape, %, nested lists and dicts, a float that sends the list to json)."""
    import random

    for spec in opendata.API_LISTS:
        expected = (json.dumps(opendata.api_list(demo, spec), ensure_ascii=False, indent=1) + "\n").encode("utf-8")
        assert opendata.api_list_bytes(demo, spec) == expected

    rng = random.Random(5)
    odd = ["", "%s", "%(x)s", "中文\n\"引号\"", "\\", "\x00\x1f", "</script>", None, True, False, 0, -7, 10**20,
           ["a", None], [], {"k": [1, {"%": None}]}, {}, ("t", 2)]
    for n in range(60):
        values = odd + ([0.5] if n % 7 == 0 else [])
        table = [[rng.choice(values) for _ in range(4)] for _ in range(rng.randrange(4))]
        fields = tuple(opendata.ApiField(key, key, (lambda row, i=i: row[i]))
                       for i, key in enumerate(["id", "%d%%", "名称", "a\"b"]))
        spec = opendata.ApiList("odd", "奇怪的列表", lambda facts, table=table: table, fields)
        expected = (json.dumps(opendata.api_list(demo, spec), ensure_ascii=False, indent=1) + "\n").encode("utf-8")
        assert opendata.api_list_bytes(demo, spec) == expected, table


def test_api_lists_from_the_cache_follow_their_values(demo, tmp_path: Path, monkeypatch):
    """An API list is taken from the cache only when every value and the envelope are the last
    build's; a changed arrears record remakes the arrears list; a damaged cache file is made again."""
    from generator.xlsx import SheetCache

    made: list[int] = []
    text = opendata._api_list_text
    monkeypatch.setattr(opendata, "_api_list_text", lambda facts, spec, rows: made.append(1) or text(facts, spec, rows))
    spec = next(s for s in opendata.API_LISTS if s.name == "arrears")
    plain = opendata.api_list_bytes(demo, spec)
    folder = tmp_path / "tables"
    assert opendata.api_list_bytes(demo, spec, SheetCache(folder)) == plain and len(made) == 2
    assert opendata.api_list_bytes(demo, spec, SheetCache(folder)) == plain and len(made) == 2  # from the cache
    first = demo.arrears[0]
    changed = dataclasses.replace(demo, arrears=(dataclasses.replace(first, repaid=first.repaid + 1),) + demo.arrears[1:])
    expected = opendata.api_list_bytes(changed, spec)
    assert expected != plain
    made.clear()
    assert opendata.api_list_bytes(changed, spec, SheetCache(folder)) == expected and made == [1]
    later = dataclasses.replace(demo, as_of=date(2027, 1, 4))  # the envelope's date
    assert opendata.api_list_bytes(later, spec, SheetCache(folder)) == opendata.api_list_bytes(later, spec)
    for path in folder.iterdir():
        path.write_bytes(path.read_bytes()[:-2])
    made.clear()
    assert opendata.api_list_bytes(changed, spec, SheetCache(folder)) == expected and made == [1]


def test_a_record_kind_unchanged_by_its_page_keys_is_not_got_again(demo, tmp_path: Path, monkeypatch):
    """With the records' page keys (render.RenderResult.record_keys), a kind whose keys, as-of
    date and settings are the last build's gives its tables' digests and row counts from
    open-data-kinds.json: its rows and API list values are not got, and every file is the one made
    without a cache; a changed record's kind is got again; a damaged memo file is not used."""
    keys = {(kind, item.record.id): f"{kind}/{item.record.id}/1" for kind in opendata.KIND_TABLES
            for item in getattr(demo, kind)}
    got: list[str] = []
    table_rows, api_text = opendata.table_rows, opendata._api_list_text
    monkeypatch.setattr(opendata, "table_rows", lambda facts, res: got.append(res.name) or table_rows(facts, res))
    monkeypatch.setattr(opendata, "_api_list_text",
                        lambda facts, spec, rows: got.append(f"api/{spec.name}") or api_text(facts, spec, rows))
    plain = opendata.open_data_files(demo)
    cache = tmp_path / "cache"
    assert dict(opendata.iter_open_data_files(demo, cache, keys)) == plain
    got.clear()
    assert dict(opendata.iter_open_data_files(demo, cache, keys)) == plain
    kinds = {table for names in opendata.KIND_TABLES.values() for table in names}
    assert got and not any(name in kinds or name.removeprefix("api/") in opendata.KIND_TABLES for name in got)

    first = demo.arrears[0]
    changed = dataclasses.replace(demo, arrears=(dataclasses.replace(first, repaid=first.repaid + 1),) + demo.arrears[1:])
    changed_keys = {**keys, ("arrears", first.record.id): "changed"}
    expected = opendata.open_data_files(changed)
    assert expected != plain
    got.clear()
    assert dict(opendata.iter_open_data_files(changed, cache, changed_keys)) == expected
    assert "arrears" in got and "api/arrears" in got and "commitments" not in got

    memo = cache / "open-data-kinds.json"
    saved = json.loads(memo.read_text(encoding="utf-8"))
    values = saved["kinds"]["commitments"]["values"]
    values["count:commitments"] += 1  # damaged (still JSON): not used
    memo.write_text(json.dumps(saved), encoding="utf-8")
    got.clear()
    assert dict(opendata.iter_open_data_files(changed, cache, changed_keys)) == expected
    assert "commitments" in got
    memo.write_text("{", encoding="utf-8")
    assert dict(opendata.iter_open_data_files(changed, cache, changed_keys)) == expected
    # Another as-of date: every kind got again, whatever the keys say.
    later = dataclasses.replace(changed, as_of=date(2027, 1, 4))
    got.clear()
    assert dict(opendata.iter_open_data_files(later, cache, changed_keys)) == opendata.open_data_files(later)
    assert {"commitments", "arrears", "findings"} <= set(got)
