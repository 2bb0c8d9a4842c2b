"""Staff commands `generator import FILE.xlsx` and `generator export-template`.

Import reads an office's Excel ledger and merges it into the CSV ledgers under
the data folder:

1. read   — each visible sheet is matched to a resource (arrears, its plan and
            repayments, evaluations) by its name or its header row; the header
            row is found below any title rows; headers map to fields through the
            schema titles plus `schemas/import_synonyms.yaml`;
2. convert — cells become the text the CSV holds: ISO dates, exact decimal
            amounts, true/false, department ids for department names;
3. merge  — by primary key (新增 / 更新 / 未变; repayments by 账款编号 + 支付日期 +
            当日笔次, so a corrected payment replaces its row); rows missing from the
            workbook are never deleted; a blank cell leaves the value unchanged and
            only the marker （清空） empties it; rows hidden in Excel are not imported
            and are reported;
4. check  — the merged folder is loaded and validated in a scratch copy; rows
            with errors are rejected with their Excel row number and left out,
            and the check repeats until what is left is clean;
5. write  — each CSV is replaced atomically, keeping its column order, line
            endings, sort order and the bytes of every untouched row.

Export writes the empty workbook offices fill in, from the same schema.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import unicodedata
import warnings
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import yaml

from generator.problems import GeneratorError, Problem
from generator.scaffold import (
    CsvDoc,
    CsvRecord,
    Departments,
    format_number,
    id_prefix,
    next_id,
    references_departments,
    site_today,
    trial_validate,
)
from generator.schema import Field, Package, Resource, load_package

IMPORTABLE = ("arrears", "arrears_plan", "arrears_repayments", "evaluations")
SYNONYMS_PATH = Path(__file__).with_name("schemas") / "import_synonyms.yaml"
HEADER_SEARCH_ROWS = 10
MIN_HEADER_MATCHES = 3
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"
ZIP_MAGIC = b"PK\x03\x04"
_TOTAL_WORDS = ("合计", "小计", "总计")
_EXCEL_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
_TRUE_WORDS = {"是", "有", "true", "1", "y", "yes", "√", "✓", "有争议"}
_FALSE_WORDS = {"否", "无", "没有", "false", "0", "n", "no", "×", "✗", "无争议"}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DATE_TEXT = re.compile(r"(\d{4})[年/.\-](\d{1,2})[月/.\-](\d{1,2})日?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATETIME_TEXT = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})(?:[T ]?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)")
_FLOAT_NOISE = Decimal("0.000001")
#: A blank cell leaves the existing value as it is; this marker in a cell clears it.
CLEAR_MARKER = "（清空）"
_CLEAR_WORDS = {"(清空)"}  # CLEAR_MARKER as _plain() sees it (half-width brackets too)
#: Values for columns a workbook may leave out: (resource -> field -> value).
IMPORT_DEFAULTS = {"arrears_repayments": {"seq": "1"}}


class UnusableFile(GeneratorError):
    """The workbook cannot be imported at all; nothing was written (exit 2)."""


class ImportBlocked(GeneratorError):
    """Importing would introduce errors that cannot be pinned on a row; nothing was written."""

    exit_code = 1


# --- header names -----------------------------------------------------------------------


def normalise_header(text: Any) -> str:
    """Header text in the form names are compared in: half-width, no spaces, no （元） unit, no *."""
    t = unicodedata.normalize("NFKC", str(text))
    t = re.sub(r"\s+", "", t).lower().strip("*")
    return re.sub(r"\((?:元|人民币元)\)$", "", t)


def short_title(f: Field) -> str:
    """The title without a unit suffix: 欠款金额（元） → 欠款金额."""
    return re.sub(r"[（(](?:元|人民币元)[）)]$", "", f.title)


@dataclass(frozen=True)
class Mapping:
    resource: Resource
    names: dict[str, str]  # normalised header -> field name
    sheet_names: tuple[str, ...]  # normalised, the title first


@dataclass(frozen=True)
class Synonyms:
    mappings: dict[str, Mapping]
    ignore_sheets: frozenset[str]


@lru_cache(maxsize=1)
def synonyms() -> Synonyms:
    """Resource mappings: schema names and titles plus the synonyms file, checked for clashes."""
    package = load_package()
    raw = yaml.safe_load(SYNONYMS_PATH.read_text(encoding="utf-8")) or {}
    mappings = {}
    for name in IMPORTABLE:
        resource = package.resource(name)
        entry = raw.get(name) or {}
        extra = entry.get("fields") or {}
        unknown = set(extra) - set(resource.field_names)
        if unknown:
            raise GeneratorError(f"{SYNONYMS_PATH.name}：{name} 下的字段 {'、'.join(sorted(unknown))} 在数据规范中不存在")
        names: dict[str, str] = {}
        for f in resource.fields:
            for label in (f.name, f.title, *(extra.get(f.name) or [])):
                key = normalise_header(label)
                if names.get(key, f.name) != f.name:
                    raise GeneratorError(f"{SYNONYMS_PATH.name}：{name} 中的列名“{label}”同时对应 {names[key]} 和 {f.name}")
                names[key] = f.name
        sheets = (normalise_header(resource.title), *(normalise_header(s) for s in entry.get("sheets") or []))
        mappings[name] = Mapping(resource, names, sheets)
    ignore = frozenset(normalise_header(s) for s in raw.get("ignore_sheets") or [])
    return Synonyms(mappings, ignore)


# --- reading the workbook ----------------------------------------------------------------


@dataclass
class Sheet:
    """One worksheet's cell values, merged ranges filled with their top-left value."""

    title: str
    hidden: bool
    cells: dict[tuple[int, int], Any]
    uncomputed: set[tuple[int, int]]  # formula cells without a cached value
    merged: list[tuple[int, int, int, int]]  # min_row, min_col, max_row, max_col
    max_row: int
    max_col: int
    epoch: datetime
    hidden_rows: set[int] = field(default_factory=set)  # rows hidden in Excel (reported when they hold data)

    def value(self, row: int, col: int) -> Any:
        return self.cells.get((row, col))

    def row_values(self, row: int) -> list[tuple[int, Any]]:
        return [(c, self.cells[(row, c)]) for c in range(1, self.max_col + 1) if (row, c) in self.cells]


