"""A small XLSX writer: typed cells, widths, a frozen bold header, a filter.

The downloads (the raw tables' workbook in generator/opendata.py and the
reader's workbook in generator/workbook.py) need a few features only, so the
sheet XML is written directly as strings instead of through openpyxl's cell
objects (which cost ~50 µs per cell: most of the open data's build time).
The parts and their XML follow what openpyxl writes in write-only mode
(inline strings, dates as serial numbers with a number format; no theme part,
which is optional), so Excel,
LibreOffice, WPS and openpyxl read the file as before.

Deterministic: zip members are sorted and carry the as-of date as their time.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import struct
import unicodedata
import zipfile
import zlib
from itertools import zip_longest
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple, Sequence

__all__ = ["Sheet", "ColumnSheet", "LazySheet", "SheetCache", "DeflateCache", "Properties", "fixed_zip", "text_width", "clean_text", "column_widths",
           "workbook_bytes", "column_letter", "source_digest"]

Cell = tuple[Any, "str | None"]  # (value, number format or None)

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10}
_EPOCH = date(1899, 12, 30).toordinal()
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


@dataclass
class Sheet:
    title: str
    header: list[str]
    rows: list[list[Cell]]
    widths: list[int]  # characters; the column gets min(60, max(8, width + 2))


@dataclass
class ColumnSheet:
    """A sheet given column by column (what the open-data tables are made of): the same XML
    as a Sheet whose row i holds (columns[c][i], formats[c].get(type(columns[c][i]))).

    A column's values are written as given (text already cleaned and neutralised by the
    caller, like a Sheet's); `formats[c]` maps a value's class to its number format
    (classes not in it: none). Written a column at a time: the cells of a column share
    their letter, their class and their format, so most cells cost one formatted string."""
    title: str
    header: list[str]
    columns: list[Sequence[Any]]  # one per header entry, all of the same length
    formats: list[dict[type, str]]
    widths: list[int]  # characters; the column gets min(60, max(8, width + 2))

    @property
    def row_count(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def rows(self) -> list[list[Cell]]:
        """The same cells as a Sheet's rows (for tests and for sheets written cell by cell)."""
        return [[(v, f.get(v.__class__)) for v, f in zip(row, self.formats)] for row in zip(*self.columns)]


@dataclass
class LazySheet:
    """A sheet made (make()) only when the cache holds no XML for its source: `source`
    digests everything make() reads (see source_digest), or is None (always made)."""
    title: str
    source: bytes | None
    make: Callable[[], Sheet | ColumnSheet]


def source_digest(*parts: Any) -> bytes | None:
    """A digest of plain values (str, numbers, Decimal, dates, None, lists and tuples of
    them): pickle tells types and values apart (1 from "1", Decimal("1.0") from
    Decimal("1.00")), so equal digests mean equal inputs. None when a value cannot be
    pickled: the sheet is then always made."""
    try:
        return hashlib.sha256(pickle.dumps(parts, protocol=5)).digest()
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


