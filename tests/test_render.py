"""The render stage: Markdown pages for MkDocs from the derived facts.

Fixtures are built here from model objects (a few departments and records),
run through the real derive stage, and rendered into tmp_path. Assertions are
on content, never whole-file snapshots.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import markdown
import pytest
import yaml

from generator import model, pack, render as render_mod, sitefiles
from generator.derive import derive
from generator.history import FieldChange, History, Revision
from generator.render import (
    cn_date,
    markdown_html,
    money,
    page_url,
    percent,
    record_path,
    render,
    safe_href,
    safe_title,
    text_br,
    url,
    wan,
    yuan,
)
from generator.workdays import WorkdayCalendar

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 11, 26)
MKDOCS_EXTENSIONS = ["tables", "attr_list", "md_in_html", "toc"]

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "| a | b |",
    "{{ 7*7 }}",
    "{% raw %}",
    "`tick`",
    "*stars*",
    "&amp;",
]
HOSTILE_TEXT = " ".join(HOSTILE)


# --- fixtures -----------------------------------------------------------------------------


def make_site(**changes) -> model.Site:
    rules = model.Rules(
        serious_publish_workdays=7,
        objection_reply_workdays=15,
        regimes=(
            model.Regime("发改办财金〔2019〕527号", date(2019, 1, 1), {
                "轻微": model.Period(0, 3, False), "一般": model.Period(3, 12, True), "严重": model.Period(6, 36, True)}),
            model.Regime("国办发〔2025〕22号", date(2026, 4, 1), {
                "轻微": model.Period(0, 3, False), "一般": model.Period(3, 12, True), "严重": model.Period(12, 36, True)}),
        ),
        payment=model.PaymentRules("保障中小企业款项支付条例（国务院令第802号）", 30, 60, Decimal("0.05"), (3, 31)),
    )
    site = model.Site(
        site_name="测试区诚信政府建设信息公开", publisher="测试区人民政府办公室", region="测试省测试区", sample=True,
        timezone="Asia/Shanghai", base_url="https://example.gov.cn/",
        licence={"name": "政府信息公开", "url": "https://example.gov.cn/about/"},
        contact={"hotline": "12345", "address": "测试地址", "email": "x@example.gov.cn"},
        identifiers={"site_code": "0000000000"},
        policy={"title": "关于加强诚信政府建设的实施意见", "issuer": "测试区人民政府", "date": "2024-02-22",
                "url": "https://example.gov.cn/policy/"},
        rules=rules,
    )
    return dataclasses.replace(site, **changes)


DEPARTMENTS = (
    model.Department("fgj", "区发改局", "区直部门", 1, True),
    model.Department("czj", "区财政局", "区直部门", 2, True),
    model.Department("jd-a", "甲街道办事处", "街道办事处", 10, True),
)


def commitment(cid="CM-2024-001", **changes) -> model.Commitment:
    c = model.Commitment(
        id=cid, title=f"承诺事项{cid}", category="招商引资", department="fgj", partners=("czj",),
        counterparty="营口某某机械有限公司", counterparty_masked=True, promised_on=date(2024, 3, 1),
        source="《招商引资协议》", content="按协议兑现**奖励**。", deadline=date(2025, 6, 30), status="履行中",
        fulfilled_on=None, change_decided_on=None, change_basis=None, change_compensation=None,
        progress=(model.Note(date(2024, 9, 1), "第一批奖励已拨付。"),),
        rectification=(model.RectificationStep("制定整改方案", date(2025, 9, 30), None),),
        file=f"commitments/{cid}.yaml",
    )
    return dataclasses.replace(c, **changes)


def arrears(aid="AR-2024-001", debtor="fgj", amount="123456.78", repaid=("23456.78",), **changes) -> model.ArrearsItem:
    a = model.ArrearsItem(
        id=aid, debtor=debtor, creditor="营口某某建筑工程有限公司", creditor_code=None, creditor_size="小型",
        project=f"项目{aid}", contract_no="HT-001", amount=Decimal(amount), delivered_on=date(2024, 1, 10),
        due_on=date(2024, 2, 9), found_on=date(2024, 3, 1), agreed_daily_rate=None, disputed=False, resolution=None,
        note=None,
        plan=(model.Instalment(date(2024, 6, 30), Decimal(amount)),),
        repayments=tuple(model.Repayment(date(2024, 5, 1 + i), Decimal(v), None) for i, v in enumerate(repaid)),
    )
    return a._replace(**changes)


def finding(fid="DF-2026-001", **changes) -> model.Finding:
    f = model.Finding(
        id=fid, subject="fgj", subject_kind="政府机构", person=None, severity="一般", category="拖欠账款",
        summary="拖欠企业账款。", decision_authority="区发改局", decision_doc_no="发改信认〔2026〕1号",
        decision_decided_on=date(2026, 10, 15), decision_basis="《条例》", published_on=date(2026, 10, 20),
        disclosure_until=None, measures="通报", rectification_due=date(2026, 12, 31), rectification_done_on=None,
        repair_applied_on=None, repair_decided_on=None, repair_outcome=None, related=("AR-2024-001", "CM-2099-001"),
        objections=(model.Objection(date(2026, 11, 10), "已协商还款。", None, None),), file=f"findings/{fid}.yaml",
    )
    return dataclasses.replace(f, **changes)


def evaluation(year, dept, score, grade) -> model.Evaluation:
    return model.Evaluation(year, dept, "某某研究院", "第三方评价", Decimal(score), grade, date(year + 1, 3, 20),
                            f"https://example.gov.cn/r/{year}/{dept}.pdf", None, None)


TASKS = (
    model.Task("3.1", "健全制度体系", "加快法规制度建设", "出台规范性文件。", "推进中",
               (model.TaskUnit("牵头", "fgj"), model.TaskUnit("配合", "区直各部门")),
               (model.Note(date(2025, 1, 5), "已印发清单。"),), "tasks.yaml"),
    model.Task("4.1", "重点领域", "清理拖欠账款", "清理拖欠中小企业账款。", "常态化",
               (model.TaskUnit("牵头", "czj"), model.TaskUnit("配合", "各街道办事处")), (), "tasks.yaml"),
)


def dataset(commitments=None, arrears_items=None, findings=None, evaluations=None, site=None) -> model.Dataset:
    return model.Dataset(
        site=site or make_site(), calendar=WorkdayCalendar(), departments=DEPARTMENTS, tasks=TASKS,
        commitments=tuple(commitments if commitments is not None else (commitment(), commitment("CM-2025-001", status="已兑现", fulfilled_on=date(2025, 5, 1), rectification=()))),
        arrears=tuple(arrears_items if arrears_items is not None else (
            arrears(), arrears("AR-2024-002", debtor="czj", amount="50000.01", repaid=("0.01", "49999.99")),
            arrears("AR-2025-001", debtor="fgj", amount="7777.77", repaid=(), found_on=date(2025, 4, 1)))),
        findings=tuple(findings if findings is not None else (
            finding(), finding("DF-2024-001", decision_decided_on=date(2023, 1, 10), published_on=date(2023, 1, 15)))),
        evaluations=tuple(evaluations if evaluations is not None else (
            evaluation(2024, "fgj", "90.5", "优秀"), evaluation(2024, "czj", "85.0", "良好"),
            evaluation(2025, "fgj", "88.0", "良好"), evaluation(2025, "czj", "88.0", "良好"),
            evaluation(2025, "jd-a", "70.0", "合格"))),
    )


def facts_of(**kwargs):
    return derive(dataset(**kwargs), AS_OF)


def do_render(facts, build: Path, **kwargs):
    return render(facts, build, **kwargs)


def read(build: Path, rel: str) -> str:
    """A Markdown page as written, or a record or department page (HTML) with its title as front matter."""
    entry = html_pages(build).get(rel[:-3] + "/")
    if entry is None:
        text = (build / "docs" / rel).read_text(encoding="utf-8")
        blocks = {}
        if (build / "blocks.pack").is_file():  # the tables handed to the engine beside the Markdown
            blocks = {path: (meta, data) for path, meta, data in pack.entries(build / "blocks.pack")}
        if rel in blocks:  # put back as the engine does
            meta, data = blocks[rel]
            ends = list(itertools.accumulate(meta["sizes"]))
            parts = [data[a:b].decode("utf-8") for a, b in zip([0] + ends, ends)]
            text = re.sub(r"ZQBLOCK-([0-9]+)-ZQ", lambda m: parts[int(m.group(1))], text)
            figures = meta.get("figures", [])  # the home page's numbers (generator/figures.py)
            text = re.sub(r"ZQFIG-([0-9]+)-ZQ", lambda m: figures[int(m.group(1))], text)
        return text
    return "---\n" + yaml.safe_dump({"title": entry["title"]}, allow_unicode=True) + "---\n\n" + entry["body"]


def html_pages(build: Path) -> dict[str, dict]:
    """The record and department pages of build/pages.pack: URL → meta with the body (text) added."""
    return {url: {**meta, "url": url, "body": body.decode("utf-8")} for url, meta, body in pack.entries(build / "pages.pack")}


def split_front_matter(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(head), body


def to_html(text: str) -> str:
    """The conversion MkDocs applies to a page (front matter removed as MkDocs does)."""
    return markdown.markdown(split_front_matter(text)[1], extensions=MKDOCS_EXTENSIONS)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.fixture
def build(tmp_path) -> Path:
    return tmp_path / "build"


# --- formatting filters -----------------------------------------------------------------


def test_formatting_filters():
    assert cn_date(date(2024, 3, 1)) == "2024年3月1日"
    assert cn_date(None) == ""
    assert yuan(Decimal("1234567.89")) == "1,234,567.89 元"
    assert yuan(Decimal("0")) == "0.00 元"
    assert yuan(5) == "5.00 元"
    assert wan(Decimal("1234567.89")) == "123.46万元"
    assert wan(Decimal("1234650")) == "123.47万元"  # half up, not half even
    assert wan(Decimal("12345678901.23")) == "1,234,567.89万元"
    assert money(Decimal("9999.99")) == "9,999.99 元"
    assert money(Decimal("10000")) == "10,000.00 元（1.00万元）"
    assert percent(Decimal("0.4567")) == "45.67%"
    assert percent(Decimal("1")) == "100.00%"
    with pytest.raises(TypeError):
        yuan(0.1)  # money never goes through float


def test_text_br_escapes_and_keeps_lines():
    out = str(text_br("a <b> & c\n\nd\r\ne\x02"))
    assert out == "a &lt;b&gt; &amp; c<br><br>d<br>e"
    assert "\n" not in out


def test_safe_title():
    t = safe_title('<script>alert(1)</script> & "x"\n\u202e第二行\x00')
    assert "<" not in t and ">" not in t and "&" not in t
    assert "\n" not in t and "\u202e" not in t and "\x00" not in t
    assert t == '＜script＞alert(1)＜/script＞ ＆ "x" 第二行'


def test_url_helper():
    assert page_url("index.md") == ""
    assert page_url("commitments/index.md") == "commitments/"
    assert page_url("commitments/CM-2024-001.md") == "commitments/CM-2024-001/"
    assert url("commitments/index.md", "commitments/CM-2024-001.md") == "CM-2024-001/"
    assert url("commitments/page-2.md", "commitments/CM-2024-001.md") == "../CM-2024-001/"
    assert url("departments/fgj.md", "commitments/CM-2024-001.md") == "../../commitments/CM-2024-001/"
    assert url("index.md", "commitments/CM-2024-001.md") == "commitments/CM-2024-001/"
    assert url("index.md", "arrears/index.md") == "arrears/"
    assert url("commitments/CM-2024-001.md", "index.md") == "../../"
    assert url("commitments/index.md", "index.md") == "../"
    assert url("commitments/index.md", "commitments/index.md") == "./"
    assert url("commitments/index.md", "commitments/page-2.md") == "page-2/"
    assert url("commitments/CM-2024-001.md", "objection.md") == "../../objection/"
    assert url("about.md", "feed.xml") == "../feed.xml"
    assert url("departments/fgj.md", "departments/czj.md", "评价结果") == "../czj/#评价结果"
    with pytest.raises(ValueError):
        url("../x.md", "index.md")


@pytest.mark.parametrize("kind,bad", [
    ("commitments", "../../x"), ("commitments", "CM-2024-001/../../x"), ("commitments", "AR-2024-001"),
    ("commitments", "CM-2024-01"), ("commitments", "CM-2024-001\n"), ("commitments", "CM-２０２４-001"),
    ("findings", "DF-2024-001.md"), ("arrears", ""), ("departments", "../fgj"), ("departments", "FGJ"),
    ("departments", "index"), ("departments", "a/b"), ("elsewhere", "CM-2024-001"),
])
def test_record_path_rejects(kind, bad):
    with pytest.raises(ValueError):
        record_path(kind, bad)


def test_record_path_accepts():
    assert record_path("commitments", "CM-2024-001") == "commitments/CM-2024-001.md"
    assert record_path("arrears", "AR-2024-0012") == "arrears/AR-2024-0012.md"
    assert record_path("findings", "DF-2026-005") == "findings/DF-2026-005.md"
    assert record_path("departments", "jd-a") == "departments/jd-a.md"


@pytest.mark.parametrize("href,ok", [
    ("https://example.gov.cn/a", True), ("http://example.gov.cn", True), ("../policy/", True), ("a/b.html#x", True),
    ("#x", True), ("javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False), (" javascript:alert(1)", False),
    ("java\tscript:alert(1)", False), ("java\nscript:x", False), ("&#106;avascript:alert(1)", False),
    ("&amp;#106;avascript:alert(1)", False), ("data:text/html,x", False), ("vbscript:x", False),
    ("//evil.example/x", False), ("\\\\evil", False), ("https:///x", False), ("mailto:a@b", False),
    ("java\x00script:x", False),
])
def test_safe_href(href, ok):
    assert safe_href(href) is ok


def test_markdown_field_is_rendered_safely():
    source = ("正文 <script>alert(1)</script> <img src=x onerror=alert(1)> **粗体** `<b>&amp;`\n\n"
              "[坏链接](javascript:alert(1)) [好链接](https://example.gov.cn/x?a=1&b=2) ![图](http://evil/x.png)\n\n"
              "[参考][r]\n\n[r]: javascript:alert(2)\n\n# 标题\n\n    代码 <i>\n\n\n    更多\n")
    html = str(markdown_html(source))
    tags = tags_of(html)
    assert not [t for t, _ in tags if t in ("script", "img", "h1", "h2")]
    assert not [a for _, a in tags for k in a if k.startswith("on")]
    assert "javascript:" not in html.lower().replace("javascript:alert(1)&lt;", "")  # no link to it
    assert not [a for t, a in tags if t == "a" and not a["href"].startswith("https://")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<strong>粗体</strong>" in html
    assert "<code>&lt;b&gt;&amp;amp;</code>" in html  # code shows exactly what was typed
    assert '<a href="https://example.gov.cn/x?a=1&amp;b=2" rel="noopener noreferrer">好链接</a>' in html
    assert "<span>坏链接</span>" in html and "<span>图</span>" in html
    assert "<h3>标题</h3>" in html
    assert not re.search(r"\n[ \t]*\n", html)  # no blank line: the raw HTML block stays one block


# --- pages --------------------------------------------------------------------------------


def test_every_page_kind_renders(build):
    facts = facts_of()
    result = do_render(facts, build)
    expected = {
        "index.md", "commitments/index.md", "arrears/index.md", "findings/index.md", "evaluations/index.md",
        "tasks/index.md", "departments/index.md", "commitments/CM-2024-001.md", "commitments/CM-2025-001.md",
        "arrears/AR-2024-001.md", "arrears/AR-2024-002.md", "arrears/AR-2025-001.md", "findings/DF-2026-001.md",
        "departments/fgj.md", "departments/czj.md", "departments/jd-a.md",
    }
    assert expected <= set(result.pages)
    # DF-2024-001's disclosure period (527: 12 months from 2023-01-10) is over: it leaves no trace.
    assert "findings/DF-2024-001.md" not in result.pages
    for rel in result.pages:
        assert "DF-2024-001" not in read(build, rel), rel
    # Hand-written pages and assets are copied.
    for name in ("objection.md", "about.md"):
        assert (build / "docs" / name).read_bytes() == (ROOT / "content" / name).read_bytes()
    assert (build / "docs/assets/js/zq.js").is_file()


def test_home_page_figures(build):
    facts = facts_of()
    do_render(facts, build)
    home = read(build, "index.md")
    meta, body = split_front_matter(home)
    assert meta["title"] == "首页"
    assert body.lstrip().startswith('<div class="zq-record zq-home">\n<h1>')
    assert '数据截至 <time datetime="2026-11-26">2026年11月26日</time>' in home
    assert '<span class="zq-figure__value">2 项</span><span class="zq-figure__label">承诺总数</span>' in home
    total = facts.summary.arrears
    assert total.owed == Decimal("181234.56")
    assert f'<span class="zq-figure__value">{wan(total.owed)}</span>' in home
    # Two charts at most, each drawn for wide screens and for phones (charts.for_screens).
    assert home.count("<svg") <= 4
    assert home.count("zq-chart--narrow") == home.count("<svg") / 2
    assert "另有 1 条已届满公示期、0 条经异议撤销、0 条已信用修复的记录依规停止公示" in home
    # Recent changes link to the record pages.
    assert 'href="commitments/CM-2024-001/"' in home


def _money_cells(row: str) -> list[Decimal]:
    return [Decimal(v) for v in re.findall(r'<td class="zq-num[^"]*" data-label="[^"]*" data-value="([0-9.]+)">', row)]


def test_arrears_list_totals_add_up(build):
    facts = facts_of()
    do_render(facts, build)
    page = read(build, "arrears/index.md")
    body = page.split('<table class="zq-table zq-table--cards zq-arrears">\n<caption>拖欠中小企业账款列表</caption>', 1)[1]
    rows = re.findall(r"<tr data-department=.*?</tr>", body.split("<tfoot>")[0])
    assert len(rows) == 3
    sums = [sum(col, Decimal(0)) for col in zip(*(_money_cells(r) for r in rows))]
    total_row = re.search(r'<tr class="zq-total">.*?</tr>', body.split("<tfoot>")[1]).group(0)
    assert "合计（全部 3 条" in total_row
    assert total_row.count(' 元</span></td>') == 3
    assert [yuan(s) for s in sums] == [f"{n} 元" for n in re.findall(
        r'<td class="zq-num" data-label="[^"]*">([0-9,.]+)<span class="zq-unit"> 元</span></td>', total_row)]
    assert sums == [Decimal("181234.56"), Decimal("73456.78"), Decimal("107777.78")]
    # The two charts each come with the same numbers as a table.
    assert page.count('<figure class="zq-figure-chart">') == 2
    assert "<details" in page and "累计认定" in page
    assert "各单位欠款情况" in page


def test_department_page(build):
    facts = facts_of()
    do_render(facts, build)
    page = read(build, "departments/fgj.md")
    meta, _ = split_front_matter(page)
    assert meta == {"title": "区发改局"}  # searchable: no search exclude
    # …but the record tables are not indexed twice (the record pages carry that text).
    assert page.count('<div class="zq-list" data-zq-list data-search-exclude>') == 3
    assert 'href="../../commitments/CM-2024-001/"' in page
    assert 'href="../../arrears/AR-2024-001/"' in page and 'href="../../arrears/AR-2025-001/"' in page
    assert "AR-2024-002" not in page  # another department's debt
    # Totals add up with the department's rows.
    rows = re.findall(r"<tr data-department=\"fgj\" data-status=.*?</tr>", page)
    owed = sum((_money_cells(r)[0] for r in rows if "data-size" in r), Decimal(0))
    assert owed == Decimal("131234.55")
    assert f'<td class="zq-num" data-label="欠款金额">{yuan(owed)[:-2]}<span class="zq-unit"> 元</span></td>' in page
    # Annual statutory notice with the arrears ids linked.
    assert ("2025年度逾期未支付中小企业款项情况：2 笔，金额 107,777.77 元（应于 "
            '<time datetime="2026-03-31">2026年3月31日</time> 前公布，依据保障中小企业款项支付条例（国务院令第802号））') in page
    assert '<a href="../../arrears/AR-2025-001/">AR-2025-001</a>' in page
    # Evaluation trend: table and a chart (two years).
    assert "历年评价结果" in page and page.count("<svg") == 2  # one chart, wide and narrow
    # Tasks it leads, and those given to all district departments.
    assert "加快法规制度建设" in page and "清理拖欠账款" not in page
    street = read(build, "departments/jd-a.md")
    assert "清理拖欠账款" in street and "加快法规制度建设" not in street
    assert "<svg" not in street  # one year of evaluations: no chart


def test_commitment_record_page(build):
    facts = facts_of()
    do_render(facts, build)
    page = read(build, "commitments/CM-2024-001.md")
    meta, body = split_front_matter(page)
    assert meta == {"title": "承诺事项CM-2024-001（CM-2024-001）"}
    assert body.lstrip().startswith('<div class="zq-record">')
    assert "<h1>承诺事项CM-2024-001</h1>" in page
    assert '<span class="zq-badge zq-badge--bad">逾期 514 天</span>' in page
    assert '<span class="zq-badge zq-badge--bad">二次失信</span>' in page
    assert "<dt>承诺日期</dt><dd><time datetime=\"2024-03-01\">2024年3月1日</time></dd>" in page
    assert "营口某某有限公司（为保护商业秘密，遮蔽显示）" in page and "机械" not in page
    assert '<a href="../../departments/fgj/">区发改局</a>' in page
    assert '<ol class="zq-timeline">' in page
    assert ('<li><time datetime="2024-09-01">2024年9月1日</time> <strong>履行进展</strong> 第一批奖励已拨付。</li>'
            in page)
    assert '<div class="zq-markdown">\n<p>按协议兑现<strong>奖励</strong>。</p>\n</div>' in page
    assert "本页修改记录暂不可用：" in page
    assert 'href="../../objection/"' in page


def test_arrears_record_page(build):
    facts = facts_of()
    do_render(facts, build)
    page = read(build, "arrears/AR-2024-001.md")
    assert "<dd>123,456.78 元（12.35万元）</dd>" in page
    assert "<dt>未清偿余额</dt><dd>100,000.00 元（10.00万元）</dd>" in page
    assert "逾期利息（按日利率 0.05%，测算）" in page
    assert '<span class="zq-badge zq-badge--bad">逾期 ' in page
    # Instalment table with shortfall and days overdue (due 2024-06-30, 100,000.00 short).
    assert '<td class="zq-num">100,000.00 元</td><td><span class="zq-badge zq-badge--bad">逾期 879 天</span>' in page
    # Timeline amounts shown as money.
    assert "<strong>清偿</strong> 23,456.78 元（2.35万元）" in page


def test_finding_record_page(build):
    facts = facts_of()
    do_render(facts, build)
    page = read(build, "findings/DF-2026-001.md")
    assert "<h1>区发改局：拖欠账款</h1>" in page
    assert "认定后第 3 个工作日" in page
    assert "国办发〔2025〕22号" in page
    assert '<dt>公示截止</dt><dd><time datetime="2027-10-15">2027年10月15日</time>' in page
    assert '<dt>可申请信用修复</dt><dd><time datetime="2027-01-16">2027年1月16日</time>起</dd>' in page
    assert "异议处理中" in page and "答复期限" in page
    # Related records: linked when on the site, plain text otherwise.
    assert '<a href="../../arrears/AR-2024-001/">AR-2024-001</a>' in page
    assert "CM-2099-001" in page and "CM-2099-001/" not in page


def test_list_pages_follow_the_filter_contract(build):
    facts = facts_of()
    do_render(facts, build)
    page = read(build, "commitments/index.md")
    meta, _ = split_front_matter(page)
    assert meta["search"] == {"exclude": True}
    assert '<div class="zq-list" data-zq-list data-search-exclude>\n<form class="zq-filters" hidden>' in page
    assert ('<select data-filter="department"><option value="">全部</option><option value="fgj">区发改局</option>'
            "</select>") in page
    assert '<option value="履行中">履行中</option><option value="已兑现">已兑现</option>' in page  # schema order
    assert '<button type="reset">清除筛选</button>' in page and '<p class="zq-count" aria-live="polite"></p>' in page
    assert '<th scope="col" class="zq-key" data-sort="date">兑现期限</th>' in page
    assert ('<tr data-department="fgj" data-status="履行中" data-category="招商引资" data-year="2024">'
            '<td class="zq-key zq-card-title"><a href="CM-2024-001/">') in page
    assert meta["hide"] == ["navigation", "toc"]  # the table gets the whole width
    # Newest first.
    assert page.index("CM-2025-001/") < page.index("CM-2024-001/")
    findings = read(build, "findings/index.md")
    assert "另有 1 条已届满公示期、0 条经异议撤销、0 条已信用修复的记录依规停止公示" in findings
    assert '<select data-filter="severity">' in findings
    for rel in ("evaluations/index.md", "departments/index.md", "arrears/index.md"):
        assert split_front_matter(read(build, rel))[0]["search"] == {"exclude": True}, rel
    # Tasks have no record pages: their page is the one place search finds them.
    assert "search" not in split_front_matter(read(build, "tasks/index.md"))[0]


def test_evaluations_and_tasks_pages(build):
    facts = facts_of()
    do_render(facts, build)
    page = read(build, "evaluations/index.md")
    assert page.index("2025年度第三方评价") < page.index("2024年度第三方评价")
    # Equal scores share a rank; change against the previous year.
    assert re.search(r'data-value="1">1/3</td><td><a href="../departments/czj/">区财政局</a></td>.*?\+3\.0', page)
    assert re.search(r'data-value="1">1/3</td><td><a href="../departments/fgj/">区发改局</a></td>.*?−2\.5', page)
    assert '<a href="https://example.gov.cn/r/2025/fgj.pdf" rel="noopener noreferrer">评价报告</a>' in page
    assert "<svg" in page and "各年度评价等次分布" in page
    tasks = read(build, "tasks/index.md")
    assert '<a href="../departments/fgj/">区发改局</a>' in tasks and "区直各部门" in tasks
    assert '<span class="zq-badge zq-badge--ok">常态化</span>' in tasks
    depts = read(build, "departments/index.md")
    # One district-wide table of every unit (not one per kind), sortable by each measure.
    assert depts.count("<table ") == 1 and depts.count("<tr data-department=") == len(facts.departments)
    for measure in ("逾期未兑现", "未清偿欠款", "其中严重", "最近评价"):
        assert re.search(rf'<th scope="col" class="[^"]*" data-sort="number">{measure}</th>', depts), measure
    assert '<select data-filter="kind">' in depts


def test_history_section(build):
    facts = facts_of()
    history = History(True, "", {
        "CM-2024-001": (
            Revision(date(2024, 3, 2), (), created=True),
            Revision(date(2024, 9, 2), (FieldChange("履行状态", "履行中", "<b>部分兑现</b>"),
                                        FieldChange("兑现日期", "", "2024-09-01"))),
        )})
    do_render(facts, build, history=history)
    page = read(build, "commitments/CM-2024-001.md")
    assert '<time datetime="2024-03-02">2024年3月2日</time> 新增记录' in page
    assert "<li>履行状态：履行中 → &lt;b&gt;部分兑现&lt;/b&gt;</li>" in page
    assert "<li>兑现日期：（空） → 2024-09-01</li>" in page
    assert page.index("2024年9月2日") < page.index("2024年3月2日")  # newest first
    other = read(build, "commitments/CM-2025-001.md")
    assert "暂无修改记录" in other
    do_render(facts, build, history=History(False, "浅克隆，没有版本历史。"))
    assert "本页修改记录暂不可用：浅克隆，没有版本历史。" in read(build, "commitments/CM-2024-001.md")


# --- security ---------------------------------------------------------------------------


def hostile_facts():
    c = commitment(
        title=HOSTILE_TEXT, content=HOSTILE_TEXT + "\n\n" + "\n\n".join(HOSTILE), counterparty=HOSTILE_TEXT,
        counterparty_masked=False, source=HOSTILE_TEXT,
        progress=(model.Note(date(2024, 9, 1), HOSTILE_TEXT + "\n\n第二段"),),
    )
    a = arrears(creditor=HOSTILE_TEXT, project=HOSTILE_TEXT, note=HOSTILE_TEXT)
    f = finding(summary=HOSTILE_TEXT, measures=HOSTILE_TEXT,
                objections=(model.Objection(date(2026, 11, 10), HOSTILE_TEXT, None, None),))
    return facts_of(commitments=[c], arrears_items=[a], findings=[f])


def assert_blocks_closed(text: str, where: str):
    """Every raw HTML block (a line starting with a tag) closes before the next blank line."""
    tag, depth = None, 0
    for number, line in enumerate(split_front_matter(text)[1].split("\n"), start=1):
        if tag is None:
            start = re.match(r"<([a-z0-9]+)[\s>]", line)
            if not start:
                continue
            tag, depth = start.group(1), 0
        assert line.strip(), f"{where}:{number}: blank line inside <{tag}>"
        depth += len(re.findall(rf"<{tag}[\s>]", line)) - len(re.findall(rf"</{tag}>", line))
        if depth <= 0:
            tag = None
    assert tag is None, f"{where}: <{tag}> never closed"


def assert_safe_html(html: str, where: str):
    tags = tags_of(html)
    assert not [t for t, _ in tags if t in ("script", "img", "iframe", "object", "embed")], where
    assert not [(t, k) for t, a in tags for k in a if k.lower().startswith("on")], where
    hrefs = [a.get("href") or "" for t, a in tags if t == "a"]
    assert not [h for h in hrefs if not safe_href(h)], where
    assert 'href="javascript:' not in html.lower(), where
    assert "<script" not in html.lower(), where


def test_record_text_shows_literally_and_never_runs(build):
    facts = hostile_facts()
    result = do_render(facts, build)
    for rel in result.pages:
        if rel.count("/") or rel == "index.md":
            assert_blocks_closed(read(build, rel), rel)
    for rel in ("commitments/CM-2024-001.md", "arrears/AR-2024-001.md", "findings/DF-2026-001.md",
                "index.md", "commitments/index.md", "arrears/index.md", "departments/fgj.md"):
        text = read(build, rel)
        meta, body = split_front_matter(text)
        assert not set("<>&") & set(meta["title"]), rel
        assert "<script" not in text and "<img" not in text, rel
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, rel
        assert "{{ 7*7 }}" in text and "{% raw %}" in text, rel
        html = to_html(text)
        assert_safe_html(html, rel)
        # Markdown and Jinja syntax stay literal text in the final HTML.
        assert "| a | b |" in html and "{{ 7*7 }}" in html, rel
        assert "[x](javascript:alert(1))" in html, rel
        assert "&amp;amp;" in html, rel  # the typed "&amp;" shows as &amp;
        # Our own raw HTML blocks survive intact (no block was cut by a blank line).
        assert not re.search(r"<p>\s*<(div|table|dl|ol|ul|figure|details|nav|h1)\b", html), rel
        assert not re.search(r"&lt;/?(div|table|tr|td|dl|dd|dt|ol|li)\b", html.replace("&lt;/script", "")), rel
    page = read(build, "commitments/CM-2024-001.md")
    meta, _ = split_front_matter(page)
    assert meta["title"].startswith("＜script＞alert(1)＜/script＞ ＜img src=x onerror=alert(1)＞")
    html = to_html(page)
    assert f"<h1>{HOSTILE_TEXT.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</h1>" in html
    assert "<td>" not in html.split('<div class="zq-markdown">')[1].split("</div>")[0]  # no table from pipes
    assert "第二段" in html and "<br><br>第二段" in html
    # The Markdown field: raw HTML shown, the javascript: link is plain text.
    markdown_part = html.split('<div class="zq-markdown">')[1].split("</div>")[0]
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown_part
    assert "<a " not in markdown_part
    assert "<em>stars</em>" in markdown_part  # it is Markdown there, and only there
    assert "findings/DF-2026-001.md" in result.pages


def test_mkdocs_yml_is_data_not_template(build):
    from generator import engine

    facts = facts_of(site=make_site(publisher="{{ config }}<script>x</script>", site_name="站点 {% raw %}"))
    do_render(facts, build)
    engine.write_config(build, sitefiles.base_config(), render_mod.DEFAULT_TEMPLATES_DIR, render_mod.site_settings(facts))
    config = yaml.safe_load((build / "mkdocs.yml").read_text(encoding="utf-8"))
    assert (build / config["INHERIT"]).resolve() == ROOT / "mkdocs.yml"
    assert (build / config["theme"]["custom_dir"]).resolve() == ROOT / "site_templates" / "overrides"
    assert config["docs_dir"] == "docs"
    assert config["site_url"] == "https://example.gov.cn/"
    zq = config["extra"]["zq"]
    assert zq["publisher"] == "{{ config }}<script>x</script>" and config["site_name"] == "站点 {% raw %}"
    assert zq["sample"] is True and zq["as_of"] == "2026-11-26" and zq["feed"] == "feed.xml"
    assert zq["contact"]["hotline"] == "12345" and zq["policy"]["date"] == "2024-02-22"
    assert set(zq) == {"site_name", "publisher", "region", "sample", "as_of", "contact", "identifiers", "policy",
                       "licence", "feed", "publication"}
    # The site name reaches pages as escaped text only.
    assert "<h1>站点 {% raw %}</h1>" in read(build, "index.md")


def test_links_resolve_to_pages_of_this_render(build):
    facts = facts_of()
    result = do_render(facts, build)
    urls = {page_url(p) for p in result.pages} | {"data/", "feed.xml"}
    from generator.letters import letter_path  # written by the extras stage, for records on the site only

    urls |= {letter_path(x.record.id) for x in (*facts.commitments, *facts.arrears, *facts.findings)}
    for rel in result.pages:
        if not rel.count("/") and rel != "index.md":
            continue  # hand-written content pages use Markdown links, checked by MkDocs
        base = "https://site.invalid/" + page_url(rel)
        for href in re.findall(r'href="([^"]*)"', read(build, rel)):
            if href.startswith(("http://", "https://", "mailto:")):
                continue
            from urllib.parse import urljoin, unquote
            target = unquote(urlsplit(urljoin(base, href)).path)[1:]
            assert target in urls, (rel, href)


# --- incremental, deterministic, bounded --------------------------------------------------


def snapshot(build: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(build)): (p.read_bytes(), p.stat().st_mtime_ns) for p in build.rglob("*") if p.is_file()}


def test_incremental_rendering(build):
    facts = facts_of()
    first = do_render(facts, build)
    assert first.written > 0 and first.unchanged == 0 and first.removed == 0
    before = snapshot(build)
    second = do_render(facts, build)
    assert second.written == 0 and second.removed == 0
    assert second.unchanged == first.written
    assert snapshot(build) == before  # bytes and mtimes untouched

    # One record changes: its page and the pages that show it, nothing else.
    data = dataset()
    changed = dataclasses.replace(data.commitments[1], title="新的承诺标题")
    facts2 = derive(dataclasses.replace(data, commitments=(data.commitments[0], changed)), AS_OF)
    pages_before, blocks_before = html_pages(build), dict_of(build / "blocks.pack")
    third = do_render(facts2, build)
    after = snapshot(build)
    rewritten = {k for k in after if after[k] != before.get(k)}
    # (the list's table is in blocks.pack: its Markdown, headings only, is unchanged; the lookup index carries the title)
    assert rewritten == {"docs/index.md", "docs/lookup.json", "pages.pack", "blocks.pack"}
    pages_after, blocks_after = html_pages(build), dict_of(build / "blocks.pack")
    assert {u for u in pages_after if pages_after[u] != pages_before[u]} == {"commitments/CM-2025-001/", "departments/fgj/"}
    # (and the home page's figures: the old title had numbers, figures of the home page's table of changes)
    assert {p for p in blocks_after if blocks_after[p] != blocks_before[p]} == {"commitments/index.md", "index.md"}
    assert third.written == 2 + 2 + 2  # files under docs/, record and department pages, list pages' tables

    # A page no longer produced is removed; other stages' files are left alone.
    (build / "docs/data").mkdir(exist_ok=True)
    (build / "docs/data/index.md").write_text("# 开放数据\n", encoding="utf-8")
    (build / "docs/feed.xml").write_text("<feed/>", encoding="utf-8")
    (build / "docs/old-folder").mkdir()
    (build / "docs/old-folder/x.md").write_text("stale", encoding="utf-8")
    (build / "pages/commitments").mkdir(parents=True)  # what an earlier version wrote
    (build / "pages/commitments/CM-2025-001.html").write_text("old", encoding="utf-8")
    (build / "pages.json").write_text("{}", encoding="utf-8")
    facts3 = derive(dataclasses.replace(data, commitments=(data.commitments[0],)), AS_OF)
    fourth = do_render(facts3, build)
    assert fourth.removed == 2  # the entry of CM-2025-001, old-folder/x.md
    assert "commitments/CM-2025-001/" not in html_pages(build)
    assert not (build / "docs/old-folder").exists()
    assert not (build / "pages").exists() and not (build / "pages.json").exists()
    assert (build / "docs/data/index.md").exists() and (build / "docs/feed.xml").exists()


def dict_of(path: Path) -> dict[str, tuple[dict, bytes]]:
    return {key: (meta, body) for key, meta, body in pack.entries(path)}


def test_output_is_deterministic(tmp_path):
    a, b = tmp_path / "a" / "build", tmp_path / "b" / "build"
    do_render(facts_of(), a)
    do_render(facts_of(), b)
    files_a = {str(p.relative_to(a)): p.read_bytes() for p in a.rglob("*") if p.is_file()}
    files_b = {str(p.relative_to(b)): p.read_bytes() for p in b.rglob("*") if p.is_file()}
    assert files_a == files_b


def many_commitments(n: int) -> list[model.Commitment]:
    out = []
    for i in range(n):
        year = 2020 + i % 6
        out.append(commitment(f"CM-{year}-{i + 1:04d}", promised_on=date(year, 1 + i % 12, 1 + i % 28),
                              deadline=date(year + 1, 1, 1), department=DEPARTMENTS[i % 3].id))
    return out


def test_pagination_and_bounded_record_pages(tmp_path):
    big = many_commitments(1200)
    result = do_render(facts_of(commitments=big), tmp_path / "big")
    lists = sorted(p for p in result.pages if re.fullmatch(r"commitments/(index|page-\d+)\.md", p))
    assert lists == ["commitments/index.md", "commitments/page-2.md", "commitments/page-3.md"]
    counts = [read(tmp_path / "big", p).count("<tr data-department=") for p in lists]
    assert counts == [500, 500, 200]
    first, last = read(tmp_path / "big", lists[0]), read(tmp_path / "big", lists[2])
    assert '<nav class="zq-pager" aria-label="分页（页首）">' in first and '分页（页尾）' in first
    assert 'href="page-2/"' in first and 'href="../"' in last  # page 3 links back to page 1
    assert 'href="../CM-' in last  # records from page-3/ are one level up
    assert split_front_matter(last)[0] == {"search": {"exclude": True}, "title": "政府承诺（第 3 页）",
                                           "hide": ["navigation", "toc"]}
    # Newest first across pages.
    newest = max(big, key=lambda c: (c.promised_on, c.id))
    assert f'href="{newest.id}/"' in first
    # A record page does not grow with the number of records.
    small = do_render(facts_of(commitments=big[:3]), tmp_path / "small")
    assert "commitments/CM-2020-0001.md" in small.pages
    page_big = html_pages(tmp_path / "big")["commitments/CM-2020-0001/"]["body"].encode("utf-8")
    page_small = html_pages(tmp_path / "small")["commitments/CM-2020-0001/"]["body"].encode("utf-8")
    assert page_big == page_small
    assert len(page_big) < 40_000


def test_department_tables_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(render_mod, "DEPARTMENT_ROWS", 10)
    do_render(facts_of(commitments=many_commitments(40)), tmp_path / "b")
    page = read(tmp_path / "b", "departments/fgj.md")
    assert len(re.findall(r'<tr data-department="fgj" data-status="[^"]*" data-category=', page)) == 10
    assert "以下列出最近的 10 项，全部 14 项见" in page


# --- a real MkDocs build --------------------------------------------------------------------


@pytest.mark.slow
def test_strict_mkdocs_build_of_hostile_records(tmp_path):
    build = tmp_path / "build"
    do_render(hostile_facts(), build)
    for stub in ("data/index.md", "data/dictionary.md", "data/rules.md", "feeds/index.md"):  # open-data and extras stages
        path = build / "docs" / stub
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# 开放数据\n\n桩页面。\n", encoding="utf-8")
    (build / "docs/feed.xml").write_text("<feed/>", encoding="utf-8")
    site = tmp_path / "site"
    facts = hostile_facts()
    script = ("import sys; from pathlib import Path; from datetime import date; from generator import engine, render, sitefiles; "
              "from tests.test_render import hostile_facts; f = hostile_facts(); "
              "engine.write_config(Path(sys.argv[1]), sitefiles.base_config(), render.DEFAULT_TEMPLATES_DIR, render.site_settings(f)); "
              "engine.build(Path(sys.argv[1]), Path(sys.argv[2]), as_of=f.as_of, timezone=f.site.timezone)")
    run = subprocess.run([sys.executable, "-c", script, str(build), str(site)], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert run.returncode == 0, run.stderr
    assert not re.search(r"^(WARNING|ERROR)", run.stderr, re.M), run.stderr
    assert facts.as_of == AS_OF
    for rel in ("commitments/CM-2024-001/index.html", "arrears/AR-2024-001/index.html", "index.html"):
        html = (site / rel).read_text(encoding="utf-8")
        article = html[html.index("<article"):html.index("</article>")]
        assert_safe_html(article, rel)
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
        assert "<" not in title, rel
    record = (site / "commitments/CM-2024-001/index.html").read_text(encoding="utf-8")
    assert record.count("<h1") == 1  # ours, not a second one from the theme
    assert len(record.encode("utf-8")) < 40_000


def test_html_blocks_after_extra_blank_lines_go_to_the_engine_beside_the_markdown():
    from generator.render import BLOCK_PLACEHOLDER, split_html_blocks

    table = '<div class="zq-list">\n<form>\n<p>x</p>\n</form>\n<table><tr><td>1</td></tr></table>\n</div>'
    body = f"## 标题\n\n\n{table}\n\n<div>\n<h1>留下</h1>\n</div>\n\n<div><div>不平衡</div>"
    markdown, blocks = split_html_blocks(body)
    assert blocks == [table]
    assert markdown == f"## 标题\n\n\n{BLOCK_PLACEHOLDER.format(n=0)}\n\n<div>\n<h1>留下</h1>\n</div>\n\n<div><div>不平衡</div>"


def test_history_block_markup_and_escaping():
    """The history piece (a function of the environment, once a macro): exact markup, record text escaped."""
    view = render_mod.HistoryView(True, "", (
        Revision(date(2024, 9, 2), (FieldChange("履行状态", "履行中\x01", "<b>&</b>"), FieldChange("x", "", "1" * 130))),
        Revision(date(2024, 5, 1), ()),
        Revision(date(2024, 3, 2), (), created=True)), 2)
    assert str(render_mod.history_block(view)) == (
        '<ol class="zq-history">\n'
        '<li><time datetime="2024-09-02">2024年9月2日</time><ul>\n'
        "<li>履行状态：履行中 → &lt;b&gt;&amp;&lt;/b&gt;</li>\n"
        f"<li>x：（空） → {'1' * 120}…（共 130 字）</li>\n"
        "</ul>\n</li>\n"
        '<li><time datetime="2024-05-01">2024年5月1日</time> 内容未变</li>\n'
        '<li><time datetime="2024-03-02">2024年3月2日</time> 新增记录</li>\n'
        "</ol>\n"
        '<p class="zq-history-more">另有更早的 2 次修改未列出，完整历史见代码仓库。</p>\n')


def test_template_output_drops_control_characters_only():
    env = render_mod.make_environment(sitefiles.templates_dir())
    template = env.from_string("{{ a }}|{{ b }}|{{ c }}")
    assert template.render(a="a\x00b\x7fc\x85d\ufffee", b="全角\u3000空格\u200e\t\n", c=5) == (
        "abcde|全角\u3000空格\u200e\t\n|5")


def test_page_cache_keys_are_the_same_in_every_process(tmp_path):
    """A rebuild in a new process (another string hash seed) finds every unchanged page in the cache."""
    script = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import test_render as t\n"
        "t.do_render(t.hostile_facts(), Path(sys.argv[2]), cache_file=Path(sys.argv[2]) / 'cache.json')\n")

    def keys(build: Path, seed: str) -> dict:
        subprocess.run([sys.executable, "-c", script, str(ROOT / "tests"), str(build)], check=True, cwd=ROOT,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        import json
        return json.loads((build / "cache.json").read_text(encoding="utf-8"))["pages"]

    first = keys(tmp_path / "one", "1")
    assert len(first) == 9 and first == keys(tmp_path / "two", "2")  # 3 records, 3 departments, 3 record lists
    before = (tmp_path / "one" / "pages.pack").stat().st_mtime_ns
    assert keys(tmp_path / "one", "3") == first  # every page fresh: its entry copied, the pack left alone
    assert (tmp_path / "one" / "pages.pack").stat().st_mtime_ns == before
