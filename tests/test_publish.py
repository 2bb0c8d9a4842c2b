"""The whole pipeline: a complete site from the demo data, atomic on failure, byte-identical twice."""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from generator.cli import main
from generator.derive import derive
from generator.load import load
from generator.publish import build_site
from generator.validate import validate
from tests.conftest import DEMO_DATA, edit

AS_OF = date(2026, 11, 26)
HIDDEN = ("DF-2024-002", "DF-2025-001", "DF-2025-003", "DF-2026-004")  # DF-2024-001: shown to 2027-04-12 (order 58)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    build_site(DEMO_DATA, out, as_of=AS_OF, history=False, build_dir=out.parent / "build")
    return out


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_record_department_and_list_page_exists(built: Path):
    facts = derive(validate(load(DEMO_DATA)).dataset, AS_OF)
    pages = ["index.html", "commitments/index.html", "arrears/index.html", "findings/index.html",
             "evaluations/index.html", "tasks/index.html", "departments/index.html", "data/index.html",
             "data/dictionary/index.html", "about/index.html", "objection/index.html", "methodology/index.html"]
    pages += [f"commitments/{c.record.id}/index.html" for c in facts.commitments]
    pages += [f"arrears/{a.record.id}/index.html" for a in facts.arrears]
    pages += [f"findings/{f.record.id}/index.html" for f in facts.findings]
    pages += [f"departments/{d.department.id}/index.html" for d in facts.departments]
    missing = [p for p in pages if not (built / p).is_file()]
    assert missing == []


def test_home_shows_the_figures_of_the_data(built: Path):
    facts = derive(validate(load(DEMO_DATA)).dataset, AS_OF)
    home = (built / "index.html").read_text(encoding="utf-8")
    assert "演示数据" in home and "2026年11月26日" in home
    assert f"{facts.summary.findings_on_display} 条" in home
    assert f"{facts.summary.commitments} 项" in home


def test_hidden_findings_appear_nowhere(built: Path):
    for path in built.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".xml", ".csv", ".txt", ".md"):
            text = path.read_text(encoding="utf-8", errors="replace")
            for finding_id in HIDDEN:
                assert finding_id not in text, (path, finding_id)


def test_no_page_loads_anything_from_another_host(built: Path):
    """Scripts, styles, images and fonts all come from the site; canonical/alternate links may name it."""
    from html.parser import HTMLParser

    loading_rels = {"stylesheet", "icon", "preload", "modulepreload", "prefetch", "manifest", "apple-touch-icon"}

    class Loads(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.external: list[str] = []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            url = a.get("src") if tag in ("script", "img", "iframe", "source", "audio", "video", "embed") else None
            if tag == "link" and loading_rels & set((a.get("rel") or "").split()):
                url = a.get("href")
            if url and re.match(r"(https?:)?//", url):
                self.external.append(url)
            if "style" in a and "url(" in (a["style"] or ""):
                self.external.append(a["style"])

    offenders = {}
    for page in built.rglob("*.html"):
        parser = Loads()
        parser.feed(page.read_text(encoding="utf-8"))
        if parser.external:
            offenders[page.relative_to(built).as_posix()] = parser.external
    assert offenders == {}
    css = "".join(p.read_text(encoding="utf-8") for p in built.rglob("*.css"))
    assert not re.search(r"url\((['\"]?)(https?:)?//", css), "a stylesheet loads from another host"


def test_search_finds_arrears_by_a_chinese_word(built: Path):
    import json

    docs = json.loads((built / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    hits = [d["location"] for d in docs if "拖欠" in d["text"].replace("\u200b", "") + d["title"]]
    assert any(loc.startswith("arrears/AR-") for loc in hits)
    # jieba segmented the text (words joined by U+200B): without it Chinese search fails silently.
    assert any("\u200b" in d["text"] for d in docs)


def test_two_builds_are_byte_identical(built: Path, tmp_path: Path):
    again = tmp_path / "site"
    build_site(DEMO_DATA, again, as_of=AS_OF, history=False, build_dir=tmp_path / "build")
    first, second = tree_digest(built), tree_digest(again)
    assert "sitemap.xml" in first and "search/search_index.json" in first
    assert first == second


def test_failed_build_leaves_the_last_good_site(built: Path, tmp_path: Path, capsys):
    site = tmp_path / "site"
    shutil.copytree(built, site)
    before = tree_digest(site)
    data = tmp_path / "data"
    shutil.copytree(DEMO_DATA, data)
    edit(data / "commitments" / "CM-2024-001.yaml", "category: ", "category: 不存在的类别  # ", 1)
    code = main(["build", "--data", str(data), "--out", str(site), "--as-of", "2026-11-26", "--no-history"])
    out = capsys.readouterr()
    assert code == 1
    assert "commitments/CM-2024-001.yaml:" in out.out and "不存在的类别" in out.out
    assert tree_digest(site) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".site.new-", ".site.old-"))]  # no staging left