class SheetCache:
    """The XML of each LazySheet of the last build (a rebuild after one record changed
    makes one sheet of a workbook again, not all of them), one file per key in `folder`
    under the build folder's cache. The key digests the sheet's source, the number formats
    the workbook's earlier sheets used (a sheet's style indexes depend on them) and the
    code that makes the XML (`code`: the source files of this module and of the callers
    that make the cells). Only the current sheets are kept: finish() removes the rest.
    Every file holds the size and CRC-32 of its bytes, checked on reading: a damaged
    file (cut short, changed) is made again, never used."""

    def __init__(self, folder: Path, code: Iterable[Path] = ()):
        self.folder = os.fspath(folder)
        digest = hashlib.sha256(Path(__file__).read_bytes())
        for path in code:
            digest.update(Path(path).read_bytes())
        self.code = digest.digest()
        self.used: set[str] = set()

    def key(self, source: bytes, formats: list[str]) -> str:
        return hashlib.sha256(self.code + source + "\0".join(formats).encode("utf-8")).hexdigest()

    def get(self, key: str) -> tuple[list[str], int, int, bytes] | None:
        """(the formats the sheet added, its header's length, its row count, its XML)."""
        try:
            with open(os.path.join(self.folder, key), "rb") as fh:
                data = fh.read()
            head, _, xml = data.partition(b"\n")
            meta = json.loads(head)
            if meta["size"] != len(xml) or meta["crc"] != zlib.crc32(xml):
                return None
            self.used.add(key)
            return list(meta["formats"]), int(meta["cols"]), int(meta["rows"]), xml
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def meta(self, key: str) -> tuple[list[str], int, int] | None:
        """get() without the XML (its file's first line only): for a sheet whose deflated
        bytes are kept (DeflateCache.stored)."""
        try:
            with open(os.path.join(self.folder, key), "rb") as fh:
                meta = json.loads(fh.readline())
            self.used.add(key)
            return list(meta["formats"]), int(meta["cols"]), int(meta["rows"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, formats: list[str], cols: int, rows: int, xml: bytes) -> None:
        from generator.files import write_if_changed

        head = json.dumps({"formats": formats, "cols": cols, "rows": rows, "size": len(xml), "crc": zlib.crc32(xml)},
                          ensure_ascii=False).encode("utf-8")
        os.makedirs(self.folder, exist_ok=True)
        write_if_changed(Path(self.folder) / key, head + b"\n" + xml)
        self.used.add(key)

    def data(self, source: bytes | None, make: Callable[[], bytes]) -> bytes:
        """make(), or its bytes from the last build when `source` (a source_digest of all
        make() reads) is the same: for other files made from one table (its CSV, its JSON)."""
        if source is None:
            return make()
        key = hashlib.sha256(self.code + b"data\0" + source).hexdigest()
        try:
            with open(os.path.join(self.folder, key), "rb") as fh:
                found = fh.read()
            head = self._DATA.size
            if len(found) >= head:
                magic, size, crc = self._DATA.unpack_from(found)
                if magic == self._MAGIC and size == len(found) - head and crc == zlib.crc32(memoryview(found)[head:]):
                    self.used.add(key)
                    return found[head:]
        except OSError:
            pass
        made = make()
        from generator.files import write_if_changed

        try:
            os.makedirs(self.folder, exist_ok=True)
            write_if_changed(Path(self.folder) / key, self._DATA.pack(self._MAGIC, len(made), zlib.crc32(made)) + made)
            self.used.add(key)
        except OSError:
            pass
        return made

    _DATA = struct.Struct("<8sQL")  # data(): magic, size and CRC-32 of the bytes that follow
    _MAGIC = b"zqdata1\n"

    def finish(self) -> None:
        """Remove the files of sheets this build did not use."""
        from generator.files import remove_unused

        remove_unused(self.folder, self.used)


@dataclass
class Properties:
    title: str
    creator: str
    created: datetime
    keywords: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1 << 16)  # columns repeat their values (unit names, states)
