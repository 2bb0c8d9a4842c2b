"""The reader's workbook and the SQLite file: the records as the site shows them.

The Data Package tables (generator/opendata.py) stay as they are: codes, raw
fields, true/false. Readers want what the pages show, so beside them:

    data/<package>-reader.xlsx   one sheet per kind of record with unit names, the derived values
                                 (repaid, outstanding, overdue days, status as shown, interest …)
                                 and 是/否; a 说明 sheet first with the as-of date and definitions
    data/<package>.sqlite        for analysts (Datasette, DB Browser for SQLite, the sqlite3 shell):
                                 every Data Package table (same names, columns and rows), the same
                                 reader tables (English column names, *_shown), and `columns`
                                 with each column's Chinese title and definition

Both come from `Facts`, so the display rules hold: findings off display are not
there. Both are deterministic: the workbook's zip members carry fixed times and
its properties the as-of date; the database is built in memory with fixed
settings and written with `serialize()`, so the same facts give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Sequence

from generator.derive import Facts
from generator.opendata import (DATE_FORMAT, ColumnValues, KindMemo, column_values, public_tables,
                                 published_resources, table_columns, xlsx_value, _xlsx_texts)
from generator.xlsx import (ColumnSheet, DeflateCache, LazySheet, Properties, Sheet, SheetCache, column_widths_of, source_digest,
                            workbook_bytes)
from generator.schema import load_package

YES, NO = "是", "否"


def yes_no(value: bool | None) -> str | None:
    return None if value is None else (YES if value else NO)


@dataclass(frozen=True)
class Column:
    key: str  # SQLite column name
    title: str  # the workbook's header
    kind: str  # text | int | money | share | date | yesno | rate
    get: Callable[[Any], Any]
    definition: str = ""


@dataclass(frozen=True)
class ReaderTable:
    name: str  # SQLite table: commitments_shown …
    title: str  # sheet name
    columns: tuple[Column, ...]
    items: Callable[[Facts], list]
    note: str = ""


def _page(kind: str) -> Callable[[Any], str]:
    return lambda item, _kind=kind: f"{_kind}/{item.record.id}/"


def _status_shown(item) -> str:
    return "、".join(b.label for b in item.badges)


def reader_tables(facts: Facts) -> tuple[ReaderTable, ...]:
    base = facts.site.base_url
    as_of = facts.as_of

    def url(kind: str) -> Callable[[Any], str]:
        return lambda item, _kind=kind: f"{base}{_kind}/{item.record.id}/"

    commitments = ReaderTable("commitments_shown", "政府承诺", (
        Column("id", "承诺编号", "text", lambda c: c.record.id),
        Column("title", "承诺事项", "text", lambda c: c.record.title),
        Column("category", "承诺类别", "text", lambda c: c.record.category),
        Column("department", "责任单位", "text", lambda c: c.department_name, "作出承诺的单位名称"),
        Column("partners", "配合单位", "text", lambda c: "、".join(c.partner_names) or None),
        Column("counterparty", "承诺对象", "text", lambda c: c.counterparty_shown, "按网站显示；涉及商业秘密的已遮蔽"),
        Column("promised_on", "承诺日期", "date", lambda c: c.record.promised_on),
        Column("deadline", "兑现期限", "date", lambda c: c.record.deadline),
        Column("status", "履行状态", "text", lambda c: c.record.status),
        Column("fulfilled_on", "兑现日期", "date", lambda c: c.record.fulfilled_on if c.record.fulfilled_on and c.record.fulfilled_on <= as_of else None),
        Column("overdue", "是否逾期", "yesno", lambda c: c.overdue, "尚未兑现（履行中、部分兑现、未兑现）且已过兑现期限"),
        Column("days_overdue", "逾期天数", "int", lambda c: c.days_overdue, "数据截至日期距兑现期限的天数；未逾期为 0"),
        Column("fulfilment", "兑现情况", "text", lambda c: c.fulfilment, "已兑现的承诺：按期兑现或逾期兑现"),
        Column("days_late", "逾期兑现天数", "int", lambda c: c.days_late),
        Column("second_default", "二次失信", "yesno", lambda c: c.second_default, "整改措施本身未按期完成"),
        Column("status_shown", "网站显示的状态", "text", _status_shown, "记录页面标题下的状态标签"),
        Column("url", "页面地址", "text", url("commitments")),
    ), lambda f: list(f.commitments))

    arrears = ReaderTable("arrears_shown", "拖欠账款", (
        Column("id", "账款编号", "text", lambda a: a.record.id),
        Column("debtor", "债务单位", "text", lambda a: a.debtor_name, "欠款单位名称"),
        Column("creditor", "债权企业", "text", lambda a: a.record.creditor),
        Column("creditor_size", "企业规模", "text", lambda a: a.record.creditor_size),
        Column("project", "项目名称", "text", lambda a: a.record.project),
        Column("contract_no", "合同编号", "text", lambda a: a.record.contract_no),
        Column("amount", "欠款金额（元）", "money", lambda a: a.record.amount),
        Column("repaid", "已清偿（元）", "money", lambda a: a.repaid, "数据截至日期前支付的金额合计"),
        Column("outstanding", "未清偿（元）", "money", lambda a: a.outstanding, "欠款金额减已清偿"),
        Column("share_cleared", "清偿比例", "share", lambda a: a.share_cleared, "已清偿除以欠款金额"),
        Column("status", "清偿状态", "text", lambda a: a.status, "未清偿、部分清偿或已清偿，由金额计算"),
        Column("delivered_on", "交付（验收）日期", "date", lambda a: a.record.delivered_on),
        Column("due_on", "约定付款日期", "date", lambda a: a.record.due_on),
        Column("found_on", "认定日期", "date", lambda a: a.record.found_on),
        Column("cleared_on", "清偿完毕日期", "date", lambda a: a.cleared_on),
        Column("due_used", "计算逾期所用付款日期", "date", lambda a: a.due_used,
               "约定付款日期；约定期限超过法定最长期限的按法定最长期限，最后一日是法定休假日的顺延至休假日结束的次日"),
        Column("due_estimated", "付款日期为估算", "yesno", lambda a: a.due_estimated,
               "顺延所需的节假日安排尚未公布，按周一至周五估算"),
        Column("days_past_due", "逾期天数", "int", lambda a: a.days_past_due,
               "未清偿完毕的：数据截至日期距计算逾期所用付款日期的天数；已清偿的：清偿完毕时逾期的天数"),
        Column("daily_rate", "逾期利率（%/日）", "rate", lambda a: a.daily_rate, "合同约定的，或法定默认的日利率（百分数）"),
        Column("rate_agreed", "利率为合同约定", "yesno", lambda a: a.rate_agreed),
        Column("interest", "逾期利息（元）", "money", lambda a: a.interest,
               "每笔未付款项自约定付款日期次日起按日利率计算至支付日，未付部分计算至数据截至日期"),
        Column("interest_state", "逾期利息状态", "text", lambda a: a.interest_state, "已支付、已免除或未支付；没有逾期利息的为空"),
        Column("overdue_instalments", "未按计划清偿期数", "int", lambda a: a.overdue_instalments),
        Column("second_default", "二次失信", "yesno", lambda a: a.second_default, "未按约定的分期清偿计划付款（实施意见四（一））"),
        Column("term_exceeds_max", "约定期限超过法定上限", "yesno", lambda a: a.term_exceeds_max),
        Column("disputed", "是否有争议", "yesno", lambda a: a.record.disputed),
        Column("resolution", "争议解决方式", "text", lambda a: a.record.resolution),
        Column("disputed_amount", "有争议的金额（元）", "money", lambda a: a.disputed_amount,
               "有争议但未登记争议金额的，按全部欠款计"),
        Column("undisputed", "无争议部分（元）", "money", lambda a: a.undisputed, "欠款金额减有争议的金额，应按期支付"),
        Column("regulation", "适用条例版本", "text", lambda a: a.regulation, "按合同订立日期（未登记的按交付日期）适用"),
        Column("status_note", "状态说明", "text", lambda a: a.status_note),
        Column("status_shown", "网站显示的状态", "text", _status_shown, "记录页面标题下的状态标签"),
        Column("url", "页面地址", "text", url("arrears")),
    ), lambda f: list(f.arrears))

    findings = ReaderTable("findings_shown", "失信记录", (
        Column("id", "记录编号", "text", lambda x: x.record.id),
        Column("subject", "失信主体单位", "text", lambda x: x.subject_name),
        Column("subject_kind", "主体类型", "text", lambda x: x.record.subject_kind),
        Column("person", "公务员姓名（遮蔽）", "text", lambda x: x.record.person),
        Column("severity", "失信程度", "text", lambda x: x.record.severity),
        Column("category", "失信类别", "text", lambda x: x.record.category),
        Column("summary", "失信行为概要", "text", lambda x: x.record.summary),
        Column("authority", "认定机关", "text", lambda x: x.record.decision_authority),
        Column("doc_no", "认定文书号", "text", lambda x: x.record.decision_doc_no),
        Column("decided_on", "认定日期", "date", lambda x: x.record.decision_decided_on),
        Column("published_on", "公示日期", "date", lambda x: x.record.published_on),
        Column("publication_delay", "认定后第几个工作日在本站公示", "int", lambda x: x.publication_delay),
        Column("upload_due", "上传期限", "date", lambda x: x.upload_due if x.upload_state else None,
               "严重失信记录：认定机关应在认定后规定的工作日内上传信用信息平台的最后一天"),
        Column("upload_state", "上传情况", "text", lambda x: x.upload_state, "按期上传、逾期上传或上传日期未登记（只对严重失信记录）"),
        Column("upload_late", "逾期上传", "yesno", lambda x: x.upload_late if x.upload_state else None),
        Column("regime", "公示期限适用规则", "text", lambda x: x.regime),
        Column("disclosure_end", "公示截止", "date", lambda x: x.disclosure_end, "公示的最后一天，期满后自动停止公示"),
        Column("repair_from", "可申请信用修复日期", "date", lambda x: x.repair_from),
        Column("objection_state", "异议情况", "text", lambda x: x.objection_state),
        Column("rectification_overdue", "整改逾期", "yesno", lambda x: x.rectification_overdue,
               "严重失信记录未在整改期限内完成整改"),
        Column("estimated", "含估算日期", "yesno", lambda x: x.estimated,
               "某个按工作日计算的日期落在节假日安排尚未公布的年份，按周一至周五估算"),
        Column("status_shown", "网站显示的状态", "text", _status_shown, "记录页面标题下的状态标签"),
        Column("url", "页面地址", "text", url("findings")),
    ), lambda f: list(f.findings), "只含数据截至日期正在公示的记录")

    evaluations = ReaderTable("evaluations_shown", "评价结果", (
        Column("year", "评价年度", "int", lambda e: e.record.year),
        Column("department", "被评价单位", "text", lambda e: e.department_name),
        Column("method", "评价方式", "text", lambda e: e.record.method),
        Column("evaluator", "评价机构", "text", lambda e: e.record.evaluator),
        Column("score", "得分", "share", lambda e: e.record.score),
        Column("grade", "等次", "text", lambda e: e.record.grade),
        Column("rank", "名次", "int", lambda e: e.rank, "同一年度、同一评价方式中的名次，得分相同名次相同"),
        Column("of", "参评单位数", "int", lambda e: e.of),
        Column("change", "较上年", "share", lambda e: e.change, "与上一年度同一评价方式的得分之差"),
        Column("published_on", "公布日期", "date", lambda e: e.record.published_on),
    ), lambda f: sorted(f.evaluations, key=lambda e: (e.record.year, e.record.method, e.rank, e.record.department)))

    departments = ReaderTable("departments_shown", "部门", (
        Column("id", "单位代码", "text", lambda d: d.department.id),
        Column("name", "单位名称", "text", lambda d: d.department.name),
        Column("kind", "单位类别", "text", lambda d: d.department.kind),
        Column("active", "是否在用", "yesno", lambda d: d.department.active),
        Column("commitments", "承诺数", "int", lambda d: len(d.commitments)),
        Column("overdue_commitments", "逾期未兑现承诺数", "int", lambda d: d.overdue_commitments),
        Column("arrears", "欠款笔数", "int", lambda d: d.arrears_totals.count),
        Column("arrears_owed", "欠款金额（元）", "money", lambda d: d.arrears_totals.owed),
        Column("arrears_repaid", "已清偿（元）", "money", lambda d: d.arrears_totals.repaid),
        Column("arrears_outstanding", "未清偿（元）", "money", lambda d: d.arrears_totals.outstanding),
        Column("findings", "公示中的失信记录数", "int", lambda d: len(d.findings)),
        Column("contact_office", "异议受理科室", "text", lambda d: d.department.contact_office),
        Column("contact_phone", "联系电话", "text", lambda d: d.department.contact_phone),
        Column("contact_address", "办公地址", "text", lambda d: d.department.contact_address),
        Column("contact_hours", "受理时间", "text", lambda d: d.department.contact_hours),
    ), lambda f: list(f.departments))
    return (commitments, arrears, findings, evaluations, departments)


def _columns(facts: Facts, table: ReaderTable) -> list[ColumnValues]:
    """The table's values column by column: got item by item (an item's values are near each
    other in memory: 2.5 times quicker than column by column), then transposed in C."""
    gets = [c.get for c in table.columns]
    rows = [[get(item) for get in gets] for item in table.items(facts)]
    return list(map(column_values, zip(*rows))) if rows else [column_values(()) for _ in gets]


# --- the workbook ----------------------------------------------------------------------


_FORMATS = {"money": "#,##0.00", "share": "0.00##", "rate": "0.00##", "date": "yyyy-mm-dd", "int": "0"}


def _sheet_columns(table: ReaderTable, columns: list[ColumnValues]) -> tuple[list[Sequence[Any]], list[dict[type, str]]]:
    """_cell of every value, a column at a time: the ColumnSheet's columns and formats."""
    out, formats = [], []
    for c, column in zip(table.columns, columns):
        fmt = _FORMATS.get(c.kind)
        classes, values = column.classes, column.values
        if c.kind == "yesno":
            values = [None if v is None else YES if v else NO for v in values]
            formats.append({})
        elif classes == {str}:
            values = _xlsx_texts(column, True)
            formats.append({})
        else:
            if any(issubclass(k, str) or (fmt and k is bool) for k in classes):  # cell by cell
                values = [None if v is None else _cell(v, c)[0] for v in values]
                classes = column_values(values).classes
            if fmt is not None:
                formats.append({k: fmt for k in classes if not issubclass(k, str)})
            else:
                formats.append({k: DATE_FORMAT for k in classes if issubclass(k, date)})
        out.append(values)
    return out, formats