def test_a_failing_mkdocs_build_also_keeps_the_old_site(built: Path, tmp_path: Path, capsys):
    site = tmp_path / "site"
    shutil.copytree(built, site)
    before = tree_digest(site)
    build_dir = tmp_path / "build"
    build_site(DEMO_DATA, tmp_path / "other", as_of=AS_OF, history=False, build_dir=build_dir)
    # A broken link in a hand-written page makes the strict build fail.
    content = Path(__file__).resolve().parent.parent / "content"
    broken = tmp_path / "content"
    shutil.copytree(content, broken)
    (broken / "about.md").write_text("# 关于\n\n[坏链接](no-such-page.md)\n", encoding="utf-8")
    from generator import publish, render

    original = render.render
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(render, "render", lambda facts, build_dir, **kw: original(facts, build_dir, content_dir=broken, **kw))
        with pytest.raises(publish.BuildFailed) as failure:
            build_site(DEMO_DATA, site, as_of=AS_OF, history=False, build_dir=build_dir)
    assert "no-such-page.md" in str(failure.value)
    assert tree_digest(site) == before


def test_objection_reply_date_in_an_uncovered_year_never_stops_the_build(data_dir: Path, tmp_path: Path, capsys):
    """Issue 11, item 3: an objection filed 2026-12-18 has its reply date in 2027 (no schedule yet).

    The build exits 0; the date is computed on weekdays, marked as an estimate on the page and in
    the api JSON, and validation warns, naming data/calendar.yaml."""
    edit(data_dir / "findings" / "DF-2026-002.yaml", "objections: []",
         "objections:\n  - filed_on: 2026-12-18\n    summary: 申请更正欠款金额的表述。")
    out = tmp_path / "site"
    code = main(["build", "--data", str(data_dir), "--out", str(out), "--as-of", "2027-01-15", "--no-history"])
    assert code == 0
    captured = capsys.readouterr()
    assert "data/calendar.yaml" in captured.out + captured.err
    page = (out / "findings" / "DF-2026-002" / "index.html").read_text(encoding="utf-8")
    assert "2027年1月8日" in page and "估算" in page
    import json
    api = json.loads((out / "data" / "api" / "findings.json").read_text(encoding="utf-8"))
    item = next(i for i in api["items"] if i["id"] == "DF-2026-002")
    assert item["objections"] == [{"filed_on": "2026-12-18", "reply_due": "2027-01-08", "reply_due_estimated": True,
                                   "overdue": True}]
    assert item["estimated"] is True
    code = main(["validate", "--data", str(data_dir), "--as-of", "2027-01-15"])
    assert code == 0
    text = capsys.readouterr().out
    assert "2027 年的节假日安排" in text and "DF-2026-002.yaml" in text and "data/calendar.yaml" in text


@pytest.mark.parametrize("as_of, warned", [("2026-10-31", False), ("2026-11-01", True), ("2026-12-31", True)])
def test_validation_warns_in_november_when_next_year_is_not_covered(as_of, warned):
    report = validate(load(DEMO_DATA), date.fromisoformat(as_of))
    calendar = [p for p in report.problems if p.code == "calendar" and p.file == "calendar.yaml"]
    assert report.errors == []
    assert bool(calendar) is warned
    if warned:
        assert "2027 年" in calendar[0].message and "data/calendar.yaml" in calendar[0].hint


# --- no silent edits (issue 16): tombstones, change logs, the drift page and the feed ---------------