def text_width(text: str) -> int:
    """Display width in Latin characters: CJK (wide, full-width) characters count 2."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for c in text if unicodedata.east_asian_width(c) in "WF")


def column_widths(header: list[str], rows: list[list[Cell]]) -> list[int]:
    """Each column as wide as its header or its widest value (the first 40 characters; dates 10)."""
    widths = [text_width(h) for h in header]
    for i, column in enumerate(zip_longest(*rows, fillvalue=(None, None))):
        texts: set[str] = set()  # a column repeats its values: each distinct text measured once
        best = widths[i]
        for value, _ in column:
            if value is None:
                continue
            if value.__class__ is str:
                texts.add(value)
            elif isinstance(value, date):
                best = max(best, 10)
            else:
                texts.add(str(value))
        if texts:
            best = max(best, max(text_width(t[:40]) for t in texts))
        widths[i] = best
    return widths


def column_widths_of(header: list[str], columns: list[Sequence[Any]]) -> list[int]:
    """column_widths() of a ColumnSheet's columns: each column as wide as its header or its
    widest value (the first 40 characters; dates 10), each distinct text measured at most once
    and, longest first, only while it could still be the widest (a text of n characters is
    n to 2n wide)."""
    widths = [text_width(h) for h in header]
    for i, column in enumerate(columns):
        best = widths[i]
        classes = set(map(type, column))
        classes.discard(type(None))
        texts: set[str] = set()
        for kind in classes:
            if issubclass(kind, date):
                best = max(best, 10)
            elif kind is str:
                texts.update(column if len(classes) == 1 else [v for v in column if v.__class__ is str])
            else:
                texts.update(map(str, [v for v in column if v.__class__ is kind]))
        texts.discard(None)  # (added with a column of texts)
        if texts and "".join(texts).isascii():  # each character 1 wide
            best = max(best, min(40, max(map(len, texts))))
        elif texts:
            for text in sorted(texts, key=len, reverse=True):
                n = len(text)
                if n > 40:
                    text, n = text[:40], 40
                if n + n <= best:  # neither this text nor a shorter one can be wider
                    break
                if n > best or not text.isascii():
                    width = text_width(text)
                    if width > best:
                        best = width
        widths[i] = best
    return widths


def clean_text(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry.

    Each is a control character, a surrogate or a noncharacter, none of which is printable:
    printable text (most cells) is returned without the regex scan."""
    if text.isprintable():
        return text
    return _XML_INVALID.sub("", text)


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class Deflated(NamedTuple):
    """A zip member already deflated (DeflateCache): its CRC-32, size and deflated bytes, and
    raw() to get its bytes if the archive must be written by zipfile after all."""
    crc: int
    size: int
    data: bytes
    raw: Callable[[], bytes]


def fixed_zip(members: Iterable[tuple[str, "bytes | Deflated"]], day: date, cache: "DeflateCache | None" = None) -> bytes:
    """A zip archive whose bytes depend only on its members and `day` (the members' time).

    With `cache`, each member's deflated bytes are taken from the last build when its bytes
    are the same (or given, Deflated): the archive is then written here (_zip_of), byte for
    byte as zipfile writes it, since zipfile's public API compresses every member it is given."""
    members = list(members)
    if cache is not None and day.year >= 1980 and len(members) < 0xFFFF:
        deflated = [(name, *(data[:3] if isinstance(data, Deflated) else cache.deflated(data))) for name, data in members]
        made = _zip_of(deflated, day)
        if made is not None:
            return made
    members = [(name, data.raw() if isinstance(data, Deflated) else data) for name, data in members]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(day.year, day.month, day.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


# The records of a zip archive (APPNOTE.TXT 4.3.7, 4.3.12, 4.3.16) with the values
# zipfile.ZipFile.writestr gives fixed_zip's members: version 2.0 (needed and made by),
# made on Unix (3), deflate (8), no data descriptor (the buffer is seekable), no extra
# field, no comment, mode 0644, the UTF-8 flag (0x800) only for a name that is not ASCII.
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_ZIP64_LIMIT = (1 << 31) - 1  # zipfile's: above it (or 1.05 x a member's size above it) zip64 records


def _zip_of(members: list[tuple[str, int, int, bytes]], day: date) -> bytes | None:
    """fixed_zip's bytes from (name, CRC-32, size, deflated bytes) of each member; None when
    zipfile would write zip64 records (members or archive of 2 GB and more)."""
    dosdate = (day.year - 1980) << 9 | day.month << 5 | day.day
    parts: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, crc, size, deflated in members:
        if size * 1.05 > _ZIP64_LIMIT or len(deflated) > _ZIP64_LIMIT or offset > _ZIP64_LIMIT:
            return None
        try:
            encoded, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), 0x800
        local = _LOCAL.pack(b"PK\003\004", 20, 0, flags, 8, 0, dosdate, crc, len(deflated), size, len(encoded), 0)
        central.append(_CENTRAL.pack(b"PK\001\002", 20, 3, 20, 0, flags, 8, 0, dosdate, crc, len(deflated), size,
                                     len(encoded), 0, 0, 0, 0, 0o644 << 16, offset) + encoded)
        parts += (local, encoded, deflated)
        offset += len(local) + len(encoded) + len(deflated)
    directory = b"".join(central)
    if offset > _ZIP64_LIMIT or len(directory) > _ZIP64_LIMIT:
        return None
    parts += (directory, _END.pack(b"PK\005\006", 0, 0, len(members), len(members), len(directory), offset, 0))
    return b"".join(parts)


