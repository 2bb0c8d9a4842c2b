"""generator/xlsx.py: the small workbook writer, read back with openpyxl."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl

from generator.xlsx import Properties, Sheet, column_letter, column_widths, workbook_bytes

PROPS = Properties(title="标题 & <测试>", creator="发布机构", created=datetime(2026, 11, 20), keywords="演示数据")


def _book(sheets):
    return openpyxl.load_workbook(io.BytesIO(workbook_bytes(sheets, PROPS, date(2026, 11, 20))))


def test_typed_cells_read_back_with_their_formats():
    rows = [[("a & <b>", None), (Decimal("53800.10"), "0.00"), (date(2026, 1, 2), "yyyy-mm-dd"), (True, None),
             (7, "0"), (" padded ", None), (None, None), (Decimal("1.5"), "#,##0.00")]]
    header = ["文本", "金额", "日期", "是否", "整数", "空白", "空", "千分位"]
    book = _book([Sheet("表'一", header, rows, column_widths(header, rows))])
    ws = book["表'一"]
    assert [c.value for c in ws[1]] == header and all(c.font.b for c in ws[1])
    cells = ws[2]
    assert cells[0].value == "a & <b>"
    assert Decimal(str(cells[1].value)) == Decimal("53800.1") and cells[1].number_format == "0.00"
    assert cells[2].value == datetime(2026, 1, 2) and cells[2].number_format == "yyyy-mm-dd"
    assert cells[3].value is True
    assert cells[4].value == 7 and cells[4].number_format == "0"
    assert cells[5].value == " padded "
    assert cells[6].value is None
    assert cells[7].number_format == "#,##0.00"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:H2"
    assert ws.column_dimensions["A"].width == 9  # "a & <b>" is 7 wide, + 2
    assert book.properties.title == PROPS.title and book.properties.created == PROPS.created
    assert book.properties.keywords == "演示数据"


def test_empty_sheet_has_no_filter_and_bytes_are_deterministic():
    sheets = [Sheet("说明", ["项目"], [[("x", None)]], [4]), Sheet("空表", ["甲", "乙"], [], [2, 2])]
    data = workbook_bytes(sheets, PROPS, date(2026, 11, 20))
    assert data == workbook_bytes(sheets, PROPS, date(2026, 11, 20))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 11, 20, 0, 0, 0)}
        assert [i.filename for i in z.infolist()] == sorted(i.filename for i in z.infolist())
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["说明", "空表"]
    assert book["空表"].auto_filter.ref is None and book["说明"].auto_filter.ref == "A1:A2"


def test_column_letters():
    assert [column_letter(i) for i in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]


def test_clean_text_skips_the_scan_only_for_text_it_would_not_change():
    """Printable text comes back as it is; everything else goes through the regex, as before."""
    import random

    from generator.xlsx import _XML_INVALID, clean_text

    for code in [*range(0, 0x3100), *range(0xd7f0, 0xe010), *range(0xfff0, 0x10000), 0x1f600, 0xe0001, 0x10ffff]:
        ch = chr(code)
        assert clean_text(f"a{ch}b") == _XML_INVALID.sub("", f"a{ch}b"), hex(code)
    rng = random.Random(3)
    alphabet = "ab中\x00\x08\t\n\r\x0b\x1f\x7f\x85\u200e\u3000\ud800\udfff\ufffe\uffff&<>"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert clean_text(text) == _XML_INVALID.sub("", text), repr(text)


def _lazy(title, rows, made: list[str]):
    from generator.xlsx import LazySheet, source_digest

    def make():
        made.append(title)
        return Sheet(title, ["值"], rows, column_widths(["值"], rows))

    return LazySheet(title, source_digest(title, rows), make)


def test_lazy_sheets_from_the_cache_give_the_same_workbook(tmp_path):
    """A sheet's XML is taken from the cache only when its source and the number formats of
    the sheets before it are unchanged; the workbook is byte for byte the plain one."""
    from generator.xlsx import SheetCache

    day = date(2026, 11, 20)
    money = [[(Decimal("1.50"), "0.00")], [(None, None)]]
    dates = [[(date(2026, 1, 2), "yyyy-mm-dd")], [("x", None)]]
    mixed = [[(Decimal("2"), "0.00")], [(date(2026, 1, 3), "yyyy-mm-dd")], [(7, "0")]]

    def book(first, cache, made):
        plain = [Sheet(t, ["值"], r, column_widths(["值"], r)) for t, r in (("甲", first), ("乙", dates), ("丙", mixed))]
        lazy = [_lazy("甲", first, made), _lazy("乙", dates, made), _lazy("丙", mixed, made)]
        data = workbook_bytes(lazy, PROPS, day, cache)
        assert data == workbook_bytes(plain, PROPS, day)
        cache.finish()
        return data

    cache_dir = tmp_path / "sheets"
    made: list[str] = []
    book(money, SheetCache(cache_dir), made)
    assert made == ["甲", "乙", "丙"] and len(list(cache_dir.iterdir())) == 3
    made.clear()
    book(money, SheetCache(cache_dir), made)
    assert made == []  # every sheet from the cache
    # The first sheet no longer uses "0.00": the formats' style indexes of the later sheets move.
    made.clear()
    book([[("text", None)]], SheetCache(cache_dir), made)
    assert made == ["甲", "乙", "丙"]
    assert len(list(cache_dir.iterdir())) == 3  # the last build's sheets removed
    # One row changed in the last sheet: only it is made again.
    made.clear()
    mixed[2] = [(8, "0")]
    book([[("text", None)]], SheetCache(cache_dir), made)
    assert made == ["丙"]
    # A damaged cache file costs work, never a wrong workbook; other code, other keys.
    for path in cache_dir.iterdir():
        path.write_bytes(b"not json\n<x/>")
    made.clear()
    book([[("text", None)]], SheetCache(cache_dir), made)
    assert made == ["甲", "乙", "丙"]
    code = tmp_path / "cells.py"  # the code that makes the cells changed: every sheet made again
    code.write_text("# another version\n", encoding="utf-8")
    made.clear()
    book([[("text", None)]], SheetCache(cache_dir, code=[code]), made)
    assert made == ["甲", "乙", "丙"]


def test_source_digest_tells_types_and_values_apart():
    from generator.xlsx import source_digest

    values = [1, "1", Decimal("1"), Decimal("1.0"), 1.0, True, None, "", date(2026, 1, 1), "2026-01-01"]
    digests = {source_digest([v]) for v in values}
    assert len(digests) == len(values)
    assert source_digest([object()]) is None or source_digest([lambda: 1]) is None


def _plain_zip(members, day):
    """fixed_zip as zipfile writes it (no cache): what the cached path must equal."""
    from generator.xlsx import fixed_zip

    return fixed_zip(members, day)


def test_zip_from_cached_members_is_zipfiles_bytes(tmp_path):
    """With a DeflateCache the archive is written from the members' deflated bytes: the same
    bytes as zipfile's, empty and non-ASCII names and incompressible members included; a
    member whose bytes changed is deflated again, the others are read from the cache."""
    import os
    import random

    from generator.xlsx import DeflateCache, fixed_zip

    rnd = random.Random(7)
    day = date(2026, 11, 20)
    members = [("a.txt", b""), ("数据/表.csv", "甲,乙\r\n".encode("utf-8") * 500), ("rand.bin", os.urandom(70_000)),
               ("x/y.xml", b"<x>" + b"".join(str(rnd.random()).encode() for _ in range(5_000)) + b"</x>")]
    folder = tmp_path / "members"
    cache = DeflateCache(folder)
    assert fixed_zip(members, day, cache) == _plain_zip(members, day)
    cache.finish()
    assert len(list(folder.iterdir())) == 4
    with zipfile.ZipFile(io.BytesIO(fixed_zip(members, day, DeflateCache(folder)))) as z:
        assert z.testzip() is None and [(i.filename, z.read(i)) for i in z.infolist()] == members

    before = {path.name: path.stat().st_ino for path in folder.iterdir()}
    members[2] = ("rand.bin", os.urandom(70_000))
    cache = DeflateCache(folder)
    assert fixed_zip(members, day, cache) == _plain_zip(members, day)
    after = {path.name: path.stat().st_ino for path in folder.iterdir()}
    assert len(after.keys() - before.keys()) == 1  # only the changed member deflated (and kept)
    assert all(after[name] == ino for name, ino in before.items() if name in after)  # the rest read, not rewritten
    cache.finish()
    assert len(list(folder.iterdir())) == 4  # the changed member's old file removed


def test_damaged_deflate_cache_is_made_again(tmp_path):
    """A truncated, rewritten or foreign cache file is never used: the archive is still zipfile's."""
    from generator.xlsx import DeflateCache, fixed_zip

    day = date(2026, 11, 20)
    members = [("one.xml", b"<a>" * 4_000), ("two.xml", "表格".encode("utf-8") * 3_000)]
    folder = tmp_path / "members"
    fixed_zip(members, day, DeflateCache(folder))
    damaged = []
    for i, path in enumerate(sorted(folder.iterdir())):
        data = path.read_bytes()
        damaged.append(data[:-5] if i == 0 else data[:40] + bytes([data[40] ^ 1]) + data[41:])
        path.write_bytes(damaged[-1])
    assert fixed_zip(members, day, DeflateCache(folder)) == _plain_zip(members, day)
    for path in folder.iterdir():
        path.write_bytes(b"not a cache file")
    assert fixed_zip(members, day, DeflateCache(folder)) == _plain_zip(members, day)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    folder.write_bytes(b"a file where the folder was")  # unusable cache folder: made, not kept
    assert fixed_zip(members, day, DeflateCache(folder)) == _plain_zip(members, day)