def test_withdrawn_record_keeps_its_page_as_a_tombstone(built: Path):
    page = (built / "commitments" / "CM-2025-006" / "index.html").read_text(encoding="utf-8")
    assert 'class="admonition warning zq-tombstone"' in page
    assert "与 CM-2025-002 为同一承诺" in page and "站政办函〔2025〕18号" in page
    assert "工业企业技术改造补贴资金拨付" in page  # what it was stays readable
    # only withdrawn records carry the notice
    assert "zq-tombstone" not in (built / "commitments" / "CM-2025-002" / "index.html").read_text(encoding="utf-8")
    # the list keeps it with its status; the feed says it was withdrawn
    assert 'data-status="已撤回"' in (built / "commitments" / "index.html").read_text(encoding="utf-8")
    assert "撤回：与 CM-2025-002 为同一承诺" in (built / "feed.xml").read_text(encoding="utf-8")


def test_deadline_change_is_on_the_drift_page_in_the_feed_and_in_the_change_log(built: Path):
    drift = (built / "changes" / "index.html").read_text(encoding="utf-8")
    assert "CM-2025-003" in drift and "站政办函〔2026〕41号" in drift and "申报窗口调整至第二季度" in drift
    record = (built / "commitments" / "CM-2025-003" / "index.html").read_text(encoding="utf-8")
    log = record.split('id="变更说明"')[1].split("</ol>")[0]
    assert "兑现期限" in log and "由 2027-03-31 调整为 2027-06-30" in log and "站政办函〔2026〕41号" in log
    feed = (built / "feed.xml").read_text(encoding="utf-8")
    assert "承诺内容、兑现期限变更：兑现期限由 2027-03-31 调整为 2027-06-30" in feed and "CM-2025-003" in feed
    department_feed = (built / "feeds" / "swj.xml").read_text(encoding="utf-8")
    assert "兑现期限由 2027-03-31 调整为 2027-06-30" in department_feed
    csv = (built / "data" / "csv" / "commitment_changes.csv").read_text(encoding="utf-8-sig")
    assert "CM-2025-003,2026-10-15,content、deadline," in csv  # field names in the schema's order


def test_change_log_of_a_finding_the_law_took_down_is_no_back_door(built: Path):
    marker = "撤销后不再公示的更正说明"
    assert marker in (DEMO_DATA / "findings" / "DF-2025-001.yaml").read_text(encoding="utf-8")  # the demo has one
    for path in built.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".csv", ".xml", ".txt", ".ics", ".md", ".js"):
            text = path.read_text(encoding="utf-8", errors="replace")
            assert marker not in text and "站统认更〔2025〕1号" not in text, path
    csv = (built / "data" / "csv" / "finding_changes.csv").read_text(encoding="utf-8-sig")
    assert "DF-2025-001" not in csv


def test_pages_carry_no_theme_indentation(built):
    """The theme's indentation and blank lines are one line break in every page (about 18 % of
    a record page); <pre>, <textarea>, <script>, <style> and <code> keep their white space."""
    pages = sorted(p for p in built.rglob("*.html") if p.parent.name != "letters")  # letters: not theme pages
    assert any("/commitments/CM-" in p.as_posix() for p in pages)  # stamped record pages too
    for page in pages:
        html = page.read_text(encoding="utf-8")
        text = re.sub(r"<(pre|textarea|script|style|code)\b.*?</\1\s*>|<[^>]*>", "<x>", html, flags=re.S | re.I)
        assert not re.search(r"\n[ \t]+", text), page  # indentation
        theme = re.sub(r"<article\b.*?</article>", "<x>", html, flags=re.S)  # the page's own content aside
        assert "\n\n" not in theme, page  # blank lines


def test_prepare_keeps_the_cyclic_collector_as_it_found_it(data_dir: Path):
    """load, validate and derive run with the cyclic collector off (publish.prepare_with_dataset),
    which is on again afterwards, also when the data has errors, and stays off when it was."""
    import gc

    from generator.problems import DataInvalid
    from generator.publish import prepare

    assert gc.isenabled()
    facts, _ = prepare(data_dir, AS_OF)
    assert gc.isenabled() and facts.commitments
    gc.unfreeze()  # (what render does with the objects prepare froze)
    gc.disable()
    try:
        prepare(data_dir, AS_OF)
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()
    bad = next((data_dir / "commitments").glob("*.yaml"))
    bad.write_text(bad.read_text(encoding="utf-8").replace("status:", "status: 不存在的状态\nx:", 1), encoding="utf-8")
    with pytest.raises(DataInvalid):
        prepare(data_dir, AS_OF)
    assert gc.isenabled()