class DeflateCache:
    """Zip members' deflated bytes of the last build, by the SHA-256 of their bytes: the
    workbooks and the data package zip of a rebuild after one record changed hold the
    same members but one or two, and deflating all of them again cost 0.3 s at 10,000
    records. One file per member in `folder`: a header (what the member's bytes were and
    a CRC-32 of the deflated bytes, checked on reading: a damaged file is made again),
    then the deflated bytes, as zipfile deflates (zlib, default level, raw stream); the
    key holds the zlib version, whose output could differ. Only the members of this build
    are kept: finish() removes the rest."""

    _HEAD = struct.Struct("<8sLQLQ")  # magic, CRC-32 and size of the member, check, size of the deflated bytes
    _MAGIC = b"zqdefl2\n"

    def __init__(self, folder: Path):
        self.folder = os.fspath(folder)
        self.salt = f"{zlib.ZLIB_RUNTIME_VERSION}\0{zlib.Z_DEFAULT_COMPRESSION}\0".encode()
        self.used: set[str] = set()

    def _name(self, key: str | None, data: bytes) -> str:
        if key is not None:  # a workbook sheet: its SheetCache key stands for its bytes
            return hashlib.sha256(self.salt + b"sheet\0" + key.encode()).hexdigest()
        return hashlib.sha256(self.salt + data).hexdigest()

    def stored(self, key: str) -> tuple[int, int, bytes] | None:
        """(CRC-32, size, deflated bytes) kept for a sheet by its SheetCache key, whose
        bytes need not be read (see deflated)."""
        name = self._name(key, b"")
        found = self._read(os.path.join(self.folder, name), None)
        if found is not None:
            self.used.add(name)
        return found

    def deflated(self, data: bytes, key: str | None = None) -> tuple[int, int, bytes]:
        """(CRC-32, size, deflated bytes) of a member's bytes; `key`: a workbook sheet's
        SheetCache key (it digests everything the sheet's bytes are made from), under which
        they are kept instead of the digest of the bytes (stored)."""
        key = self._name(key, data)
        path = os.path.join(self.folder, key)
        found = self._read(path, data)
        if found is not None:
            self.used.add(key)
            return found
        crc = zlib.crc32(data)
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # as zipfile's
        deflated = compressor.compress(data) + compressor.flush()
        from generator.files import write_if_changed

        try:
            write_if_changed(Path(path), self._HEAD.pack(self._MAGIC, crc, len(data), self._check(crc, len(data), deflated),
                                                         len(deflated)) + deflated)
            self.used.add(key)
        except OSError:
            pass
        return crc, len(data), deflated

    @staticmethod
    def _check(crc: int, size: int, deflated: bytes) -> int:
        """A CRC-32 of the member's CRC-32 and size and of the deflated bytes: the header is
        trusted without the member's bytes (stored)."""
        return zlib.crc32(deflated, zlib.crc32(struct.pack("<LQ", crc, size)))

    def _read(self, path: str, data: bytes | None) -> tuple[int, int, bytes] | None:
        try:
            with open(path, "rb") as fh:
                found = fh.read()
        except OSError:
            return None
        head = self._HEAD.size
        if len(found) < head:
            return None
        magic, crc, size, check, length = self._HEAD.unpack_from(found)
        deflated = found[head:]
        if magic != self._MAGIC or length != len(deflated) or self._check(crc, size, deflated) != check:
            return None
        if data is not None and (size != len(data) or zlib.crc32(data) != crc):
            return None
        return crc, size, deflated

    def finish(self) -> None:
        """Remove the files of members this build did not use."""
        from generator.files import remove_unused

        remove_unused(self.folder, self.used)