def check_file(path: Path) -> None:
    """Refuse what openpyxl cannot read, with a message that says what to do instead."""
    if not path.exists():
        raise UnusableFile(f"找不到文件 {path}")
    if path.is_dir():
        raise UnusableFile(f"{path} 是文件夹，请给出 .xlsx 文件")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raise UnusableFile(f"{path.name} 是 CSV 文件：CSV 文件请直接放入 data/ 对应的位置（并用 generator validate 检查），"
                           "或在 Excel 中另存为 .xlsx 后再导入")
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError as exc:
        raise UnusableFile(f"无法读取 {path}：{exc.strerror or exc}") from None
    if magic.startswith(OLE2_MAGIC):
        if suffix == ".xls":
            raise UnusableFile(f"{path.name} 是旧版 Excel 文件（.xls），无法导入：请在 Excel 中“另存为”Excel 工作簿（.xlsx）后再导入")
        raise UnusableFile(f"{path.name} 无法导入：文件已加密或是旧版 .xls。请在 Excel 中取消打开密码"
                           "（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码），并另存为 .xlsx 后再导入")
    if suffix == ".xls":
        raise UnusableFile(f"{path.name} 是旧版 Excel 格式（.xls）：请在 Excel 中另存为 .xlsx 后再导入")
    if suffix not in (".xlsx", ".xlsm"):
        raise UnusableFile(f"{path.name} 不是 Excel 工作簿（.xlsx）：请在 Excel 中另存为 .xlsx 后再导入")
    if not magic.startswith(ZIP_MAGIC) or not zipfile.is_zipfile(path):
        raise UnusableFile(f"{path.name} 不是有效的 .xlsx 文件（文件内容不是 Excel 工作簿，可能已损坏或只是改了扩展名）：请用 Excel 打开后另存为 .xlsx")


# Limits for a workbook (an office ledger has a few thousand rows and about twenty columns).
MAX_WORKBOOK_BYTES = 50_000_000  # the .xlsx file
MAX_PART_BYTES = 300_000_000  # any one part once unzipped (sheet XML, shared strings)
MAX_ROWS = 100_000  # per sheet
MAX_COLUMNS = 200  # per sheet (column GR)
_MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _too_big(path: Path, what: str) -> UnusableFile:
    return UnusableFile(f"{path.name} 超出导入的上限：{what}。导入上限为每个工作表 {MAX_ROWS:,} 行、{MAX_COLUMNS} 列（到 "
                        f"{_letter(MAX_COLUMNS)} 列），文件 {MAX_WORKBOOK_BYTES // 1_000_000} MB。请删除多余的行列"
                        "（含只有格式的空单元格），或把台账拆分成几个文件后分别导入")


@dataclass
class _Structure:
    """What one streaming pass over a sheet's XML finds, before openpyxl reads its values."""

    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    formula_without_value: set[tuple[int, int]] = field(default_factory=set)
    hidden_rows: set[int] = field(default_factory=set)


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """Sheet name -> (part name in the archive, state) for every worksheet, from workbook.xml and its rels."""
    import posixpath
    import xml.etree.ElementTree as ET

    def rels(name: str) -> dict[str, str]:
        folder, base = posixpath.split(name)
        rel_name = posixpath.join(folder, "_rels", base + ".rels")
        if rel_name not in archive.namelist():
            return {}
        out = {}
        for el in ET.fromstring(archive.read(rel_name)):
            target = el.get("Target") or ""
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out[el.get("Id") or ""] = target
        return out

    root_rels = rels("")
    workbook = next((t for t in root_rels.values() if t.endswith(".xml") and "workbook" in t.lower()), "xl/workbook.xml")
    if workbook not in archive.namelist() or archive.getinfo(workbook).file_size > MAX_PART_BYTES:
        return {}
    targets = rels(workbook)
    parts = {}
    for el in ET.fromstring(archive.read(workbook)).iter():
        if _local(el.tag) != "sheet":
            continue
        rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
        if rid in targets:
            parts[el.get("name") or ""] = (targets[rid], el.get("state") or "visible")
    return parts


def _scan_sheet(path: Path, archive: zipfile.ZipFile, part: str, title: str) -> _Structure:
    """Stream the sheet XML once: refuse cells beyond the limits at the first one met (a single cell
    at XFD1048576 is refused in milliseconds), and collect merged ranges, hidden rows and formula
    cells without a cached value (read-only openpyxl exposes none of these)."""
    import xml.etree.ElementTree as ET

    from openpyxl.utils.cell import coordinate_from_string, column_index_from_string, range_boundaries

    info = archive.getinfo(part)
    if info.file_size > MAX_PART_BYTES:
        raise _too_big(path, f"工作表“{title}”解压后有 {info.file_size / 1e6:.0f} MB")
    found = _Structure()
    row_no, col_no = 0, 0
    with archive.open(part) as stream:
        for event, el in ET.iterparse(stream, events=("start", "end")):
            name = _local(el.tag)
            if event == "start":
                if name == "row":
                    row_no = int(el.get("r") or row_no + 1)
                    col_no = 0
                    if row_no > MAX_ROWS:
                        raise _too_big(path, f"工作表“{title}”有第 {row_no:,} 行")
                    if (el.get("hidden") or "").lower() in ("1", "true"):
                        found.hidden_rows.add(row_no)
                elif name == "dimension":
                    ref = (el.get("ref") or "A1").split(":")[-1]
                    try:
                        col_letters, last_row = coordinate_from_string(ref)
                        last_col = column_index_from_string(col_letters)
                    except ValueError:
                        continue
                    if last_row > MAX_ROWS or last_col > MAX_COLUMNS:
                        raise _too_big(path, f"工作表“{title}”的范围到 {ref} 单元格")
                continue
            if name == "c":
                ref = el.get("r")
                if ref:
                    try:
                        col_letters, r = coordinate_from_string(ref)
                        col_no, row_no = column_index_from_string(col_letters), r
                    except ValueError:
                        raise UnusableFile(f"{path.name} 的工作表“{title}”中有无效的单元格位置“{ref[:20]}”：请用 Excel 打开后另存为 .xlsx") from None
                else:
                    col_no += 1
                if row_no > MAX_ROWS or col_no > MAX_COLUMNS:
                    raise _too_big(path, f"工作表“{title}”有 {ref or _letter(min(col_no, 16384)) + str(row_no)} 单元格")
                children = {_local(child.tag): child for child in el}
                if "f" in children and not (children.get("v") is not None and children["v"].text):
                    found.formula_without_value.add((row_no, col_no))
                el.clear()
            elif name == "row":
                el.clear()
            elif name == "mergeCell":
                try:
                    min_col, min_row, max_col, max_row = range_boundaries(el.get("ref") or "")
                except (ValueError, TypeError):
                    continue
                if max_row > MAX_ROWS or max_col > MAX_COLUMNS:
                    raise _too_big(path, f"工作表“{title}”的合并单元格 {el.get('ref')}")
                found.merged.append((min_row, min_col, max_row, max_col))
    return found