def _cell(value: Any, column: Column) -> tuple[Any, str | None]:
    if column.kind == "yesno":
        return yes_no(value), None
    if value is None:
        return None, None
    if column.kind in _FORMATS and not isinstance(value, str):
        return (value if not isinstance(value, bool) else int(value)), _FORMATS[column.kind]
    return xlsx_value(value, None)  # text: control characters dropped, formulas neutralised


ReaderColumns = list[tuple[ReaderTable, list[list[Any]]]]


def _reader_columns(facts: Facts) -> ReaderColumns:
    """Every reader table with its columns (computed once for the workbook and the database,
    on first use: a table whose sheet and SQLite table come from the caches is never got)."""
    return [(t, _LazyColumns(lambda t=t: _columns(facts, t))) for t in reader_tables(facts)]


class _LazyColumns:
    """A reader table's columns, got from the facts when first read."""

    def __init__(self, make: Callable[[], list[ColumnValues]]):
        self._make, self._columns = make, None

    def _get(self) -> list[ColumnValues]:
        if self._columns is None:
            self._columns = self._make()
        return self._columns

    def __getitem__(self, index):
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())

    def __iter__(self):
        return iter(self._get())


#: The reader tables made from one record kind's facts alone (and the as-of date and site
#: settings): their digests are kept per kind (opendata.KindMemo).
_READER_KINDS = {"commitments_shown": "commitments", "arrears_shown": "arrears", "findings_shown": "findings"}