def xml_text(text: str) -> str:
    """Character data escaped as ElementTree writes it (&, <, >); the one such escape of the
    workbooks and the feeds."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return xml_text(text).replace('"', "&quot;")


def _number(value: Any) -> str:
    return "%.16g" % value  # as openpyxl writes numbers (Decimal('53800.00') → 53800)


class _Styles:
    """cellXfs: 0 plain, 1 bold header, then one per number format in order of first use."""

    def __init__(self) -> None:
        self.formats: dict[str, int] = {}  # format code → style index
        self.custom: dict[str, int] = {}  # format code → numFmtId ≥ 164

    def index(self, fmt: str) -> int:
        found = self.formats.get(fmt)
        if found is None:
            if fmt not in _BUILTIN_FORMATS and fmt not in self.custom:
                self.custom[fmt] = 164 + len(self.custom)
            found = self.formats[fmt] = 2 + len(self.formats)
        return found

    def xml(self) -> str:
        num = "".join(f'<numFmt numFmtId="{i}" formatCode="{_attr(code)}" />' for code, i in self.custom.items())
        xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" />',
               '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" />']
        for code in self.formats:
            fid = _BUILTIN_FORMATS.get(code, self.custom.get(code))
            xfs.append(f'<xf numFmtId="{fid}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" />')
        return (f'<styleSheet xmlns="{_MAIN}">'
                + (f'<numFmts count="{len(self.custom)}">{num}</numFmts>' if self.custom else "")
                + '<fonts count="2"><font><name val="Calibri" /><family val="2" /><sz val="11" /></font><font><b val="1" /></font></fonts>'
                  '<fills count="2"><fill><patternFill /></fill><fill><patternFill patternType="gray125" /></fill></fills>'
                  '<borders count="1"><border><left /><right /><top /><bottom /><diagonal /></border></borders>'
                  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" /></cellStyleXfs>'
                + f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
                + '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0" /></cellStyles>'
                  '</styleSheet>')


def _cell(ref: str, value: Any, fmt: str | None, styles: _Styles) -> str:
    if value is None or value == "":
        return ""
    style = f' s="{styles.index(fmt)}"' if fmt else ""
    if isinstance(value, str):
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{xml_text(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime):
        serial = value.toordinal() - _EPOCH + (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        return f'<c r="{ref}"{style} t="n"><v>{_number(serial)}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}"{style} t="n"><v>{value.toordinal() - _EPOCH}</v></c>'
    if isinstance(value, (int, float, Decimal)):
        return f'<c r="{ref}"{style} t="n"><v>{_number(value)}</v></c>'
    raise TypeError(f"cannot write {type(value).__name__} to a cell")


def _sheet_xml(sheet: Sheet | ColumnSheet, styles: _Styles) -> str:
    columnar = isinstance(sheet, ColumnSheet)
    ncols = max(len(sheet.header), len(sheet.columns) if columnar else max((len(r) for r in sheet.rows), default=0))
    letters = [column_letter(i) for i in range(1, ncols + 1)]
    cols = "".join(f'<col width="{min(60, max(8, w + 2))}" customWidth="1" min="{i}" max="{i}" />'
                   for i, w in enumerate(sheet.widths, 1))
    parts = [f'<worksheet xmlns="{_MAIN}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1" /><pageSetUpPr />'
             '</sheetPr><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
             'activePane="bottomLeft" state="frozen" /><selection pane="bottomLeft" activeCell="A1" sqref="A1" />'
             '</sheetView></sheetViews><sheetFormatPr baseColWidth="8" defaultRowHeight="15" />',
             f"<cols>{cols}</cols>" if cols else "", "<sheetData>"]
    head = "".join(f'<c r="{letters[i]}1" s="1" t="inlineStr"><is><t>{xml_text(h)}</t></is></c>'
                   for i, h in enumerate(sheet.header))
    parts.append(f'<row r="1">{head}</row>')
    if columnar:
        parts += _column_rows(sheet, letters, styles)
    else:
        parts += _rows(sheet.rows, letters, styles)
    parts.append("</sheetData>")
    if _row_count(sheet):
        parts.append(f'<autoFilter ref="{_filter_range(len(sheet.header), _row_count(sheet))}" />')
    parts.append('<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5" /></worksheet>')
    return "".join(parts)


def _row_count(sheet: Sheet | ColumnSheet) -> int:
    return sheet.row_count if isinstance(sheet, ColumnSheet) else len(sheet.rows)


def _rows(rows: list[list[Cell]], letters: list[str], styles: _Styles) -> list[str]:
    """The <row> elements of a Sheet, cell by cell."""
    out = []
    cell = _cell
    style_attr: dict[str, str] = {}  # number format → ' s="n"'
    for n, row in enumerate(rows, 2):
        num = str(n)
        cells = []
        for i, (value, fmt) in enumerate(row):
            # The common cases inline (a sheet has hundreds of thousands of cells), the rest in _cell.
            kind = value.__class__
            if value is None or (kind is str and value == ""):
                continue
            if kind is str or kind is date or kind is Decimal or kind is int:
                style = ""
                if fmt:
                    style = style_attr.get(fmt)
                    if style is None:
                        style = style_attr[fmt] = f' s="{styles.index(fmt)}"'
                if kind is str:
                    if value[0].isspace() or value[-1].isspace():  # xml:space="preserve"
                        cell_xml = cell(letters[i] + num, value, fmt, styles)
                    else:
                        cell_xml = (f'<c r="{letters[i]}{num}"{style} t="inlineStr"><is><t>'
                                    f'{value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")}</t></is></c>')
                elif kind is date:
                    cell_xml = f'<c r="{letters[i]}{num}"{style} t="n"><v>{value.toordinal() - _EPOCH}</v></c>'
                else:
                    cell_xml = f'<c r="{letters[i]}{num}"{style} t="n"><v>{"%.16g" % value}</v></c>'
                cells.append(cell_xml)
            else:
                cells.append(cell(letters[i] + num, value, fmt, styles))
        cells = "".join(cells)
        out.append(f'<row r="{num}">{cells}</row>' if cells else f'<row r="{num}" />')
    return out


_NONE = type(None)
#: White space after a NUL (str.isspace is what \s matches): in texts joined by NUL, with a NUL
#: at each end, a text starting with it; in the same string reversed, a text ending with it.
_AFTER_NUL = re.compile(r"\x00\s")


def _column_rows(sheet: ColumnSheet, letters: list[str], styles: _Styles) -> list[str]:
    """The <row> elements of a ColumnSheet: each column's cells made in one pass, then joined row by row.

    The styles of the number formats are added in the order a row-by-row writer meets them
    (the first row, then the first column, using each), so the style indexes are the same."""
    count = sheet.row_count
    columns = sheet.columns
    firsts = []  # (row, column, format) of each format's first non-empty cell in a column
    plans = []  # per column: its values' classes
    for c, (column, formats) in enumerate(zip(columns, sheet.formats)):
        classes = set(map(type, column))
        classes.discard(_NONE)
        plans.append(classes)
        used = {formats[k] for k in classes if formats.get(k)}
        for fmt in used:
            row = next(i for i, v in enumerate(column)
                       if v is not None and v != "" and formats.get(v.__class__) == fmt)
            firsts.append((row, c, fmt))
    for _, _, fmt in sorted(firsts):
        styles.index(fmt)
    out = []
    # A block of rows at a time: a block's values stay in the processor's cache from one column
    # to the next, and only one block's cells are held besides the sheet's rows.
    for start in range(0, count, ROW_BLOCK):
        end = min(start + ROW_BLOCK, count)
        nums = [str(n) for n in range(start + 2, end + 2)]
        cells = [_column_cells(letters[c], nums, column[start:end], classes, formats, styles)
                 for c, (column, classes, formats) in enumerate(zip(columns, plans, sheet.formats))]
        joined = list(map("".join, zip(*cells))) if cells else [""] * len(nums)
        del cells
        out += [f'<row r="{n}">{row}</row>' if row else f'<row r="{n}" />' for n, row in zip(nums, joined)]
    return out


#: Rows a ColumnSheet writes at a time (see _column_rows).
ROW_BLOCK = 2048


def _column_cells(letter: str, nums: list[str], column: list[Any], classes: set[type],
                  formats: dict[type, str], styles: _Styles) -> list[str]:
    """Every cell of one column ("" for an empty one), each as _cell writes it."""
    if len(classes) == 1:
        kind = next(iter(classes))
        fmt = formats.get(kind)
        style = f' s="{styles.index(fmt)}"' if fmt else ""
        if kind is str and not fmt:
            texts = [v or "" for v in column] if None in column else column
            joined = "\x00".join(texts)
            padded = f"\x00{joined}\x00"
            if (joined.count("\x00") == len(texts) - 1 and not _AFTER_NUL.search(padded)
                    and not _AFTER_NUL.search(padded[::-1])):
                # NUL never occurs in cell text (XML cannot carry it): one escape for the column
                joined = xml_text(joined)
                return [f'<c r="{letter}{n}" t="inlineStr"><is><t>{t}</t></is></c>' if t else ""
                        for n, t in zip(nums, joined.split("\x00"))]
        elif kind is date:
            return [f'<c r="{letter}{n}"{style} t="n"><v>{v.toordinal() - _EPOCH}</v></c>' if v is not None else ""
                    for n, v in zip(nums, column)]
        elif kind is Decimal or kind is int:
            return [f'<c r="{letter}{n}"{style} t="n"><v>{"%.16g" % v}</v></c>' if v is not None else ""
                    for n, v in zip(nums, column)]
        elif kind is bool:
            return [f'<c r="{letter}{n}"{style} t="b"><v>{1 if v else 0}</v></c>' if v is not None else ""
                    for n, v in zip(nums, column)]
    cell = _cell
    return [cell(letter + n, v, formats.get(v.__class__), styles) for n, v in zip(nums, column)]


def _filter_range(cols: int, rows: int) -> str:
    return f"A1:{column_letter(cols)}{rows + 1}"


def _lazy_sheet_xml(sheet: LazySheet, styles: _Styles, cache: SheetCache | None,
                    deflated: DeflateCache | None = None) -> tuple[bytes | Deflated, int, int]:
    """(XML, header length, row count) of a LazySheet: from the cache, or made and kept. With
    `deflated`, the XML deflated (Deflated), kept under the sheet's key: an unchanged sheet's
    XML is then neither read nor digested."""
    before = list(styles.formats)
    key = cache.key(sheet.source, before) if cache is not None and sheet.source is not None else None
    if key is not None and deflated is not None:
        meta = cache.meta(key)
        kept = deflated.stored(key) if meta is not None else None
        if kept is not None:
            formats, cols, rows = meta
            for fmt in formats:  # as making the sheet would have added them
                styles.index(fmt)
            return Deflated(*kept, raw=lambda: _kept_xml(cache, key)), cols, rows
    hit = cache.get(key) if key is not None else None
    if hit is not None:
        formats, cols, rows, xml = hit
        for fmt in formats:  # as making the sheet would have added them
            styles.index(fmt)
    else:
        made = sheet.make()
        xml = _sheet_xml(made, styles).encode("utf-8")
        cols, rows = len(made.header), _row_count(made)
        if key is not None:
            cache.put(key, list(styles.formats)[len(before):], cols, rows, xml)
    if key is not None and deflated is not None:
        return Deflated(*deflated.deflated(xml, key), raw=lambda: xml), cols, rows
    return xml, cols, rows


def _kept_xml(cache: SheetCache, key: str) -> bytes:
    """A kept sheet's XML, for an archive zipfile must write (members of 2 GB and more)."""
    hit = cache.get(key)
    if hit is None:
        raise OSError(f"工作表缓存 {key} 无法读取：请删除 build/.cache 后重新生成")
    return hit[3]


