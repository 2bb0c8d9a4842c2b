"""Following the site: a feed per department, the feed stylesheet and the 订阅 page.

Written into the docs folder at build time (served at /feeds/):

    feeds/index.md          the 订阅更新 page: what each feed and the calendar carry, how to subscribe
                            (a feed reader, a phone calendar), the latest changes as plain HTML
    feeds/<dept id>.xml     Atom feed of one department's records (commitments, arrears, findings)
    feeds/feed.xsl          XSLT stylesheet named by every feed: a browser that runs XSLT shows
                            the feed as a page with the same how-to instead of an XML tree
    feeds/deadlines.ics     the calendar of coming deadlines (generator/calendar_ics.py)

The site-wide feed stays at /feed.xml (generator/opendata.py). Entries come from
`Facts.changes`, which holds findings on display only: no feed can name a hidden one.
"""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter
from pathlib import Path

from generator import opendata, urls
from generator.derive import Change, Facts
from generator.opendata import FEED, FEED_LIMIT, RECORD_KINDS, atom_feed, md
from generator.xlsx import SheetCache, source_digest

FEEDS = "feeds"
CALENDAR = f"{FEEDS}/deadlines.ics"
STYLESHEET = f"{FEEDS}/feed.xsl"
PAGE_CHANGES = 30


def department_feed_path(dept_id: str) -> str:
    return f"{FEEDS}/{dept_id}.xml"


def changes_by_department(facts: Facts) -> dict[str, tuple[Change, ...]]:
    """Each department's changes, newest first: its commitments, the debts it owes, its findings."""
    owner: dict[str, dict[str, str]] = {  # record kind → record id → department (no tuple key per change)
        "commitments": {c.record.id: c.record.department for c in facts.commitments},
        "arrears": {a.record.id: a.record.debtor for a in facts.arrears},
        "findings": {f.record.id: f.record.subject for f in facts.findings},
    }
    out: dict[str, list[Change]] = {d.department.id: [] for d in facts.departments}
    no_owner: dict[str, str] = {}
    for change in facts.changes:
        found = out.get(owner.get(change.record_kind, no_owner).get(change.record_id))
        if found is not None:
            found.append(change)
    return {k: tuple(v) for k, v in out.items()}


#: Every field of a Change, for the feeds' cache keys: a field added to Change is in the key
#: without anyone remembering to put it there.
_CHANGE_FIELDS = tuple(f.name for f in fields(Change))
_change_values = attrgetter(*_CHANGE_FIELDS)  # a Change's values in that order, as one tuple (in C)


def department_feeds(facts: Facts, by_dept: dict[str, tuple[Change, ...]] | None = None,
                     cache: SheetCache | None = None) -> dict[str, bytes]:
    """Each department's feed; `by_dept`: changes_by_department(facts), when the caller has it.
    With `cache` (feed_cache), a feed whose inputs did not change is the last build's: a
    rebuild after one record changed makes one or two of 150 feeds at 10,000 records."""
    files = {}
    site = repr(facts.site) if cache is not None else None  # all atom_feed reads of the facts but the changes
    for dept_id, changes in (changes_by_department(facts) if by_dept is None else by_dept).items():
        name = facts.department_names.get(dept_id, dept_id)
        path = department_feed_path(dept_id)
        title = f"{facts.site.site_name} 更新：{name}"

        def make(changes=changes, path=path, title=title, dept_id=dept_id) -> bytes:
            return atom_feed(facts, changes, path=path, title=title, feed_key=f"feed/{dept_id}")

        if cache is None:
            files[path] = make()
            continue
        # Everything atom_feed reads: the site settings, the as-of date (the date of a feed
        # without changes), the feed's path, title and key, and each change it shows.
        source = source_digest("department feed", site, facts.as_of, path, title, dept_id,
                               list(map(_change_values, changes[:FEED_LIMIT])))
        files[path] = cache.data(source, make)
    return files


def feed_cache(cache_dir: Path) -> SheetCache:
    """The department feeds of the last build (department_feeds), under the build folder's
    cache, keyed with the code that writes them (this module, opendata.py, urls.py)."""
    return SheetCache(Path(cache_dir) / "feeds", [Path(__file__), Path(opendata.__file__), Path(urls.__file__)])


STYLESHEET_XSL = """<?xml version="1.0" encoding="utf-8"?>
<!-- 让浏览器把 Atom 订阅源显示为网页：订阅方法和最近的变化。不加载任何外部资源。 -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:atom="http://www.w3.org/2005/Atom">
<xsl:output method="html" encoding="utf-8" indent="yes" doctype-system="about:legacy-compat"/>
<xsl:template match="/atom:feed">
<html lang="zh-CN">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title><xsl:value-of select="atom:title"/>（订阅源）</title>
<style>
body { font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; line-height: 1.7; max-width: 48rem;
       margin: 0 auto; padding: 1rem; color: #111; }
.note { background: #eef3f8; border-left: 4px solid #1f3a5f; padding: .5rem 1rem; }
code { overflow-wrap: anywhere; }
li { margin: .5rem 0; }
</style>
</head>
<body>
<h1><xsl:value-of select="atom:title"/></h1>
<xsl:if test="atom:subtitle"><p><strong><xsl:value-of select="atom:subtitle"/></strong></p></xsl:if>
<div class="note">
<p>这是一个订阅源（Atom 格式），供订阅软件读取，不是普通网页。订阅后，本站记录有新的变化时，订阅软件会自动收到。</p>
<p>订阅方法：复制本页地址 <code><xsl:value-of select="atom:link[@rel='self']/@href"/></code>，粘贴到订阅软件（RSS 阅读器）的“添加订阅”中。</p>
<p>更多订阅方式（按部门订阅、截止日期日历）见 <a href="{atom:link[@rel='alternate']/@href}feeds/">订阅更新</a> 页面。</p>
</div>
<h2>最近的变化</h2>
<ol>
<xsl:for-each select="atom:entry">
<li><a href="{atom:link/@href}"><xsl:value-of select="atom:title"/></a>（<xsl:value-of select="substring(atom:updated, 1, 10)"/>）</li>
</xsl:for-each>
</ol>
</body>
</html>
</xsl:template>
</xsl:stylesheet>
"""