def reader_digests(readers: ReaderColumns, memo: "KindMemo | None" = None) -> dict[str, bytes | None]:
    """Per reader table (by name) a source_digest of all its sheet and its SQLite table are
    made from: its name, title, columns (key, title, kind) and values; with `memo`, the last
    build's for a table of a record kind whose records' facts did not change."""
    out = {}
    for t, columns in readers:
        def make(t=t, columns=columns) -> bytes | None:
            return source_digest(t.name, t.title, [(c.key, c.title, c.kind) for c in t.columns],
                                 [c.values for c in columns])

        out[t.name] = memo.digest(_READER_KINDS.get(t.name), f"reader:{t.name}", make) if memo is not None else make()
    return out


def reader_xlsx(facts: Facts, readers: ReaderColumns | None = None, cache: SheetCache | None = None,
                deflated: DeflateCache | None = None, digests: dict[str, bytes | None] | None = None) -> bytes:
    """The reader's workbook; a table's sheet is taken from `cache` when its rows did not change,
    the zip members' deflated bytes from `deflated` when they did not change (`digests`:
    reader_digests(readers), when the caller has them)."""
    site, as_of = facts.site, facts.as_of
    package = load_package()
    props = Properties(title=("【演示数据】" if site.sample else "") + package.descriptor["title"] + "（读者版）",
                       creator=site.publisher, created=datetime.combine(as_of, time()),
                       keywords="演示数据" if site.sample else None)
    readers = _reader_columns(facts) if readers is None else readers
    tables = [t for t, _ in readers]

    about: list[tuple[str, Any]] = [
        ("数据名称", props.title), ("发布机构", site.publisher), ("数据截至", as_of),
        ("是否演示数据", "是（演示数据，不是真实记录）" if site.sample else "否"),
        ("说明", "本工作簿按网站显示的内容整理：单位写名称，并附网站计算的数值（已清偿、未清偿、逾期天数、"
                 "逾期利息、状态等），是否类写“是”或“否”。不在公示期内的失信记录不在其中。"
                 "原始数据表（单位代码、原始字段）见开放数据页面的数据包。"),
        ("金额", "单位为元，保留两位小数。"),
        ("公式注入防护", "以 =、+、-、@、制表符或回车符开头的文本前加了一个单引号（'），以免被当作公式执行。"),
    ]
    for t in tables:
        about.append((f"工作表：{t.title}", f"{len(t.items(facts))} 行" + (f"；{t.note}" if t.note else "")))
    info = [[xlsx_value(k, None), (v, "yyyy-mm-dd") if isinstance(v, date) else xlsx_value(v, None)] for k, v in about]
    info.append([(None, None), (None, None)])
    info.append([("字段定义", None), (None, None)])
    for t in tables:
        for c in t.columns:
            if c.definition:
                info.append([xlsx_value(f"{t.title}：{c.title}", None), xlsx_value(c.definition, None)])
    sheets = [Sheet("说明", ["项目", "内容"], info, [24, 60])]

    for t, columns in readers:
        header = [c.title for c in t.columns]

        def make(t=t, header=header, columns=columns) -> ColumnSheet:
            values, formats = _sheet_columns(t, columns)
            return ColumnSheet(t.title, header, values, formats, column_widths_of(header, values))

        if cache is None:
            source = None
        else:
            source = (digests if digests is not None else reader_digests([(t, columns)])).get(t.name)
        sheets.append(LazySheet(t.title, source, make))
    return workbook_bytes(sheets, props, as_of, cache, deflated)