def workbook_bytes(sheets: list[Sheet | LazySheet], props: Properties, day: date,
                   cache: SheetCache | None = None, deflated: DeflateCache | None = None) -> bytes:
    """The .xlsx file: sheets in order, the first one active; zip members sorted, dated `day`.
    A LazySheet's XML comes from `cache` when its source did not change; a member's deflated
    bytes from `deflated` when its bytes did not (see fixed_zip)."""
    styles = _Styles()
    members: dict[str, bytes | Deflated] = {}
    shapes: list[tuple[str, int, int]] = []  # (title, header length, row count)
    for i, sheet in enumerate(sheets, 1):
        if isinstance(sheet, LazySheet):
            xml, cols, rows = _lazy_sheet_xml(sheet, styles, cache, deflated)
        else:
            xml, cols, rows = _sheet_xml(sheet, styles).encode("utf-8"), len(sheet.header), _row_count(sheet)
        members[f"xl/worksheets/sheet{i}.xml"] = xml
        shapes.append((sheet.title, cols, rows))
    members["xl/styles.xml"] = styles.xml().encode("utf-8")
    n = len(sheets)
    sheet_list = "".join(f'<sheet name="{_attr(title)}" sheetId="{i}" state="visible" r:id="rId{i}" />'
                         for i, (title, _, _) in enumerate(shapes, 1))
    names = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"{xml_text(_quoted_sheet(title))}!{_absolute(_filter_range(cols, rows))}</definedName>"
        for i, (title, cols, rows) in enumerate(shapes) if rows)
    members["xl/workbook.xml"] = (
        f'<workbook xmlns:r="{_REL}" xmlns="{_MAIN}"><workbookPr /><bookViews><workbookView visibility="visible" '
        'activeTab="0" /></bookViews>'
        f"<sheets>{sheet_list}</sheets>" + (f"<definedNames>{names}</definedNames>" if names else "")
        + '<calcPr calcId="124519" fullCalcOnLoad="1" /></workbook>').encode("utf-8")
    rels = "".join(f'<Relationship Type="{_REL}/worksheet" Target="/xl/worksheets/sheet{i}.xml" Id="rId{i}" />'
                   for i in range(1, n + 1))
    rels += f'<Relationship Type="{_REL}/styles" Target="styles.xml" Id="rId{n + 1}" />'
    members["xl/_rels/workbook.xml.rels"] = f'<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>'.encode("utf-8")
    members["_rels/.rels"] = (
        f'<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Type="{_REL}/officeDocument" Target="xl/workbook.xml" Id="rId1" />'
        f'<Relationship Type="{_PKG_REL}/metadata/core-properties" Target="docProps/core.xml" Id="rId2" />'
        f'<Relationship Type="{_REL}/extended-properties" Target="docProps/app.xml" Id="rId3" />'
        "</Relationships>").encode("utf-8")
    stamp = props.created.strftime("%Y-%m-%dT%H:%M:%SZ")
    members["docProps/core.xml"] = (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:creator>{xml_text(props.creator)}</dc:creator><dc:title>{xml_text(props.title)}</dc:title>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        f"<cp:lastModifiedBy>{xml_text(props.creator)}</cp:lastModifiedBy>"
        + (f"<cp:keywords>{xml_text(props.keywords)}</cp:keywords>" if props.keywords else "")
        + "</cp:coreProperties>").encode("utf-8")
    members["docProps/app.xml"] = (
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>Microsoft Excel Compatible</Application></Properties>").encode("utf-8")
    overrides = [("/xl/styles.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"),
                 ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
                 ("/docProps/app.xml", "application/vnd.openxmlformats-officedocument.extended-properties+xml")]
    overrides += [(f"/xl/worksheets/sheet{i}.xml", _SHEET_TYPE) for i in range(1, n + 1)]
    overrides.append(("/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"))
    members["[Content_Types].xml"] = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />'
        '<Default Extension="xml" ContentType="application/xml" />'
        + "".join(f'<Override PartName="{p}" ContentType="{t}" />' for p, t in overrides)
        + "</Types>").encode("utf-8")
    return fixed_zip(sorted(members.items()), day, deflated)


def _quoted_sheet(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _absolute(ref: str) -> str:
    start, end = ref.split(":")
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in (start, end))