def read_workbook(path: Path) -> list[Sheet]:
    """Every worksheet's values, read once by openpyxl in read-only (streaming) mode after one
    streaming scan of each sheet's XML has checked the limits (see MAX_*)."""
    import xml.etree.ElementTree as ET

    import openpyxl

    check_file(path)
    size = path.stat().st_size
    if size > MAX_WORKBOOK_BYTES:
        raise _too_big(path, f"文件有 {size / 1e6:.0f} MB")
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.file_size > MAX_PART_BYTES and not info.filename.startswith(("xl/media/", "docProps/")):
                    raise _too_big(path, f"其中的 {info.filename[:60]} 解压后有 {info.file_size / 1e6:.0f} MB")
            parts = _sheet_parts(archive)
            structure = {title: _scan_sheet(path, archive, part, title)
                         for title, (part, _state) in parts.items() if part in archive.namelist()}
    except (zipfile.BadZipFile, ET.ParseError, KeyError, OSError, EOFError) as exc:
        raise UnusableFile(f"无法读取 {path.name}（{type(exc).__name__}）：文件可能已损坏或不是 Excel 工作簿，请用 Excel 打开后另存为 .xlsx") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it does not read
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise UnusableFile(f"无法读取 {path.name}（{type(exc).__name__}）：文件可能已损坏或不是 Excel 工作簿，请用 Excel 打开后另存为 .xlsx") from None
    sheets = []
    try:
        for ws in book.worksheets:
            found = structure.get(ws.title, _Structure())
            state = parts.get(ws.title, ("", "visible"))[1]
            cells: dict[tuple[int, int], Any] = {}
            uncomputed: set[tuple[int, int]] = set()
            ws.reset_dimensions()  # never pad rows to a (possibly crafted) declared size
            for row in ws.iter_rows():
                for cell in row:
                    r, c = getattr(cell, "row", None), getattr(cell, "column", None)
                    if r is None or c is None:  # an empty filler cell
                        continue
                    if r > MAX_ROWS or c > MAX_COLUMNS:  # the scan refused these already
                        raise _too_big(path, f"工作表“{ws.title}”有 {_letter(min(c, 16384))}{r} 单元格")
                    value = cell.value
                    if isinstance(value, str) and not value.strip():
                        value = None
                    if value is None and (r, c) in found.formula_without_value:
                        uncomputed.add((r, c))
                    elif value is not None:
                        cells[(r, c)] = value
            merged = []
            for min_row, min_col, max_row, max_col in found.merged:
                merged.append((min_row, min_col, max_row, max_col))
                top_left = cells.get((min_row, min_col))
                for r in range(min_row, max_row + 1):
                    for c in range(min_col, max_col + 1):
                        if (r, c) != (min_row, min_col):
                            cells.pop((r, c), None)
                            if top_left is not None:
                                cells[(r, c)] = top_left
            max_row = max((r for r, _ in cells), default=0)
            max_row = max(max_row, max((r for r, _ in uncomputed), default=0))
            max_col = max((c for _, c in cells), default=0)
            sheet = Sheet(ws.title, state != "visible", cells, uncomputed, merged, max_row, max_col, book.epoch)
            sheet.hidden_rows = found.hidden_rows
            sheets.append(sheet)
    except UnusableFile:
        raise
    except Exception as exc:  # a part openpyxl cannot parse
        raise UnusableFile(f"无法读取 {path.name}（{type(exc).__name__}）：文件可能已损坏或不是 Excel 工作簿，请用 Excel 打开后另存为 .xlsx") from None
    finally:
        book.close()
    return sheets


# --- finding the table in a sheet ----------------------------------------------------------


@dataclass
class Header:
    row: int  # the header row
    data_start: int  # first data row
    columns: dict[int, str]  # column -> field name
    unknown: dict[int, str]  # column -> header text that maps to nothing


def _mapped(sheet: Sheet, row: int, mapping: Mapping) -> dict[int, str]:
    out = {}
    for col, value in sheet.row_values(row):
        name = mapping.names.get(normalise_header(value)) if isinstance(value, (str, int)) else None
        if name:
            out[col] = name
    return out


def find_header(sheet: Sheet, mapping: Mapping) -> Header | None:
    """The first row in the first ten with ≥ 3 known names (or the row below, for a two-level header)."""
    last = min(HEADER_SEARCH_ROWS, sheet.max_row)
    for row in range(1, last + 1):
        columns = _mapped(sheet, row, mapping)
        if len(columns) < MIN_HEADER_MATCHES:
            continue
        if row + 1 <= sheet.max_row:
            below = _mapped(sheet, row + 1, mapping)
            if len(below) > len(columns):  # group labels above, field names below
                row, columns = row + 1, below
        data_start = row + 1
        for min_row, _c, max_row, _c2 in sheet.merged:
            if min_row <= row <= max_row:
                data_start = max(data_start, max_row + 1)
        unknown = {c: str(v) for c, v in sheet.row_values(row) if c not in columns}
        return Header(row, data_start, columns, unknown)
    return None


def _letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col)


def _match_sheet_name(title: str, syn: Synonyms) -> str | None:
    name = normalise_header(title)
    for resource, mapping in syn.mappings.items():
        if name in mapping.sheet_names:
            return resource
    best, best_len = None, 0
    for resource, mapping in syn.mappings.items():
        for candidate in mapping.sheet_names:
            if candidate in name and len(candidate) > best_len:
                best, best_len = resource, len(candidate)
    return best


def choose_resource(sheet: Sheet, syn: Synonyms, forced: str | None) -> tuple[str, Header] | None:
    if forced:
        header = find_header(sheet, syn.mappings[forced])
        if header is None:
            title = syn.mappings[forced].resource.title
            raise UnusableFile(f"工作表“{sheet.title}”的前 {HEADER_SEARCH_ROWS} 行中找不到“{title}”的表头"
                               f"（至少要有 {MIN_HEADER_MATCHES} 个可识别的列名，如 {_example_titles(syn.mappings[forced])}）")
        return forced, header
    by_name = _match_sheet_name(sheet.title, syn)
    if by_name:
        header = find_header(sheet, syn.mappings[by_name])
        if header is not None:
            return by_name, header
    best: tuple[tuple[int, int, int], str, Header] | None = None
    for order, (name, mapping) in enumerate(syn.mappings.items()):
        header = find_header(sheet, mapping)
        if header is None:
            continue
        required = sum(mapping.resource.field(f).required for f in header.columns.values())
        score = (len(set(header.columns.values())), required, -order)
        if best is None or score > best[0]:
            best = (score, name, header)
    return (best[1], best[2]) if best else None


def _example_titles(mapping: Mapping) -> str:
    return "、".join(f.title for f in mapping.resource.fields if f.required)


# --- cell conversion ------------------------------------------------------------------------


class CellError(Exception):
    pass


def _plain(value: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))


def convert_date(value: Any, epoch: datetime | None = None) -> str:
    from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, from_excel

    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time) or isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        if float(value).is_integer() and 19000101 <= value <= 21001231:
            text = str(int(value))
            m = _COMPACT_DATE.fullmatch(text)
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
            except ValueError:
                return text
        if 1 <= value < 2958466:
            converted = from_excel(value, epoch=epoch or CALENDAR_WINDOWS_1900)
            return (converted.date() if isinstance(converted, datetime) else converted).isoformat()
        return str(value)
    text = _plain(value)
    m = _DATE_TEXT.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if m is None and (m2 := _DATETIME_TEXT.fullmatch(str(value).strip())):
        m = _DATE_TEXT.fullmatch(m2.group(1))
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            pass
    return str(value).strip()