# --- SQLite ----------------------------------------------------------------------------


_SQL_TYPES = {"string": "TEXT", "date": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER",
              "text": "TEXT", "int": "INTEGER", "money": "REAL", "share": "REAL", "rate": "REAL", "yesno": "TEXT"}


def _sql_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return float(value)  # REAL: exact to the cent for any amount below 10^13 yuan
    if isinstance(value, date):
        return value.isoformat()
    return value


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_column(column: ColumnValues) -> Sequence[Any]:
    """_sql_value of each value of a column; a column of one class (and None) a column at a time."""
    classes, values = column.classes, column.values
    if not classes or classes == {str} or classes == {int} or classes == {float}:
        return values
    if len(classes) == 1:
        kind = next(iter(classes))
        convert = float if kind is Decimal else date.isoformat if kind is date else None
        if convert is not None:
            if column.empty:
                return [None if v is None else convert(v) for v in values]
            return list(map(convert, values))
    return list(map(_sql_value, values))


def sqlite_bytes(facts: Facts, tables: dict[str, list[dict]] | None = None,
                 readers: ReaderColumns | None = None, columns: dict[str, list[ColumnValues]] | None = None,
                 cache: "TableCache | None" = None, digests: dict[str, bytes | None] | None = None) -> bytes:
    """The database file's bytes: Data Package tables, reader tables, column definitions, metadata.

    `tables` (public_tables), `readers` (the reader tables' columns) and `columns` (each table's
    table_columns) when the caller has them already. With `cache` (the last build's file,
    TableCache) and `digests` (table name → the table_digest or reader_digests digest of its
    rows), a table whose digest is the last build's is copied from the last file by SQLite
    (INSERT … SELECT) instead of being converted and inserted row by row from Python: the
    same rows in the same order, and VACUUM then writes the file from the tables' contents
    alone, so its bytes are those of a database made without the cache."""
    if cache is not None:
        try:
            return _sqlite_bytes(facts, tables, readers, columns, cache, digests or {})
        except sqlite3.Error:
            cache.forget()  # a last file SQLite cannot read as expected: made without it
    return _sqlite_bytes(facts, tables, readers, columns, None, {})