def test_workbook_with_deflate_cache_is_the_same_file(tmp_path):
    from generator.xlsx import DeflateCache

    rows = [[(f"文本 {i}", None), (Decimal(i) / 7, "0.00"), (date(2026, 1, 1 + i % 28), "yyyy-mm-dd")] for i in range(300)]
    sheets = [Sheet("表", ["文本", "金额", "日期"], rows, column_widths(["文本", "金额", "日期"], rows))]
    plain = workbook_bytes(sheets, PROPS, date(2026, 11, 20))
    for _ in range(2):
        assert workbook_bytes(sheets, PROPS, date(2026, 11, 20), deflated=DeflateCache(tmp_path / "d")) == plain


def test_sheet_cache_files_cut_short_or_changed_are_made_again(tmp_path):
    """SheetCache.data and the sheets' XML carry their size and CRC-32: a damaged file is never used."""
    from generator.xlsx import LazySheet, SheetCache, source_digest

    folder = tmp_path / "c"
    calls = []
    make = lambda: calls.append(1) or b"payload " * 100  # noqa: E731
    assert SheetCache(folder).data(source_digest("x"), make) == b"payload " * 100
    assert SheetCache(folder).data(source_digest("x"), make) == b"payload " * 100 and len(calls) == 1
    (path,) = folder.iterdir()
    for damaged in (path.read_bytes()[:-1], path.read_bytes()[:-1] + b"X", b"", path.read_bytes()[4:]):
        path.write_bytes(damaged)
        calls.clear()
        assert SheetCache(folder).data(source_digest("x"), make) == b"payload " * 100 and calls == [1]

    rows = [[(f"文本{i}", None)] for i in range(50)]
    sheet = lambda: LazySheet("表", source_digest("表", rows), lambda: Sheet("表", ["值"], rows, [10]))  # noqa: E731
    plain = workbook_bytes([Sheet("表", ["值"], rows, [10])], PROPS, date(2026, 11, 20))
    sheets = tmp_path / "s"
    assert workbook_bytes([sheet()], PROPS, date(2026, 11, 20), SheetCache(sheets)) == plain
    (path,) = sheets.iterdir()
    head, _, xml = path.read_bytes().partition(b"\n")
    path.write_bytes(head + b"\n" + xml.replace("文本1".encode(), "文本9".encode(), 1))
    assert workbook_bytes([sheet()], PROPS, date(2026, 11, 20), SheetCache(sheets)) == plain


