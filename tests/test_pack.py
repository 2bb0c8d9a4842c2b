"""Packs (generator/pack.py): pages handed from the render stage to the engine in one file,
written and read entry by entry, replaced only when their bytes change."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from generator import pack
from generator.pack import PackError, PackWriter

BODY = "<h2 id=\"a\">站前区</h2>\n<p>一\t二\r\n三</p>\n".encode("utf-8")


def write(path: Path, entries: list[tuple[str, dict, bytes]]) -> PackWriter:
    with PackWriter(path) as writer:
        for key, meta, body in entries:
            writer.add(key, meta, body)
    return writer


def test_entries_come_back_as_written_bodies_byte_for_byte(tmp_path: Path):
    path = tmp_path / "build" / "pages.pack"
    pages = [("commitments/CM-1/", {"title": "承诺\n一", "toc": [[2, "a", "站前区"]], "search": None}, BODY),
             ("departments/fgj/", {"title": "发改局"}, b""),
             ("findings/DF-1/", {"title": "\t"}, b"\n\n")]
    write(path, pages)
    assert list(pack.entries(path)) == pages
    assert [(k, m, b) for k, m, b in pack.entries(path, bodies=False)] == [(k, m, None) for k, m, _ in pages]
    assert sorted(p.name for p in path.parent.iterdir()) == ["pages.pack"]  # no temporary file left


def test_a_pack_is_replaced_only_when_its_bytes_change_and_changes_are_counted(tmp_path: Path):
    path = tmp_path / "pages.pack"
    first = write(path, [("a/", {"n": 1}, b"<p>a</p>"), ("b/", {"n": 2}, b"<p>b</p>"), ("c/", {}, b"c")])
    assert (first.changed, first.unchanged, first.removed) == (3, 0, 0)
    os.utime(path, ns=(1, 1))

    same = write(path, [("a/", {"n": 1}, b"<p>a</p>"), ("b/", {"n": 2}, b"<p>b</p>"), ("c/", {}, b"c")])
    assert (same.changed, same.unchanged, same.removed) == (0, 3, 0)
    assert path.stat().st_mtime_ns == 1  # left alone

    # The same entries in another order: no page changed, but the file did.
    moved = write(path, [("b/", {"n": 2}, b"<p>b</p>"), ("a/", {"n": 1}, b"<p>a</p>"), ("c/", {}, b"c")])
    assert (moved.changed, moved.unchanged, moved.removed) == (0, 3, 0)
    assert path.stat().st_mtime_ns != 1
    assert [k for k, _, _ in pack.entries(path)] == ["b/", "a/", "c/"]

    # One body changed, one meta changed, one page gone, one new; a shorter file is no prefix match.
    changed = write(path, [("b/", {"n": 2}, b"<p>B</p>"), ("a/", {"n": 9}, b"<p>a</p>"), ("d/", {}, b"d")])
    assert (changed.changed, changed.unchanged, changed.removed) == (3, 0, 1)
    prefix = write(path, [("b/", {"n": 2}, b"<p>B</p>")])
    assert (prefix.changed, prefix.unchanged, prefix.removed) == (0, 1, 2)
    assert [k for k, _, _ in pack.entries(path)] == ["b/"]


def test_copy_takes_the_old_entry_as_it_is(tmp_path: Path):
    path = tmp_path / "pages.pack"
    write(path, [("a/", {"title": "甲"}, BODY), ("b/", {}, b"b")])
    with PackWriter(path) as writer:
        assert writer.has("a/") and not writer.has("z/")
        writer.add("z/", {}, b"z")
        writer.copy("a/")
    assert (writer.changed, writer.unchanged, writer.removed) == (1, 1, 1)
    assert list(pack.entries(path)) == [("z/", {}, b"z"), ("a/", {"title": "甲"}, BODY)]


def test_a_failed_write_leaves_the_old_pack_as_it_was(tmp_path: Path):
    path = tmp_path / "pages.pack"
    write(path, [("a/", {}, b"a")])
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        with PackWriter(path) as writer:
            writer.add("b/", {}, b"b")
            raise RuntimeError("render failed")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pages.pack"]


def test_two_entries_of_one_key_and_bad_keys_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="two sources"):
        write(tmp_path / "a.pack", [("a/", {}, b"1"), ("a/", {}, b"2")])
    with pytest.raises(ValueError, match="tab"):
        write(tmp_path / "b.pack", [("a\tb/", {}, b"1")])
    assert not (tmp_path / "a.pack").exists() and not (tmp_path / "b.pack").exists()


def test_a_damaged_or_foreign_old_file_counts_every_entry_as_new(tmp_path: Path):
    path = tmp_path / "pages.pack"
    write(path, [("a/", {}, b"<p>a</p>"), ("b/", {}, b"b")])
    path.write_bytes(path.read_bytes()[:-3])  # cut short
    with pytest.raises(PackError):
        list(pack.entries(path))
    again = write(path, [("a/", {}, b"<p>a</p>"), ("b/", {}, b"b")])
    assert (again.changed, again.removed) == (2, 0)
    assert [k for k, _, _ in pack.entries(path)] == ["a/", "b/"]
    path.write_text('{"pages": []}', encoding="utf-8")  # not a pack at all
    assert write(path, [("a/", {}, b"a")]).changed == 1


@pytest.mark.parametrize("kernel_copy", [True, False])
def test_copies_in_runs_and_out_of_order_give_the_entries_in_the_order_written(tmp_path: Path, monkeypatch,
                                                                               kernel_copy: bool):
    """copy() writes entries that follow each other in the old pack in one go (by the kernel's
    copy_file_range where there is one, else read and written): whatever mix of copies (in order,
    skipping, going back) and adds, the pack holds the entries as written."""
    import random

    if not kernel_copy:
        monkeypatch.setattr(pack, "_copy_range", None)
    elif pack._copy_range is None:
        pytest.skip("no os.copy_file_range here")

    rnd = random.Random(3)
    path = tmp_path / "pages.pack"
    old = [(f"p{i}/", {"i": i}, os.urandom(rnd.randrange(0, 3000))) for i in range(200)]
    write(path, old)
    for round_ in range(30):
        current = {k: (m, b) for k, m, b in pack.entries(path)}
        keys = list(current)
        if round_ % 3 == 0:
            order = keys  # every entry copied in order: a run over the whole pack
        else:
            order = sorted(rnd.sample(keys, rnd.randrange(len(keys) // 2, len(keys))),
                           key=lambda k: keys.index(k) + rnd.choice([0, 0, 0, -40, 25]))
        expected = []
        with PackWriter(path) as writer:
            for i, key in enumerate(order):
                if rnd.random() < 0.1:
                    new = (f"n{round_}-{i}/", {}, os.urandom(rnd.randrange(0, 500)))
                    writer.add(*new)
                    expected.append(new)
                writer.copy(key)
                expected.append((key, *current[key]))
        assert list(pack.entries(path)) == expected
        assert writer.unchanged == len(order) and writer.removed == len(keys) - len(order)


# --- EntryKeys: which entries of the last pack are already right ---------------------------------


def keyed_build(tmp_path: Path, entries: dict[str, str], common: str = "c1", *, companion: bytes | None = None,
                made: list[str] | None = None) -> pack.EntryKeys:
    """One build that writes `entries` (name → key; an entry's body is its key) through EntryKeys:
    an entry the keys call fresh is copied from the last pack, any other made (listed in `made`)."""
    other = tmp_path / "blocks.pack"
    if companion is not None:
        other.write_bytes(companion)
    with PackWriter(tmp_path / "pages.pack") as writer:
        keys = pack.EntryKeys(tmp_path / "cache" / "keys.json", common, writer, "pages", companions={"blocks": other})
        for name, key in entries.items():
            if keys.fresh(name, key):
                writer.copy(name)
            else:
                writer.add(name, {}, key.encode())
                keys.made(name, key)
                if made is not None:
                    made.append(name)
    keys.save()
    return keys


def test_entry_keys_keep_an_entry_only_while_its_key_the_common_digest_and_the_pack_are_the_same(tmp_path: Path):
    made: list[str] = []
    keyed_build(tmp_path, {"a/": "1", "b/": "2"}, made=made)
    assert made == ["a/", "b/"]
    made.clear()
    keyed_build(tmp_path, {"a/": "1", "b/": "2"}, made=made)
    assert made == []  # nothing changed: both copied
    keyed_build(tmp_path, {"a/": "1", "b/": "3", "c/": "4"}, made=made)
    assert made == ["b/", "c/"]  # another key, a new entry
    assert {k: b for k, _, b in pack.entries(tmp_path / "pages.pack")} == {"a/": b"1", "b/": b"3", "c/": b"4"}
    made.clear()
    keyed_build(tmp_path, {"a/": "1", "b/": "3", "c/": "4"}, "c2", made=made)
    assert made == ["a/", "b/", "c/"]  # another common digest: every entry made again

    made.clear()  # the pack replaced behind the keys' back (another file): every entry made again
    keyed_build(tmp_path, {"a/": "1"}, "c2")
    write(tmp_path / "pages.pack", [("a/", {}, b"stale")])
    keyed_build(tmp_path, {"a/": "1"}, "c2", made=made)
    assert made == ["a/"] and list(pack.entries(tmp_path / "pages.pack")) == [("a/", {}, b"1")]


def test_entry_keys_hold_this_builds_entries_only_and_damaged_files_give_none(tmp_path: Path):
    keyed_build(tmp_path, {"a/": "1", "b/": "2"})
    keyed_build(tmp_path, {"a/": "1"})
    saved = (tmp_path / "cache" / "keys.json").read_text(encoding="utf-8")
    assert '"a/"' in saved and '"b/"' not in saved  # an entry not written again left the keys
    made: list[str] = []
    keyed_build(tmp_path, {"a/": "1", "b/": "2"}, made=made)
    assert made == ["b/"]  # not copied from the pack, where it still was until now
    good = json.loads((tmp_path / "cache" / "keys.json").read_text(encoding="utf-8"))
    for damaged in ("{not json", "[]", json.dumps({**good, "pages": list(good["pages"])}), "\udcff"):
        (tmp_path / "cache" / "keys.json").write_text(damaged, encoding="utf-8", errors="surrogateescape")
        made.clear()
        keyed_build(tmp_path, {"a/": "1", "b/": "2"}, made=made)
        assert made == ["a/", "b/"], damaged


def test_entry_keys_name_the_companions_still_the_files_they_were_saved_with(tmp_path: Path):
    keyed_build(tmp_path, {"a/": "1"}, companion=b"x")
    assert keyed_build(tmp_path, {"a/": "1"}).same == {"blocks"}
    (tmp_path / "blocks.pack").unlink()
    (tmp_path / "blocks.pack").write_bytes(b"yy")  # another file
    keys = keyed_build(tmp_path, {"a/": "1"})
    assert keys.same == set() and keys.fresh("a/", "1")  # the entries themselves stay right
    assert keyed_build(tmp_path, {"a/": "1"}).same == {"blocks"}  # saved with the new one


def test_lazy_entries_read_a_body_only_when_asked_and_find_a_pack_cut_short(tmp_path: Path):
    path = tmp_path / "p.pack"
    written = {"a/": ({"shell": "x"}, b"<p>a</p>\n"), "b/": ({}, b""), "c/": ({"t": "\u627f\u8bfa"}, b"\xe6\x89\xbf")}
    with PackWriter(path) as w:
        for key, (meta, body) in written.items():
            w.add(key, meta, body)
    got = {}
    for key, raw, body in pack.lazy_entries(path, raw_meta=True):
        got[key] = (json.loads(raw), body() if key != "b/" else None)
    assert got == {"a/": written["a/"], "b/": ({}, None), "c/": written["c/"]}
    # Read in any order within its entry, or twice: the same bytes.
    assert [(k, m, read(), read()) for k, m, read in pack.lazy_entries(path)] == [
        (k, m, b, b) for k, (m, b) in written.items()]
    # The last body cut short: found at the end even when no body is read.
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(PackError):
        for _ in pack.lazy_entries(path):
            pass
    with pytest.raises(PackError):
        for _key, _meta, read in pack.lazy_entries(path):
            read()
