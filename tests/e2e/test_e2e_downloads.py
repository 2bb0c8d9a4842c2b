"""The published data package, the feed, and what must never be anywhere in site/."""

from __future__ import annotations

import json
import shutil
import subprocess

import feedparser
import pytest

from e2e_support import HIDDEN_FINDINGS, files_containing

pytestmark = pytest.mark.browser


def frictionless_validate(descriptor) -> subprocess.CompletedProcess:
    exe = shutil.which("frictionless")
    assert exe, "the frictionless CLI is not on PATH (pip install frictionless)"
    return subprocess.run([exe, "validate", "--json", str(descriptor)], capture_output=True, text=True, timeout=300)


def _report_errors(proc: subprocess.CompletedProcess) -> str:
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = [f"{e.get('type')}: {e.get('message')}" for e in report.get("errors", [])]
    for task in report.get("tasks", []):
        for e in task.get("errors", [])[:10]:
            lines.append(f"{task.get('name') or task.get('place')}: {e.get('type')}: {e.get('message')}")
    return "\n".join(lines[:60])


def test_frictionless_accepts_the_data_package(demo_site):
    descriptor = demo_site / "data" / "datapackage.json"
    assert descriptor.is_file(), "site/data/datapackage.json is missing"
    proc = frictionless_validate(descriptor)
    assert proc.returncode == 0, f"frictionless validate failed (exit {proc.returncode}):\n{_report_errors(proc)}"
    report = json.loads(proc.stdout)
    assert report["valid"] is True
    assert len(report["tasks"]) >= 10, "fewer tables than expected were validated"


def test_mutation_frictionless_rejects_a_broken_table(demo_site, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(demo_site / "data", copy, ignore=shutil.ignore_patterns("*.xlsx", "*.zip", "*.html"))
    package = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    resource = next(r for r in package["resources"] if r["name"] == "arrears")
    csv_path = copy / resource["path"]
    lines = csv_path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("amount")] = "很多"
    lines[1] = ",".join(cells)
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = frictionless_validate(copy / "datapackage.json")
    assert proc.returncode != 0, "frictionless accepted a table with a non-number amount"


def test_no_personal_identifier_anywhere(demo_site):
    from generator.privacy import scan_text_files

    found = scan_text_files(demo_site)
    assert not found, "personal identifiers in the built site:\n" + "\n".join(
        f"{p.relative_to(demo_site)}: {m.kind if hasattr(m, 'kind') else m} {excerpt}" for p, m, excerpt in found[:30])


def test_mutation_privacy_scan_finds_an_id_number(tmp_path):
    from generator.privacy import id_card_check_char, scan_text_files

    first17 = "21080219800101001"
    (tmp_path / "page.html").write_text(f"<p>身份证号 {first17}{id_card_check_char(first17)}</p>", encoding="utf-8")
    assert scan_text_files(tmp_path)


def test_feed_parses(demo_site, demo_facts):
    feed = feedparser.parse((demo_site / "feed.xml").read_bytes())
    assert not feed.bozo, f"feed.xml is not well-formed: {feed.bozo_exception!r}"
    assert feed.entries, "feed.xml has no entries"
    for entry in feed.entries:
        assert entry.get("title") and entry.get("link") and entry.get("updated"), entry
    ids = " ".join(e.get("link", "") + e.get("id", "") for e in feed.entries)
    assert demo_facts.changes[0].record_id in ids, "the newest change is not in the feed"


def test_hostile_feed_parses(hostile_site):
    feed = feedparser.parse((hostile_site / "feed.xml").read_bytes())
    assert not feed.bozo, f"feed.xml of the hostile site is not well-formed: {feed.bozo_exception!r}"


def test_mutation_broken_feed_is_caught(tmp_path):
    broken = b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title><script></title></feed>'
    assert feedparser.parse(broken).bozo


def test_hidden_findings_appear_nowhere(demo_site):
    hits = files_containing(demo_site, HIDDEN_FINDINGS)
    assert not hits, "findings that are not on display leak into the built site:\n" + "\n".join(hits)
    # The search index, sitemap, feed and downloads were looked at:
    for name in ("search/search_index.json", "sitemap.xml", "feed.xml", "data/datapackage.json"):
        assert (demo_site / name).is_file(), f"{name} is missing from the build"


def test_mutation_hidden_finding_in_the_search_index_is_caught(demo_site, tmp_path):
    (tmp_path / "search").mkdir()
    index = (demo_site / "search" / "search_index.json").read_text(encoding="utf-8")
    (tmp_path / "search" / "search_index.json").write_text(index.replace("]", ',{"location":"findings/DF-2025-001/"}]', 1),
                                                            encoding="utf-8")
    assert files_containing(tmp_path, HIDDEN_FINDINGS) == ["search/search_index.json: DF-2025-001"]