def _sqlite_bytes(facts: Facts, tables: dict[str, list[dict]] | None, readers: ReaderColumns | None,
                  columns: dict[str, list[ColumnValues]] | None, cache: "TableCache | None",
                  digests: dict[str, bytes | None]) -> bytes:
    conn = sqlite3.connect(":memory:")
    try:
        reuse: dict[str, str] = {}
        if cache is not None and cache.data is not None:
            conn.execute("ATTACH ':memory:' AS last")  # before any transaction (ATTACH cannot be in one)
            conn.deserialize(cache.data, name="last")
            reuse = cache.tables
        made: dict[str, str] = {}  # table → the digest of the rows put into it

        def fill(name: str, marks: str, rows: Callable[[], Any]) -> None:
            digest = digests.get(name)
            key = digest.hex() if digest is not None else None
            if key is not None and reuse.get(name) == key:
                # rowid order: the order the rows were inserted in when the last file was made
                conn.execute(f"INSERT INTO main.{_quote(name)} SELECT * FROM last.{_quote(name)} ORDER BY rowid")
            else:
                conn.executemany(f"INSERT INTO main.{_quote(name)} VALUES ({marks})", rows())
            if key is not None:
                made[name] = key

        conn.execute("PRAGMA page_size = 4096")
        conn.execute("PRAGMA encoding = 'UTF-8'")
        conn.execute("PRAGMA user_version = 1")
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        meta = [("as_of", facts.as_of.isoformat()), ("sample", "1" if facts.site.sample else "0"),
                ("publisher", facts.site.publisher), ("site_name", facts.site.site_name),
                ("money", "金额单位为元（REAL，精确到分；求和后请保留两位小数）"),
                ("note", "按网站显示的内容：不在公示期内的失信记录不在其中。*_shown 表与读者版工作簿相同。")]
        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta)
        conn.execute("CREATE TABLE columns (table_name TEXT, column_name TEXT, title TEXT, definition TEXT, "
                     "PRIMARY KEY (table_name, column_name))")
        package = load_package()
        tables = public_tables(facts) if tables is None else tables
        for res in published_resources(package):
            cols = ", ".join(f"{_quote(f.name)} {_SQL_TYPES.get(f.type, 'TEXT')}" for f in res.fields)
            conn.execute(f"CREATE TABLE {_quote(res.name)} ({cols})")
            marks = ", ".join("?" for _ in res.fields)

            def rows(res=res):
                values = (columns or {}).get(res.name) or table_columns(res, tables[res.name])
                return zip(*map(_sql_column, values))

            fill(res.name, marks, rows)
            conn.executemany("INSERT INTO columns VALUES (?, ?, ?, ?)",
                             ((res.name, f.name, f.title, f.description) for f in res.fields))
        for t, reader_columns in (_reader_columns(facts) if readers is None else readers):
            cols = ", ".join(f"{_quote(c.key)} {_SQL_TYPES[c.kind]}" for c in t.columns)
            conn.execute(f"CREATE TABLE {_quote(t.name)} ({cols})")
            marks = ", ".join("?" for _ in t.columns)

            def rows(t=t, reader_columns=reader_columns):
                return zip(*[list(map(yes_no, column.values)) if c.kind == "yesno" else _sql_column(column)
                             for c, column in zip(t.columns, reader_columns)])

            fill(t.name, marks, rows)
            conn.executemany("INSERT INTO columns VALUES (?, ?, ?, ?)",
                             ((t.name, c.key, c.title, c.definition) for c in t.columns))
        conn.commit()
        if reuse:
            conn.execute("DETACH last")
        conn.execute("VACUUM")
        data = conn.serialize()
    finally:
        conn.close()
    if cache is not None:
        cache.save(data, made)
    return data