def test_kept_sheets_are_zipped_from_their_deflated_bytes_by_their_key(tmp_path, monkeypatch):
    """With a SheetCache and a DeflateCache, an unchanged sheet's member comes deflated by its
    sheet key, its XML neither read nor digested; the workbook is the plain one's bytes; a damaged
    kept member (header or bytes) is not used; a Deflated member is written by zipfile from its raw()."""
    from generator import xlsx
    from generator.xlsx import DeflateCache, Deflated, LazySheet, SheetCache, fixed_zip, source_digest

    day = date(2026, 11, 20)
    rows = [[(f"文本{i}", None), (Decimal(i) / 4, "0.00")] for i in range(400)]
    plain = workbook_bytes([Sheet("表", ["值", "额"], rows, [10, 10])], PROPS, day)

    def book():
        lazy = LazySheet("表", source_digest("表", rows), lambda: Sheet("表", ["值", "额"], rows, [10, 10]))
        sheets, members = SheetCache(tmp_path / "s"), DeflateCache(tmp_path / "d")
        data = workbook_bytes([lazy], PROPS, day, sheets, members)
        sheets.finish()
        members.finish()
        return data

    assert book() == plain
    reads: list[str] = []
    get = SheetCache.get
    monkeypatch.setattr(SheetCache, "get", lambda self, key: reads.append(key) or get(self, key))
    assert book() == plain and reads == []  # the sheet's XML not read
    kept = [p for p in (tmp_path / "d").iterdir() if p.stat().st_size > 1000]
    assert len(kept) == 1
    data = kept[0].read_bytes()
    for damaged in (data[:8] + bytes([data[8] ^ 1]) + data[9:], data[:-1] + bytes([data[-1] ^ 1])):
        kept[0].write_bytes(damaged)
        reads.clear()
        assert book() == plain and len(reads) == 1  # read from the sheet cache and deflated again
    member = Deflated(*DeflateCache(tmp_path / "x").deflated(b"<x/>" * 100), raw=lambda: b"<x/>" * 100)
    assert fixed_zip([("x.xml", member)], day) == fixed_zip([("x.xml", b"<x/>" * 100)], day)