def convert_number(f: Field, value: Any) -> str:
    """Exact decimal text: from the cell's text, or from a float by repr, float noise rounded away."""
    if isinstance(value, bool) or isinstance(value, (datetime, date, time)):
        return str(value)
    if isinstance(value, int):
        return format_number(f, Decimal(value))
    if isinstance(value, float):
        exact = Decimal(repr(value))
        if f.decimals is not None:
            rounded = exact.quantize(Decimal(1).scaleb(-f.decimals))
            if abs(exact - rounded) < _FLOAT_NOISE:
                exact = rounded
        return format_number(f, exact) if exact.is_finite() else repr(value)
    raw = str(value).strip()
    text = _plain(raw)
    text = re.sub(r"^(?:¥|￥|rmb|RMB|人民币)", "", text)
    text = re.sub(r"(?:元|圆)$", "", text)
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    if _NUMBER.fullmatch(text):
        try:
            return format_number(f, Decimal(text))
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            pass
    return raw


def convert_integer(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = _plain(value).removesuffix("年")
    return str(int(text)) if re.fullmatch(r"[+-]?\d+", text) else str(value).strip()


def convert_boolean(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and value in (0, 1):
        return "true" if value else "false"
    text = _plain(value).lower()
    if text in _TRUE_WORDS:
        return "true"
    if text in _FALSE_WORDS:
        return "false"
    return str(value).strip()


def convert_text(f: Field, value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if f.pattern or f.enum:  # codes, ids and fixed values: half-width, no stray spaces
        text = _plain(text)
    return text


def convert_cell(f: Field, value: Any, epoch: datetime | None = None) -> str | None:
    """The CSV text for one cell; raises CellError for cells that hold no usable value."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip() in _EXCEL_ERRORS:
        raise CellError(f"单元格是 Excel 错误值 {value.strip()}，请在 Excel 中修正公式或改为数值")
    if f.type == "date":
        return convert_date(value, epoch)
    if f.type == "number":
        return convert_number(f, value)
    if f.type == "integer":
        return convert_integer(value)
    if f.type == "boolean":
        return convert_boolean(value)
    return convert_text(f, value) or None


# --- rows from the workbook -----------------------------------------------------------------


@dataclass
class SheetRow:
    sheet: str
    row: int
    resource: str
    values: dict[str, str | None]  # the fields the sheet has columns for
    reasons: list[str] = field(default_factory=list)  # why it is rejected
    notes: list[str] = field(default_factory=list)  # warnings shown with the row
    cleared: set[str] = field(default_factory=set)  # fields whose cell says CLEAR_MARKER

    @property
    def uid(self) -> tuple[str, int]:
        return (self.sheet, self.row)


@dataclass
class SheetPlan:
    sheet: Sheet
    resource: str
    header: Header
    rows: list[SheetRow]


def read_rows(sheet: Sheet, resource: Resource, header: Header, depts: Departments, notices: list[str]) -> list[SheetRow]:
    rows = []
    hidden: list[int] = []
    key_fields = resource.primary_key or tuple(f.name for f in resource.fields if f.required)
    for r in range(header.data_start, sheet.max_row + 1):
        cells = {c: sheet.value(r, c) for c in header.columns}
        pending = [c for c in header.columns if (r, c) in sheet.uncomputed]
        if all(v is None for v in cells.values()) and not pending:
            continue
        if _is_total_row(sheet, r, header, key_fields):
            notices.append(f"工作表“{sheet.title}”第 {r} 行是合计行，已跳过")
            continue
        if r in sheet.hidden_rows:
            hidden.append(r)
            continue
        row = SheetRow(sheet.title, r, resource.name, {})
        for col, name in header.columns.items():
            f = resource.field(name)
            if isinstance(cells[col], str) and _plain(cells[col]) in _CLEAR_WORDS:
                if f.required:
                    row.reasons.append(f"{short_title(f)}（{_letter(col)}{r} 单元格）：必填项不能清空")
                row.values[name] = None
                row.cleared.add(name)
                continue
            if (r, col) in sheet.uncomputed:
                row.reasons.append(f"{short_title(f)}（{_letter(col)}{r} 单元格）：公式单元格没有计算结果，请在 Excel 中重新计算并保存")
                row.values[name] = None
                continue
            try:
                value = convert_cell(f, cells[col], sheet.epoch)
            except CellError as exc:
                row.reasons.append(f"{short_title(f)}（{_letter(col)}{r} 单元格）：{exc}")
                value = None
            if value is not None and references_departments(resource, name):
                value = depts.resolve(value)
            row.values[name] = value
        for name, default in IMPORT_DEFAULTS.get(resource.name, {}).items():
            if not row.values.get(name) and name not in row.cleared:
                row.values[name] = default
        rows.append(row)
    if hidden:
        notices.append(f"工作表“{sheet.title}”第 {'、'.join(map(str, hidden))} 行在 Excel 中是隐藏的，未导入"
                       "（如需导入，请在 Excel 中取消隐藏后重新导入）")
    return rows


def _is_total_row(sheet: Sheet, r: int, header: Header, key_fields: tuple[str, ...]) -> bool:
    """A 合计/小计/总计 row: such a word starts a cell, and the key cells are empty or hold that word."""
    texts = [_plain(v) for _c, v in sheet.row_values(r) if isinstance(v, str)]
    if not any(t.startswith(_TOTAL_WORDS) for t in texts):
        return False
    keys = [sheet.value(r, c) for c, name in header.columns.items() if name in key_fields]
    return all(v is None or _plain(v).startswith(_TOTAL_WORDS) for v in keys)


# --- merging ----------------------------------------------------------------------------------


def _number(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text is not None else None
    except InvalidOperation:
        return None


def same_value(f: Field, old: str | None, new: str | None) -> bool:
    if not old and not new:
        return True
    if f.type in ("number", "integer"):
        a, b = _number(old), _number(new)
        if a is not None and b is not None:
            return a == b
    return (old or "") == (new or "")


def _key(resource: Resource, values: dict, fields: tuple[str, ...]) -> tuple:
    out = []
    for name in fields:
        value = values.get(name)
        if resource.field(name).type in ("number", "integer") and _number(value) is not None:
            out.append(_number(value))
        else:
            out.append(value or "")
    return tuple(out)


def match_fields(resource: Resource) -> tuple[str, ...]:
    """How a workbook row finds its CSV row: the primary key, or (repayments) the defining values."""
    if resource.primary_key:
        return resource.primary_key
    return tuple(f.name for f in resource.fields if f.required)


@dataclass
class Outcome:
    row: SheetRow
    status: str  # 新增 | 更新 | 未变
    label: str
    changes: list[tuple[str, str | None, str | None]]
    record: CsvRecord | None


def row_label(resource: Resource, values: dict) -> str:
    fields = match_fields(resource)
    return " ".join(str(values.get(f) or "（空）") for f in fields)


def row_label_known(resource: Resource, values: dict) -> bool:
    return any(values.get(f) for f in match_fields(resource))


def merge(docs: dict[str, CsvDoc], rows: list[SheetRow], skip: set[tuple[str, int]]) -> tuple[dict[tuple[str, int], Outcome], dict[str, int]]:
    """Apply the accepted rows to the documents; returns each row's outcome and the untouched counts."""
    outcomes: dict[tuple[str, int], Outcome] = {}
    untouched: dict[str, int] = {}
    by_resource: dict[str, list[SheetRow]] = defaultdict(list)
    for row in rows:
        if row.uid not in skip:
            by_resource[row.resource].append(row)
    for name, doc in docs.items():
        resource = doc.resource
        fields = match_fields(resource)
        sort_fields = doc.sort_fields()
        index: dict[tuple, list[CsvRecord]] = defaultdict(list)
        for i, values in doc.rows():
            index[_key(resource, values, fields)].append(doc.records[i])
        matched: set[int] = set()
        for row in by_resource.get(name, []):
            key = _key(resource, row.values, fields)
            candidates = [r for r in index.get(key, []) if id(r) not in matched]
            label = row_label(resource, row.values)
            if not candidates:
                values = {f: None for f in resource.field_names}
                values.update(row.values)
                record = doc.insert(values, sort_fields)
                matched.add(id(record))
                outcomes[row.uid] = Outcome(row, "新增", label, [], record)
                continue
            record = candidates[0]
            matched.add(id(record))
            old = record.values or {}
            # a blank cell means "unchanged"; only CLEAR_MARKER empties a value
            changes = [(f, old.get(f), row.values.get(f)) for f in row.values
                       if (row.values.get(f) is not None or f in row.cleared)
                       and not same_value(resource.field(f), old.get(f), row.values.get(f))]
            if changes:
                doc.update(record, {f: new for f, _old, new in changes})
                outcomes[row.uid] = Outcome(row, "更新", label, changes, record)
            else:
                outcomes[row.uid] = Outcome(row, "未变", label, [], record)
        in_workbook = {_key(resource, row.values, fields) for row in rows if row.resource == name}
        untouched[name] = sum(1 for _, values in doc.rows() if _key(resource, values, fields) not in in_workbook)
    return outcomes, untouched


# --- the import ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    plans: list[SheetPlan]
    outcomes: dict[tuple[str, int], Outcome]
    rejected: list[SheetRow]
    untouched: dict[str, int]
    notices: list[str]
    docs: dict[str, CsvDoc]
    written: list[Path] = field(default_factory=list)

    def count(self, status: str) -> int:
        if status == "拒绝":
            return len(self.rejected)
        return sum(1 for o in self.outcomes.values() if o.status == status)


def _where(row: SheetRow, many_sheets: bool) -> str:
    return f"工作表“{row.sheet}”第 {row.row} 行" if many_sheets else f"第 {row.row} 行"


def _reason(resource: Resource, p: Problem) -> str:
    message, hint = p.message, p.hint
    if p.field in resource.field_names and message.startswith("“"):
        message = short_title(resource.field(p.field)) + message
    if p.code == "foreign-key" and p.field and references_departments(resource, p.field):
        hint = (hint + "；" if hint.startswith("是不是") else "") + "请填写 data/departments.csv 中的单位名称或单位代码"
    return message + (f" — {hint}" if hint else "")


def plan_sheets(sheets: list[Sheet], syn: Synonyms, depts: Departments, sheet_name: str | None,
                forced: str | None, notices: list[str]) -> list[SheetPlan]:
    if sheet_name is not None:
        chosen = [s for s in sheets if s.title == sheet_name]
        if not chosen:
            names = "、".join(f"“{s.title}”" for s in sheets)
            raise UnusableFile(f"工作簿中没有名为“{sheet_name}”的工作表（现有：{names}）")
    else:
        chosen = []
        for s in sheets:
            if normalise_header(s.title) in syn.ignore_sheets:
                continue
            if s.hidden:
                notices.append(f"工作表“{s.title}”是隐藏的，已忽略")
            else:
                chosen.append(s)
        if forced and len(chosen) > 1:
            raise UnusableFile("工作簿中有多个工作表，使用 --resource 时请用 --sheet 指定要导入的工作表")
    plans = []
    for sheet in chosen:
        if sheet.max_row == 0:
            notices.append(f"工作表“{sheet.title}”是空的，已跳过")
            continue
        found = choose_resource(sheet, syn, forced)
        if found is None:
            if sheet_name is not None:
                raise UnusableFile(f"工作表“{sheet.title}”的前 {HEADER_SEARCH_ROWS} 行中找不到可识别的表头")
            notices.append(f"工作表“{sheet.title}”中找不到可识别的表头，已跳过")
            continue
        name, header = found
        resource = syn.mappings[name].resource
        _check_header(sheet, resource, header, notices)
        rows = read_rows(sheet, resource, header, depts, notices)
        plans.append(SheetPlan(sheet, name, header, rows))
    if not plans:
        titles = "、".join(syn.mappings[n].resource.title for n in IMPORTABLE)
        raise UnusableFile(f"没有找到可识别的表头：工作表的前 {HEADER_SEARCH_ROWS} 行中应有一行列名，"
                           f"且工作表名或列名能对应到{titles}之一（可用 generator export-template 生成模板）")
    return plans


def _check_header(sheet: Sheet, resource: Resource, header: Header, notices: list[str]) -> None:
    columns: dict[str, list[int]] = defaultdict(list)
    for col, name in header.columns.items():
        columns[name].append(col)
    duplicated = {name: cols for name, cols in columns.items() if len(cols) > 1}
    if duplicated:
        details = "；".join(f"列 {'、'.join(_letter(c) for c in cols)} 都对应“{resource.field(name).title}”"
                           for name, cols in duplicated.items())
        raise UnusableFile(f"工作表“{sheet.title}”第 {header.row} 行的表头有重复：{details}"
                           "（可能是合并单元格横跨了多列）。请让每个字段只占一列后再导入")
    money = next((f for f in resource.fields if f.type == "number" and f.decimals == 2), None)
    wan = {col: text for col, text in header.unknown.items() if "万元" in text}
    wan_note = ""
    if wan and money is not None:
        cols = "、".join(f"列 {_letter(c)}“{t}”" for c, t in wan.items())
        wan_note = f"{cols}以万元为单位，不能直接导入：请换算为元，并把列名改为“{money.title}”"
    missing = [f for f in resource.fields if f.required and f.name not in columns
               and f.name not in IMPORT_DEFAULTS.get(resource.name, {})]
    if missing:
        names = "、".join(f"{f.title}" for f in missing)
        raise UnusableFile(f"工作表“{sheet.title}”（{resource.title}）缺少必填列：{names}。"
                           f"请在第 {header.row} 行的表头中补上这些列（可用 generator export-template 生成模板）"
                           + (f"。另外，{wan_note}" if wan_note else ""))
    if wan_note:
        notices.append(f"工作表“{sheet.title}”的{wan_note}；该列未导入")
    for col, text in header.unknown.items():
        if col not in wan:
            notices.append(f"工作表“{sheet.title}”的列 {_letter(col)}“{text}”无法对应到任何字段，已忽略")


def run_import(data_dir: Path, workbook: Path, *, sheet_name: str | None = None, forced: str | None = None,
               dry_run: bool = False, all_or_nothing: bool = False) -> ImportResult:
    """Read, convert, merge, check and (unless dry_run) write; see the module docstring."""
    if not data_dir.is_dir():
        raise UnusableFile(f"找不到数据文件夹 {data_dir}，请用 --data 指定")
    package = load_package()
    syn = synonyms()
    notices: list[str] = []
    depts = Departments.read(data_dir)
    plans = plan_sheets(read_workbook(workbook), syn, depts, sheet_name, forced, notices)
    rows = [row for plan in plans for row in plan.rows]
    if not rows:
        raise UnusableFile(f"{workbook.name} 中没有可导入的数据行（表头下方是空的）")
    used = [n for n in IMPORTABLE if any(p.resource == n for p in plans)]
    names = list(IMPORTABLE)  # all ledgers: a change in one can break records in another

    # rows that cannot be merged: bad cells, no key, the same key twice in the workbook
    first_seen: dict[tuple, SheetRow] = {}
    many = len({r.sheet for r in rows}) > 1
    for row in rows:
        resource = package.resource(row.resource)
        if resource.primary_key:
            missing = [resource.field(k) for k in resource.primary_key if not row.values.get(k)]
            if missing:
                hint = ""
                if "id" in resource.primary_key:
                    ids = CsvDoc.read(data_dir, resource).column("id") + [r.values.get("id") or "" for r in rows]
                    hint = f" — 新记录请填写下一个编号，如 {next_id(id_prefix(resource), site_today(data_dir).year, ids)}"
                row.reasons.append(f"缺少{'、'.join(f.title for f in missing)}{hint}")
                continue
            key = (row.resource, _key(resource, row.values, resource.primary_key))
            if key in first_seen:
                row.reasons.append(f"{'、'.join(resource.field(k).title for k in resource.primary_key)}"
                                   f"与{_where(first_seen[key], many)}重复")
            else:
                first_seen[key] = row
    rejected: dict[tuple[str, int], SheetRow] = {r.uid: r for r in rows if r.reasons}

    baseline = _problem_keys(trial_baseline(data_dir), {n: CsvDoc.read(data_dir, package.resource(n)) for n in names})
    unattributed: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="generator-import-") as scratch:
        for _round in range(len(rows) + 1):
            docs = {n: CsvDoc.read(data_dir, package.resource(n)) for n in names}
            outcomes, untouched = merge(docs, rows, set(rejected))
            texts, origin = {}, {}
            by_record = {id(o.record): o for o in outcomes.values() if o.status != "未变"}
            for name, doc in docs.items():
                text, lines_of = doc.render()
                texts[doc.rel] = text
                for record in doc.records:
                    line = lines_of[id(record)]
                    if id(record) in by_record:
                        origin[(doc.rel, line)] = ("import", by_record[id(record)])
                    elif record.raw is not None:
                        origin[(doc.rel, line)] = ("existing", name, record)
            problems = trial_validate(data_dir, texts, Path(scratch))
            newly, unattributed = _judge(problems, origin, baseline, outcomes, package)
            for outcome, reason, is_error in newly:
                if is_error:
                    outcome.row.reasons.append(reason)
                    rejected[outcome.row.uid] = outcome.row
                elif reason not in outcome.row.notes:
                    outcome.row.notes.append(reason)
            if not any(is_error for _o, _r, is_error in newly):
                break
    if unattributed:
        lines = "\n  ".join(p.text() for p in unattributed[:20])
        raise ImportBlocked(f"导入后数据会出现新的错误，且无法确定是哪一行造成的，未写入任何文件：\n  {lines}")

    result = ImportResult(plans, outcomes, sorted(rejected.values(), key=lambda r: (r.sheet, r.row)),
                          {n: untouched[n] for n in used}, notices, docs)
    changed = [doc for name, doc in docs.items()
               if any(o.status != "未变" and o.row.resource == name for o in outcomes.values())]
    if dry_run or (all_or_nothing and result.rejected):
        return result
    # all files or none: staged, then renamed into place under a journal that the next
    # command completes or rolls back if this one is killed half-way (generator/datadir.py)
    from generator.datadir import commit

    try:
        result.written = commit(data_dir, {doc.path: doc.render()[0].encode("utf-8") for doc in changed})
    except OSError as exc:
        raise GeneratorError(f"无法写入数据文件夹：{exc.strerror or exc}。已写入一半的导入会在下次运行任何 generator 命令时自动完成或撤销") from None
    return result


def trial_baseline(data_dir: Path) -> list[Problem]:
    from generator.load import load
    from generator.validate import validate

    return validate(load(data_dir)).problems


def _problem_keys(problems: list[Problem], docs: dict[str, CsvDoc]) -> set[tuple]:
    """Identities of the errors the data already has: the record (not its line), field and message."""
    rel_to_doc = {doc.rel: doc for doc in docs.values()}
    keys = set()
    for p in problems:
        if not p.is_error:
            continue
        doc = rel_to_doc.get(p.file)
        ident: Any = (p.file, p.line)
        if doc is not None:
            for record in doc.records:
                if record.line == p.line:
                    ident = ("record", p.file, record.line)
        keys.add((ident, p.field, p.message))
    return keys


def _judge(problems: list[Problem], origin: dict, baseline: set[tuple], outcomes: dict[tuple[str, int], Outcome],
           package: Package) -> tuple[list[tuple[Outcome, str, bool]], list[Problem]]:
    """Pin each new problem on the workbook row that caused it."""
    found: list[tuple[Outcome, str, bool]] = []
    unattributed: list[Problem] = []
    changed = [o for o in outcomes.values() if o.status != "未变"]
    for p in problems:
        where = origin.get((p.file, p.line))
        if where and where[0] == "import":
            outcome = where[1]
            found.append((outcome, _reason(package.resource(outcome.row.resource), p), p.is_error))
            continue
        if not p.is_error:
            continue
        if where:  # an existing row: is the problem new, and whose is it?
            _kind, name, record = where
            if (("record", p.file, record.line), p.field, p.message) in baseline:
                continue
            culprits = _culprits(package.resource(name), record.values or {}, changed, package)
            if not culprits:
                unattributed.append(p)
            for outcome in culprits:
                title = package.resource(name).title
                found.append((outcome, f"会使{title}中已有的记录（{p.file} 第 {record.line} 行）出现错误：{_reason(package.resource(name), p)}", True))
            continue
        if ((p.file, p.line), p.field, p.message) not in baseline:
            unattributed.append(p)
    return found, unattributed


def _culprits(resource: Resource, values: dict, changed: list[Outcome], package: Package) -> list[Outcome]:
    """Imported rows related to an existing row by a foreign key (either way) or as siblings."""
    out = []
    for outcome in changed:
        other = package.resource(outcome.row.resource)
        related = False
        for fk in resource.foreign_keys:  # the existing row points at the imported row
            if fk.resource == other.name and all(values.get(a) == outcome.row.values.get(b) for a, b in zip(fk.fields, fk.reference)):
                related = True
            if other.name == resource.name and all(values.get(a) and values.get(a) == outcome.row.values.get(a) for a in fk.fields):
                related = True  # siblings under the same parent
        for fk in other.foreign_keys:  # the imported row points at the existing row
            if fk.resource == resource.name and all(outcome.row.values.get(a) == values.get(b) for a, b in zip(fk.fields, fk.reference)):
                related = True
        if related:
            out.append(outcome)
    return out


# --- output ------------------------------------------------------------------------------------


def report_lines(result: ImportResult, workbook: Path, dry_run: bool, all_or_nothing: bool) -> list[str]:
    package = load_package()
    many = len({r.sheet for r in [row for p in result.plans for row in p.rows]}) > 1
    lines = [f"读取 {workbook.name}："]
    for plan in result.plans:
        resource = package.resource(plan.resource)
        lines.append(f"  工作表“{plan.sheet.title}” → {resource.title}（{resource.source.path}），"
                     f"表头在第 {plan.header.row} 行，{len(plan.rows)} 行数据")
    lines += [f"  {n}" for n in result.notices]
    counts = "、".join(f"{s} {result.count(s)}" for s in ("新增", "更新", "未变", "拒绝"))
    lines.append(("试运行（未写入任何文件）：" if dry_run else "导入结果：") + counts)

    outcomes = sorted(result.outcomes.values(), key=lambda o: (o.row.sheet, o.row.row))
    rejected = {r.uid for r in result.rejected}
    updated = [o for o in outcomes if o.status == "更新" and o.row.uid not in rejected]
    added = [o for o in outcomes if o.status == "新增" and o.row.uid not in rejected]
    if updated:
        lines.append("更新：")
        for o in updated:
            resource = package.resource(o.row.resource)
            what = "；".join(f"{short_title(resource.field(f))} {old or '（空）'} → {new or '（空）'}" for f, old, new in o.changes)
            # rows without an id of their own (repayments, plan): say which row is replaced
            replaced = (f"；替换 {resource.source.path} 第 {o.record.line} 行"
                        if o.record is not None and o.record.line and "id" not in resource.primary_key else "")
            lines.append(f"  {o.label}：{what}（{_where(o.row, many)}{replaced}）")
    if added:
        lines.append("新增：")
        for o in added:
            lines.append(f"  {o.label}（{_where(o.row, many)}）")
    if result.rejected:
        lines.append("拒绝（未导入）：")
        for row in result.rejected:
            label = row_label(package.resource(row.resource), row.values)
            label = f"（{label}）" if row_label_known(package.resource(row.resource), row.values) else ""
            for reason in row.reasons:
                lines.append(f"  {_where(row, many)}{label}：{reason}")
    notes = [(o, n) for o in outcomes if o.row.uid not in rejected for n in o.row.notes]
    if notes:
        lines.append("提示：")
        lines += [f"  {_where(o.row, many)}（{o.label}）：{n}" for o, n in notes]
    for name, count in result.untouched.items():
        if count:
            lines.append(f"{package.resource(name).title}：Excel 中未包含的 {count} 条记录保持不变。")
    if dry_run:
        lines.append("这是试运行（--dry-run），没有写入任何文件。")
    elif all_or_nothing and result.rejected:
        lines.append("有被拒绝的行，且指定了 --all-or-nothing：没有写入任何文件。请修正后重新导入。")
    elif result.written:
        lines.append("已写入：" + "、".join(str(p) for p in result.written))
        lines.append("下一步：运行 generator validate 检查，然后提交修改。")
    else:
        lines.append("没有需要写入的修改。")
    if result.rejected and not dry_run and not all_or_nothing:
        lines.append("被拒绝的行没有导入：请在 Excel 中修正后重新导入（已导入的行再次导入时显示为“未变”）。")
    return lines


def cmd_import(args: argparse.Namespace) -> int:
    from generator.datadir import locked

    workbook = Path(args.file)
    if not Path(args.data).is_dir():
        raise UnusableFile(f"找不到数据文件夹 {args.data}，请用 --data 指定")
    with locked(Path(args.data), f"generator import {workbook.name}"):  # read, merge and write as one
        result = run_import(Path(args.data), workbook, sheet_name=args.sheet, forced=args.resource,
                            dry_run=args.dry_run, all_or_nothing=args.all_or_nothing)
    sys.stdout.write("\n".join(report_lines(result, workbook, args.dry_run, args.all_or_nothing)) + "\n")
    return 1 if result.rejected else 0


# --- the template ------------------------------------------------------------------------------


def _list_formula(items: list[str]) -> str:
    return '"' + ",".join(items) + '"'


def export_template(out: Path, data_dir: Path, resources: list[str] | None = None, force: bool = False) -> Path:
    """Write the empty Excel ledger offices fill in: one sheet per resource, drop-downs, notes."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    if out.suffix.lower() != ".xlsx":
        raise UnusableFile(f"模板文件名应以 .xlsx 结尾：{out}")
    if out.exists() and not force:
        raise UnusableFile(f"文件 {out} 已存在，不会覆盖（要覆盖请加 --force）")
    package = load_package()
    names = resources or list(IMPORTABLE)
    depts = Departments.read(data_dir)
    dept_names = [n for n in depts.ids.values() if n]
    wb = Workbook()
    wb.remove(wb.active)
    rows_with_rules = 2000
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    required_fill = PatternFill("solid", fgColor="FCE4D6")

    dept_range = f"'单位名单'!$A$2:$A${len(dept_names) + 1}"

    for name in names:
        resource = package.resource(name)
        ws = wb.create_sheet(resource.title)
        ws.freeze_panes = "A2"
        for col, f in enumerate(resource.fields, 1):
            letter = _letter(col)
            cell = ws.cell(1, col, f.title)
            cell.font = Font(bold=True, color="C00000" if f.required else "000000")
            cell.fill = required_fill if f.required else head_fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.comment = Comment(_template_note(f, resource), "generator", width=320, height=160)
            ws.column_dimensions[letter].width = max(12, min(40, len(f.title) * 2 + 4))
            target = f"{letter}2:{letter}{rows_with_rules + 1}"
            validation = None
            if references_departments(resource, f.name) and dept_names:
                validation = DataValidation(type="list", formula1=dept_range, allow_blank=True)
                validation.error = "请从下拉列表中选择单位"
            elif f.enum:
                validation = DataValidation(type="list", formula1=_list_formula(list(f.enum)), allow_blank=True)
                validation.error = "可选值：" + "、".join(f.enum)
            elif f.type == "boolean":
                validation = DataValidation(type="list", formula1=_list_formula(["是", "否"]), allow_blank=True)
                validation.error = "请选择“是”或“否”"
            elif f.type == "date":
                validation = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True)
                validation.error = "请填写 2000 年以后的日期，如 2026-03-01"
                ws.column_dimensions[letter].number_format = "yyyy-mm-dd"
            elif f.type == "number":
                low = f.minimum if f.minimum is not None else 0
                if f.maximum is not None:
                    validation = DataValidation(type="decimal", operator="between", formula1=str(low), formula2=str(f.maximum), allow_blank=True)
                else:
                    validation = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1=str(low), allow_blank=True)
                validation.error = f"请填写数字（阿拉伯数字，不带单位），不小于 {low}"
                if f.decimals:
                    ws.column_dimensions[letter].number_format = "0." + "0" * f.decimals
            elif f.type == "integer":
                low = f.minimum if f.minimum is not None else 0
                high = f.maximum if f.maximum is not None else 999999999
                validation = DataValidation(type="whole", operator="between", formula1=str(low), formula2=str(high), allow_blank=True)
                validation.error = f"请填写 {low} 到 {high} 之间的整数"
            else:
                ws.column_dimensions[letter].number_format = "@"  # text: keeps leading zeros and long codes
            if validation is not None:
                validation.errorTitle = f.title
                validation.showErrorMessage = True
                validation.prompt = (_format_note(f, resource) if references_departments(resource, f.name) else f.description)[:250]
                validation.promptTitle = f.title
                validation.showInputMessage = True
                ws.add_data_validation(validation)
                validation.add(target)

    if dept_names:  # the list behind the department drop-downs
        lists = wb.create_sheet("单位名单")
        lists.append(["单位名称"])
        for name in dept_names:
            lists.append([name])
        lists.sheet_state = "hidden"

    notes = wb.create_sheet("填写说明")
    notes.append(["填写说明"])
    notes["A1"].font = Font(bold=True, size=14)
    for text in (
        "1. 每个工作表对应一类台账，第 1 行是表头，请不要修改或删除表头；从第 2 行起每行填写一条记录。",
        "2. 红色表头为必填列；把鼠标移到表头上可以看到该列的说明。",
        "3. 日期请按“年-月-日”填写，如 2026-03-01；金额单位为元，只写阿拉伯数字，最多两位小数，不写“元”和“万元”。",
        "4. 单位、企业规模、是否有争议等列请从下拉列表中选择。",
        "5. 已有记录按编号更新，新记录请使用新的编号；Excel 中没有的记录不会被删除。清偿记录按账款编号、支付日期和当日笔次"
        "（同一天的第几笔，不填按 1 计）找到已有的记录：更正金额时这三项保持不变即可。",
        f"6. 空白单元格表示“不修改”，不会清除已有的内容；要清空已有的内容，请在单元格中填写{CLEAR_MARKER}。"
        "隐藏的行不会导入。",
        "7. 填好后运行：generator import 本文件.xlsx --dry-run 预览，确认无误后去掉 --dry-run 导入。",
    ):
        notes.append([text])
    notes.append([])
    notes.append(["工作表", "列名", "是否必填", "说明", "可选值或格式"])
    for cell in notes[notes.max_row]:
        cell.font = Font(bold=True)
    for name in names:
        resource = package.resource(name)
        for f in resource.fields:
            notes.append([resource.title, f.title, "必填" if f.required else "选填", f.description, _format_note(f, resource)])
    for letter, width in zip("ABCDE", (18, 22, 10, 60, 36)):
        notes.column_dimensions[letter].width = width
    wb.active = wb.sheetnames.index(package.resource(names[0]).title)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        wb.save(tmp)
        tmp.replace(out)
    except OSError as exc:
        raise UnusableFile(f"无法写入 {out}：{exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _format_note(f: Field, resource: Resource) -> str:
    if references_departments(resource, f.name):
        return "从下拉列表选择单位名称（也可填写单位代码）"
    if f.enum:
        return "、".join(f.enum)
    if f.type == "date":
        return "日期，如 2026-03-01"
    if f.type == "boolean":
        return "是 或 否"
    if f.type == "number":
        return f"数字，最多 {f.decimals} 位小数" if f.decimals is not None else "数字"
    if f.type == "integer":
        return "整数"
    if f.max_length:
        return f"文本，最多 {f.max_length} 字"
    return "文本"


def _template_note(f: Field, resource: Resource) -> str:
    return f"{f.title}（{'必填' if f.required else '选填'}）\n{f.description}\n{_format_note(f, resource)}"


def cmd_export_template(args: argparse.Namespace) -> int:
    out = export_template(Path(args.out), Path(args.data), args.resource, args.force)
    print(f"已生成台账模板：{out}")
    print(f"填写后运行：generator import {out.name} --dry-run 预览，确认无误后去掉 --dry-run 导入。")
    return 0


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `generator import` and `generator export-template` (see generator.cli._EXTRA_COMMANDS)."""
    p = command("import", "导入 Excel 台账（.xlsx）：按编号合并到 data/ 中的 CSV 台账，校验后写入", cmd_import)
    p.add_argument("file", metavar="FILE.xlsx", help="要导入的 Excel 工作簿（.xlsx）")
    p.add_argument("--sheet", default=None, help="只导入这个工作表（按名称）")
    p.add_argument("--resource", choices=IMPORTABLE, default=None,
                   help="指定工作表对应的台账：arrears（拖欠账款）、arrears_plan（分期清偿计划）、"
                        "arrears_repayments（清偿记录）、evaluations（评价结果）")
    p.add_argument("--dry-run", action="store_true", help="只显示导入结果，不写入任何文件")
    p.add_argument("--all-or-nothing", action="store_true", help="有任何一行被拒绝时，什么都不写入")

    p = command("export-template", "生成供各单位填写的 Excel 台账模板（表头、下拉列表、填写说明）", cmd_export_template)
    p.add_argument("--out", default="台账模板.xlsx", help="模板文件名（默认 台账模板.xlsx）")
    p.add_argument("--resource", action="append", choices=IMPORTABLE, default=None,
                   help="只包含这些台账（可重复），默认全部")
    p.add_argument("--force", action="store_true", help="覆盖已存在的模板文件")