#: Connection.deserialize (TableCache attaches the last file from its bytes) is Python 3.11+,
#: and absent where SQLite was built without it; this package supports Python 3.10.
CAN_ATTACH_BYTES = hasattr(sqlite3.Connection, "deserialize")


class TableCache:
    """The SQLite file of the last build (build/.cache/sqlite-tables/) and the digest of each
    of its tables' rows, for sqlite_bytes: a rebuild after one record changed copies the
    unchanged tables from it. Used only when the file's SHA-256 is the one saved with the
    digests and the code that makes the tables (this module, opendata.py, xlsx.py) and the
    SQLite library are the same; anything else costs a database made without it."""

    _FORMAT = 1

    def __init__(self, folder: Path):
        self.file, self.index = Path(folder) / "tables.sqlite", Path(folder) / "tables.json"
        code = hashlib.sha256(f"{self._FORMAT}\0{sqlite3.sqlite_version}\0".encode())
        from generator import opendata, xlsx

        for path in (__file__, opendata.__file__, xlsx.__file__):
            code.update(Path(path).read_bytes())
        self.code = code.hexdigest()
        self.data: bytes | None = None
        self.tables: dict[str, str] = {}
        if not CAN_ATTACH_BYTES:
            return  # every table is inserted as in a full build
        try:
            saved = json.loads(self.index.read_text(encoding="utf-8"))
            data = self.file.read_bytes()
            if (isinstance(saved, dict) and saved.get("code") == self.code and isinstance(saved.get("tables"), dict)
                    and saved.get("sha256") == hashlib.sha256(data).hexdigest()):
                self.data, self.tables = data, saved["tables"]
        except (OSError, ValueError):
            pass

    def forget(self) -> None:
        self.data, self.tables = None, {}

    def save(self, data: bytes, tables: dict[str, str]) -> None:
        """Keep this build's file and its tables' digests (the file first: an index naming
        another file's digest is never used)."""
        from generator.files import write_if_changed

        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            write_if_changed(self.file, data)
            write_if_changed(self.index, json.dumps({"code": self.code, "sha256": hashlib.sha256(data).hexdigest(),
                                                     "tables": tables}, sort_keys=True).encode("utf-8"))
        except OSError:
            pass


def reader_files(facts: Facts, name: str, tables: dict[str, list[dict]] | None = None,
                 cache: SheetCache | None = None, columns: dict[str, list[ColumnValues]] | None = None,
                 deflated: DeflateCache | None = None, table_cache: TableCache | None = None,
                 digests: dict[str, bytes | None] | None = None, memo: "KindMemo | None" = None) -> dict[str, bytes]:
    """Paths relative to the data folder; `tables`: public_tables(facts), and `columns`: each
    table's table_columns, when the caller has them; `cache`: the reader workbook's sheets of
    the last build (xlsx.SheetCache); `deflated`: its zip members' (xlsx.DeflateCache)."""
    readers = _reader_columns(facts)
    mine = reader_digests(readers, memo) if cache is not None or table_cache is not None else None
    return {f"{name}-reader.xlsx": reader_xlsx(facts, readers, cache, deflated, mine),
            f"{name}.sqlite": sqlite_bytes(facts, tables, readers, columns, table_cache,
                                           {**(digests or {}), **(mine or {})})}