def feeds_page(facts: Facts, by_dept: dict[str, tuple[Change, ...]] | None = None) -> str:
    """The 订阅更新 page (Markdown for MkDocs): how to follow the site, with the latest changes.
    `by_dept`: changes_by_department(facts), when the caller has it."""
    site = facts.site
    base = site.base_url
    by_dept = changes_by_department(facts) if by_dept is None else by_dept
    out = ["---", 'title: "订阅更新"', 'description: "用订阅软件或手机日历跟踪本站记录的变化和即将到期的事项。"', "---", "",
           "# 订阅更新", ""]
    if site.sample:
        out += ['!!! warning "演示数据"', "", "    本站的订阅源和日历中的记录均为演示数据，不是真实记录。", ""]
    out += [
        f"不必每天打开本站，也能知道记录的变化。数据截至 **{facts.as_of.isoformat()}**。",
        "",
        "## 订阅记录的变化",
        "",
        "订阅源（Atom 格式）列出新登记的承诺、账款和失信记录，以及兑现、清偿、异议处理等变化，"
        f"每个订阅源列最近 {FEED_LIMIT} 条。",
        "",
        f"- 全站：<code>{md(base + FEED)}</code>（[打开](../{FEED})）",
        "- 按部门：见下表，只含该部门作出的承诺、所欠的账款和该部门的失信记录。",
        "",
        "订阅方法：",
        "",
        "1. 在手机或电脑上安装订阅软件（RSS 阅读器，支持 Atom 格式的均可），"
        "或使用浏览器、邮件软件自带的订阅功能；",
        "2. 复制上面的订阅地址，在订阅软件中选择“添加订阅”，粘贴地址；",
        "3. 订阅软件会定期检查本站，有变化时提醒您。本站每日更新一次。",
        "",
        "在浏览器中直接打开订阅地址时，有的浏览器显示为网页，有的显示为代码，这都是正常的；订阅软件都能读取。",
        "",
        "## 截止日期日历",
        "",
        f"日历文件（iCalendar 格式）：<code>{md(base + CALENDAR)}</code>（[下载](deadlines.ics)）。",
        "",
        "日历列出即将到期的事项，每项为一个全天事件：政府承诺的兑现期限、账款分期清偿计划的到期日、"
        "异议的答复期限、失信记录的公示截止日。已经完成的事项不列出。",
        "",
        "- 手机日历（iPhone、安卓）：在日历应用中选择“添加日历 → 订阅日历”或“通过网址添加”，粘贴日历地址；"
        "订阅后随本站自动更新。",
        "- 电脑（Outlook 等）：选择“添加日历 → 从 Internet 添加”，粘贴日历地址；也可以下载文件后导入（导入的日历不会自动更新）。",
        "",
        "## 各部门的订阅源",
        "",
        "| 部门 | 订阅地址 | 最近变化 |",
        "|---|---|---:|",
    ]
    for d in facts.departments:
        dept = d.department
        path = department_feed_path(dept.id)
        out.append(f"| {md(dept.name)} | <code>{md(base + path)}</code>（[打开]({dept.id}.xml)） | {len(by_dept.get(dept.id, ()))} |")
    out += ["", "## 最近的变化", ""]
    for c in facts.changes[:PAGE_CHANGES]:
        label = RECORD_KINDS.get(c.record_kind, c.record_kind)
        out.append(f"- {c.date.isoformat()} {label}｜[{md(c.title)}](../{c.record_kind}/{c.record_id}/)：{md(c.text)}")
    if not facts.changes:
        out.append("暂无变化。")
    out.append("")
    return "\n".join(out)


def feed_files(facts: Facts, cache_dir: Path | None = None) -> dict[str, bytes]:
    """The department feeds, the stylesheet and the 订阅更新 page; with cache_dir (the build
    folder's cache), unchanged department feeds are the last build's (department_feeds)."""
    by_dept = changes_by_department(facts)  # once for the feeds and the page
    cache = feed_cache(cache_dir) if cache_dir is not None else None
    files = department_feeds(facts, by_dept, cache)
    if cache is not None:
        cache.finish()
    files[STYLESHEET] = STYLESHEET_XSL.encode("utf-8")
    files[f"{FEEDS}/index.md"] = feeds_page(facts, by_dept).encode("utf-8")
    return files
