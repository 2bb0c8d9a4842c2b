"""A rebuild reuses what did not change (MkDocs' output, the stamped pages of the published
site, their search entries: generator/engine/reuse.py) and gives, byte for byte, what a
full build of the same data gives: after one record changed, a list-page field, the as-of
date, a hand-written page, a finding removed; a stale or tampered cache never gives a wrong page."""

from __future__ import annotations

import json
import marshal
import os
import re
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from generator import publication
from generator.engine import reuse
from generator.publish import build_site
from generator.tools.synth import REFERENCE_DATE, generate

AS_OF = REFERENCE_DATE
pytestmark = pytest.mark.slow


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_same_as_full_build(data: Path, site: Path, tmp_path: Path, as_of=AS_OF, name: str = "full") -> None:
    full = tmp_path / name
    build_site(data, full, as_of=as_of, history=False, build_dir=tmp_path / f"build-{name}")
    rebuilt, fresh = tree(site), tree(full)
    assert sorted(rebuilt) == sorted(fresh)
    assert [k for k in fresh if rebuilt[k] != fresh[k]] == []
    shutil.rmtree(full)
    shutil.rmtree(tmp_path / f"build-{name}")


@pytest.fixture
def site_and_data(tmp_path: Path):
    data = tmp_path / "data"
    generate(data, 60, seed=7)
    site, build = tmp_path / "site", tmp_path / "build"
    first = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert not first.engine_reused and first.pages_linked == 0
    return data, site, build


def _retitle(record: Path, suffix: str) -> None:
    text = record.read_text(encoding="utf-8")
    record.write_text(re.sub(r"^title: (.*)$", rf"title: \1{suffix}", text, count=1, flags=re.M), encoding="utf-8")


def markdown_sources(build: Path) -> dict[str, bytes]:
    return {p.relative_to(build / "docs").as_posix(): p.read_bytes() for p in (build / "docs").rglob("*.md")}


def assert_only_headings_changed(before: dict[str, bytes], after: dict[str, bytes]) -> None:
    assert sorted(before) == sorted(after)
    for rel in (k for k in after if after[k] != before[k]):
        assert rel == "data/index.md"
        old, new = before[rel].decode("utf-8").split("\n"), after[rel].decode("utf-8").split("\n")
        assert len(old) == len(new) and all(a == b or b.startswith("### ") for a, b in zip(old, new))


def _inode(path: Path) -> int:
    return os.stat(path).st_ino


def test_one_record_changed_reuses_the_engine_and_links_unchanged_pages(site_and_data, tmp_path: Path):
    data, site, build = site_and_data
    record = sorted((data / "commitments").glob("*.yaml"))[3]
    other = sorted((data / "commitments").glob("*.yaml"))[5]
    page, other_page = (site / "commitments" / record.stem / "index.html"), (site / "commitments" / other.stem / "index.html")
    before = {p: _inode(p) for p in (page, other_page)}
    sources = markdown_sources(build)
    _retitle(record, "（已修改）")
    again = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    # The list pages' tables are blocks, put back after MkDocs, and the file sizes and counts of
    # the home and open-data pages figures (generator/figures.py): their Markdown does not change,
    # but for the sizes in the open-data page's headings (to 0.1 KB at this size), which stay in it.
    assert_only_headings_changed(sources, markdown_sources(build))
    assert again.engine_reused == (markdown_sources(build) == sources)
    assert 0 < again.pages_linked < again.pages_stamped
    assert _inode(other_page) == before[other_page]  # the same file, linked into the new site
    assert _inode(page) != before[page] and "（已修改）" in page.read_text(encoding="utf-8")
    assert_same_as_full_build(data, site, tmp_path)
    # Twice in a row: nothing written into the engine's snapshot or a linked page meanwhile.
    sources = markdown_sources(build)
    _retitle(record, "（再次修改）")
    third = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert_only_headings_changed(sources, markdown_sources(build))
    assert third.engine_reused == (markdown_sources(build) == sources)
    assert third.pages_linked == again.pages_linked
    assert_same_as_full_build(data, site, tmp_path)
    assert "（已修改）（再次修改）" in page.read_text(encoding="utf-8")


def test_a_rebuild_makes_only_the_changed_records_page_letter_and_parse(site_and_data, tmp_path: Path, monkeypatch):
    """What did not change is taken from the last build without being made again: an unchanged
    stamped page is linked from the published site without being stamped (its source: the shells
    and its pack entry), an unchanged record's letter is copied from the last pack (its key: the
    render's page key), an unchanged YAML record's parse comes from the load's cache."""
    from generator import letters, load
    from generator.engine.stamp import Shell

    data, site, build = site_and_data
    calls: dict[str, list] = {"stamp": [], "letter": [], "parse": []}
    stamp, letter, parse = Shell.stamp_bytes, letters.LetterMaker.letter, load.parse_yaml
    monkeypatch.setattr(Shell, "stamp_bytes", lambda self, **kw: calls["stamp"].append(kw["url"]) or stamp(self, **kw))
    monkeypatch.setattr(letters.LetterMaker, "letter",
                        lambda self, kind, item: calls["letter"].append(item.record.id) or letter(self, kind, item))
    monkeypatch.setattr(load, "parse_yaml", lambda text: calls["parse"].append(text) or parse(text))
    record = sorted((data / "commitments").glob("*.yaml"))[4]
    _retitle(record, "（已修改）")
    again = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert calls["letter"] == [record.stem]
    assert f"commitments/{record.stem}/" in calls["stamp"]
    assert len(calls["stamp"]) == again.pages_stamped - again.pages_linked < 5  # the record's and its department's pages
    assert sum("（已修改）" in text for text in calls["parse"]) == 1
    assert len([t for t in calls["parse"] if t.startswith("id:")]) <= 1  # no other record parsed
    assert "（已修改）" in (site / "letters" / f"{record.stem}.html").read_text(encoding="utf-8")
    assert_same_as_full_build(data, site, tmp_path)


def test_an_unchanged_rebuild_links_every_stamped_page(site_and_data, tmp_path: Path):
    data, site, build = site_and_data
    letter = next((site / "letters").glob("*-*.html"))
    before = _inode(letter)
    again = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert again.engine_reused and again.pages_linked == again.pages_stamped
    assert _inode(letter) == before  # letters too: linked from the published site, not written
    # The manifest took the engine's digests of what it wrote or linked: the same as reading the files.
    manifest = json.loads((site / publication.MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["files"] == publication.site_files(site)
    assert again.files == sum(len(names) for _, _, names in os.walk(site)) - 1  # all but the marker file
    assert_same_as_full_build(data, site, tmp_path)


def test_the_as_of_date_and_a_list_field_run_the_engine_again(site_and_data, tmp_path: Path):
    data, site, build = site_and_data
    later = AS_OF + timedelta(days=1)
    again = build_site(data, site, as_of=later, history=False, build_dir=build)
    assert not again.engine_reused  # dates on every page, the sitemap's lastmod
    assert_same_as_full_build(data, site, tmp_path, as_of=later)
    # A department's name shows in the hand-made Markdown of lists and dashboards.
    departments = data / "departments.csv"
    text = departments.read_text(encoding="utf-8")
    line = text.splitlines()[1]
    name = line.split(",")[1]
    departments.write_text(text.replace(line, line.replace(name, name + "（新名）", 1), 1), encoding="utf-8")
    third = build_site(data, site, as_of=later, history=False, build_dir=build)
    assert_same_as_full_build(data, site, tmp_path, as_of=later, name="full2")
    assert "（新名）" in (site / "index.html").read_text(encoding="utf-8") or not third.engine_reused


def test_a_removed_finding_vanishes_from_every_output_on_rebuild(data_dir: Path, tmp_path: Path):
    as_of = date(2026, 11, 26)
    site, build = tmp_path / "site", tmp_path / "build"
    build_site(data_dir, site, as_of=as_of, history=False, build_dir=build)
    build_site(data_dir, site, as_of=as_of, history=False, build_dir=build)  # the spare folders now too
    fid = "DF-2026-005"
    assert (site / "findings" / fid / "index.html").is_file()
    assert (build / reuse.SPARE_DIR / "findings" / fid).is_dir()
    (data_dir / "findings" / f"{fid}.yaml").unlink()
    again = build_site(data_dir, site, as_of=as_of, history=False, build_dir=build)
    assert again.pages_linked > 0
    assert [k for k, body in tree(site).items() if fid.encode() in body or fid in k] == []
    assert [p for p in site.rglob("*") if fid in p.name] == []  # no empty folder left either
    for cached in (build / ".cache").rglob("*"):  # nor in what the build keeps for the next one
        assert fid not in cached.name, cached
        if cached.is_file():  # the engine's caches, the workbooks' sheets, the render's pages
            assert fid.encode() not in cached.read_bytes(), cached
    assert_same_as_full_build(data_dir, site, tmp_path, as_of=as_of)


def _folders(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_ino for p in root.rglob("*") if p.is_dir()}


def assert_spare_holds_only_the_sites_files(spare: Path, site: Path) -> None:
    """The spare's files are the published site's very files (the same inode at the same
    path): it holds nothing the site does not."""
    for path in spare.rglob("*"):
        if not path.is_dir():
            twin = site / path.relative_to(spare)
            assert twin.is_file() and os.stat(twin).st_ino == os.lstat(path).st_ino, path


def test_the_last_sites_bare_folders_are_reused(site_and_data, tmp_path: Path):
    """After the swap the old site's folders are kept without a file; the next build whose
    MkDocs output is reused starts from them (the same folders) and still equals a full build."""
    data, site, build = site_and_data
    spare = build / reuse.SPARE_DIR
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    kept = _folders(spare)
    assert_spare_holds_only_the_sites_files(spare, site)
    assert sorted(kept) == sorted(_folders(site))
    again = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert again.engine_reused
    page_folder = next(iter(sorted(k for k in kept if k.startswith("commitments/"))))
    assert _folders(site)[page_folder] == kept[page_folder]  # the same folder, not a new one
    assert_same_as_full_build(data, site, tmp_path)
    # MkDocs runs (another date on every page): its output is moved into the spare folders.
    later = AS_OF + timedelta(days=1)
    kept = _folders(spare)  # the site two builds ago (the spare and the site take turns)
    third = build_site(data, site, as_of=later, history=False, build_dir=build)
    assert not third.engine_reused
    assert _folders(site)[page_folder] == kept[page_folder]
    assert_same_as_full_build(data, site, tmp_path, as_of=later, name="later")


def test_a_spare_holding_a_file_is_not_used(site_and_data, tmp_path: Path):
    data, site, build = site_and_data
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    spare = build / reuse.SPARE_DIR
    folder = next(p for p in sorted(spare.glob("commitments/*")) if p.is_dir())
    (folder / "index.html").unlink(missing_ok=True)  # (a link to the published page: never written in place)
    (folder / "index.html").write_text("stale", encoding="utf-8")
    (spare / "stray.txt").write_text("stray", encoding="utf-8")
    inode = folder.stat().st_ino
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert (site / folder.relative_to(spare)).stat().st_ino != inode
    assert not (site / "stray.txt").exists()
    assert_spare_holds_only_the_sites_files(spare, site)
    assert_same_as_full_build(data, site, tmp_path)
    # A listed file replaced by another (same path, another inode): not used either.
    folder = next(p for p in sorted(spare.glob("commitments/*")) if (p / "index.html").is_file())
    (folder / "index.html").unlink()
    (folder / "index.html").write_text("stale", encoding="utf-8")
    inode = folder.stat().st_ino
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert (site / folder.relative_to(spare)).stat().st_ino != inode
    assert_same_as_full_build(data, site, tmp_path)


def test_the_spare_keeps_the_files_the_new_site_shares_and_a_build_takes_or_drops_them(site_and_data, tmp_path: Path):
    """After the swap the old site's stamped pages and letters that the new site shares (the same
    inode: linked, unchanged) stay in the spare; the next build takes each as it is when its page
    is unchanged (no link, no unlink), replaces a changed one and drops those no longer on the site."""
    data, site, build = site_and_data
    spare = build / reuse.SPARE_DIR
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)  # the spare now holds files
    texts = {p: p.read_text(encoding="utf-8") for p in data.rglob("*") if p.suffix in (".yaml", ".csv")}
    records = sorted((data / "commitments").glob("*.yaml"))
    removed = next(r for r in records if not any(r.stem in t for p, t in texts.items() if p != r))  # named nowhere else
    changed, same = [r for r in records if r != removed][1:3]
    kept = {p.relative_to(spare).as_posix(): os.stat(p).st_ino for p in spare.rglob("*.html")}
    assert f"commitments/{same.stem}/index.html" in kept and f"letters/{same.stem}.html" in kept
    assert_spare_holds_only_the_sites_files(spare, site)
    _retitle(changed, "（已修改）")
    removed.unlink()
    again = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert again.pages_linked > 0
    page = f"commitments/{same.stem}/index.html"
    assert os.stat(site / page).st_ino == kept[page]  # the spare's file, taken as it is
    assert not (site / "commitments" / removed.stem).exists() and not (site / "letters" / f"{removed.stem}.html").exists()
    assert "（已修改）" in (site / "commitments" / changed.stem / "index.html").read_text(encoding="utf-8")
    assert [p for p in spare.rglob("*") if removed.stem in p.name] == []
    assert_spare_holds_only_the_sites_files(spare, site)
    assert_same_as_full_build(data, site, tmp_path)


def test_spare_folders_are_emptied_adopted_and_pruned(tmp_path: Path):
    old, new, staging = tmp_path / "old", tmp_path / "new", tmp_path / "staging"
    for rel in ("a/b/index.html", "a/gone/index.html", "c/index.html", "top.html"):
        (old / rel).parent.mkdir(parents=True, exist_ok=True)
        (old / rel).write_text(rel, encoding="utf-8")
    os.symlink(old / "c", old / "link")
    (new / "a" / "b").mkdir(parents=True)
    (new / "c").mkdir()
    spare = reuse.Spare(tmp_path / "build")
    spare.keep(old, new)
    assert not old.exists()
    assert sorted(p.relative_to(spare.path).as_posix() for p in Path(spare.path).rglob("*")) == ["a", "a/b", "c"]
    staging.mkdir()
    adopted = spare.adopt(staging)
    assert not Path(spare.path).exists()
    assert sorted(os.path.relpath(p, staging) for p in adopted) == ["a/b", "c"]  # those that hold nothing
    (staging / "a" / "b" / "index.html").write_text("new", encoding="utf-8")
    spare.prune(adopted, staging)
    assert sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*")) == ["a", "a/b", "a/b/index.html"]
    # Around files already in the site folder (what MkDocs wrote): they move into the spare.
    spare.keep(staging, new)  # staging as an old site: a/b kept, a/b/index.html unlinked
    engine_out = tmp_path / "engine-out"
    (engine_out / "a").mkdir(parents=True)
    (engine_out / "a" / "page.html").write_text("p", encoding="utf-8")
    (engine_out / "x" / "y").mkdir(parents=True)
    (engine_out / "x" / "y" / "z.css").write_text("z", encoding="utf-8")
    (engine_out / "top.html").write_text("t", encoding="utf-8")
    adopted = spare.adopt(engine_out)
    assert sorted(os.path.relpath(p, engine_out) for p in adopted) == ["a/b"]
    assert {p.relative_to(engine_out).as_posix(): p.read_text(encoding="utf-8") for p in engine_out.rglob("*")
            if p.is_file()} == {"a/page.html": "p", "x/y/z.css": "z", "top.html": "t"}
    spare.prune(adopted, engine_out)
    assert sorted(p.relative_to(engine_out).as_posix() for p in engine_out.rglob("*")) == [
        "a", "a/page.html", "top.html", "x", "x/y", "x/y/z.css"]
    # A file where the spare has a folder: the spare is not used, the site folder untouched.
    (Path(spare.path) / "top.html").mkdir(parents=True)
    assert spare.adopt(engine_out) is None and not Path(spare.path).exists()
    assert (engine_out / "top.html").read_text(encoding="utf-8") == "t"
    # Anything but folders in a spare: not used, removed.
    (Path(spare.path) / "x").mkdir(parents=True)
    os.symlink(staging, Path(spare.path) / "x" / "link")
    other = tmp_path / "other"
    other.mkdir()
    assert spare.adopt(other) is None and not Path(spare.path).exists() and list(other.iterdir()) == []


def test_adopt_reads_only_the_spare_folders_changed_since_keep_listed_them(tmp_path: Path, monkeypatch):
    """A spare folder whose change time is keep()'s and older than keep() is taken as listed
    without reading it; any entry added, removed or renamed since (or a mode changed) sets its
    change time, so it is read and checked: a stray file or folder means no spare. A damaged or
    foreign listing means no spare too."""
    import time

    def make_spare() -> tuple[reuse.Spare, Path]:
        old, new = tmp_path / "old", tmp_path / "new"
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(new, ignore_errors=True)
        for rel in ("p/a/index.html", "p/b/index.html", "p/c/index.html", "q/index.html"):
            (old / rel).parent.mkdir(parents=True, exist_ok=True)
            (old / rel).write_text(rel, encoding="utf-8")
            (new / rel).parent.mkdir(parents=True, exist_ok=True)
            os.link(old / rel, new / rel)
        time.sleep(0.05)  # the folders' change times now precede keep() by more than a clock tick
        monkeypatch.setattr(reuse, "_CLOCK_MARGIN_NS", 20_000_000)
        spare = reuse.Spare(tmp_path / "build")
        spare.shared = {rel: ["digest", 0, os.stat(new / rel).st_ino] for rel in ("p/a/index.html", "p/b/index.html")}
        spare.keep(old, new)  # p/c and q lose their page: keep() changes those two (and the top)
        return spare, new

    opened: list[str] = []
    real_scandir = os.scandir
    monkeypatch.setattr(reuse.os, "scandir", lambda path: opened.append(os.fspath(path)) or real_scandir(path))
    spare, new = make_spare()
    opened.clear()
    staging = tmp_path / "staging"
    staging.mkdir()
    adopted = spare.adopt(staging)
    monkeypatch.setattr(reuse.os, "scandir", real_scandir)
    assert sorted(os.path.relpath(p, spare.path) for p in opened if p.startswith(spare.path)) == [".", "p/c", "q"]
    assert sorted(os.path.relpath(p, staging) for p in adopted) == ["p/c", "q"]
    assert spare.files == {rel: os.stat(new / rel).st_ino for rel in ("p/a/index.html", "p/b/index.html")}
    assert spare.plain == {"p/a": ["index.html"], "p/b": ["index.html"], "p/c": [], "q": []}
    # p/c stays empty, q gets a page, p/a's page is dropped: the empty folders go, p stays.
    (staging / "q" / "index.html").write_text("q", encoding="utf-8")
    os.unlink(staging / "p" / "a" / "index.html")
    reuse.Spare.prune([*adopted, str(staging / "p" / "a")], staging)
    assert sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*")) == [
        "p", "p/b", "p/b/index.html", "q", "q/index.html"]
    # A folder's chain emptied to the top of the site: each parent left empty goes too.
    (staging / "x" / "y").mkdir(parents=True)
    reuse.Spare.prune([str(staging / "x" / "y")], staging)
    assert not (staging / "x").exists() and staging.is_dir()

    for stray in (lambda root: (root / "p" / "a" / "stray.html").write_text("s", encoding="utf-8"),
                  lambda root: (root / "p" / "b" / "sub").mkdir(),
                  lambda root: os.rename(root / "p" / "a" / "index.html", root / "p" / "a" / "other.html"),
                  lambda root: os.rmdir(root / "p" / "c")):
        spare, _ = make_spare()
        stray(Path(spare.path))
        other = tmp_path / "other"
        shutil.rmtree(other, ignore_errors=True)
        other.mkdir()
        assert spare.adopt(other) is None and not Path(spare.path).exists() and list(other.iterdir()) == []
    for listing in (b"damaged", {"p/a/index.html": 1}, {"format": 2, "since": 0, "files": {}, "folders": ["p"]},
                    {"format": 2, "since": 1 << 62, "files": {1: 1}, "folders": "p\\0q"}):
        spare, _ = make_spare()
        Path(spare.list_path).write_bytes(listing if isinstance(listing, bytes) else marshal.dumps(listing))
        other = tmp_path / "other"
        shutil.rmtree(other, ignore_errors=True)
        other.mkdir()
        assert spare.adopt(other) is None and not Path(spare.path).exists()


def test_keep_leaves_only_the_files_the_new_site_shares_and_adopt_checks_them(tmp_path: Path):
    old, new, staging = tmp_path / "old", tmp_path / "new", tmp_path / "staging"
    for rel in ("a/index.html", "b/index.html", "c/index.html"):
        for root in (old, new):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (old / rel).write_text(rel, encoding="utf-8")
    os.link(old / "a" / "index.html", new / "a" / "index.html")  # shared: linked, unchanged
    (new / "b" / "index.html").write_text("b/index.html", encoding="utf-8")  # same bytes, another file
    shutil.rmtree(new / "c")
    spare = reuse.Spare(tmp_path / "build")
    spare.shared = {rel: ["digest", 0, os.stat(new / rel).st_ino] for rel in ("a/index.html", "b/index.html")}
    spare.keep(old, new)
    files = {p.relative_to(spare.path).as_posix() for p in Path(spare.path).rglob("*") if p.is_file()}
    assert files == {"a/index.html"} and sorted(os.listdir(spare.path)) == ["a", "b"]
    assert os.stat(Path(spare.path) / "a" / "index.html").st_ino == os.stat(new / "a" / "index.html").st_ino
    staging.mkdir()
    assert spare.adopt(staging) is not None
    assert spare.files == {"a/index.html": os.stat(new / "a" / "index.html").st_ino}
    assert (staging / "a" / "index.html").read_text(encoding="utf-8") == "a/index.html"
    # A listed file that is another file now (same path, another inode): the spare is not used.
    spare.keep(staging, new)
    listed = Path(spare.path) / "a" / "index.html"
    listed.unlink()
    listed.write_text("stale", encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    assert spare.adopt(other) is None and not Path(spare.path).exists() and spare.files == {}
    assert list(other.iterdir()) == []


def test_a_page_edited_in_the_published_site_is_not_linked(site_and_data, tmp_path: Path):
    data, site, build = site_and_data
    page = site / "commitments" / sorted((data / "commitments").glob("*.yaml"))[2].stem / "index.html"
    with open(page, "r+b") as fh:  # in place, same size: only its mtime tells
        head = fh.read(16)
        fh.seek(0)
        fh.write(head.upper())
    os.utime(page, ns=(os.stat(page).st_atime_ns, os.stat(page).st_mtime_ns + 1))
    again = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert again.pages_linked == again.pages_stamped - 1
    assert_same_as_full_build(data, site, tmp_path)


def test_a_stale_engine_cache_is_not_used(site_and_data, tmp_path: Path):
    """A snapshot whose key file names other inputs is ignored; one without its key is too."""
    data, site, build = site_and_data
    key_file = build / reuse.SNAPSHOT_KEY
    saved = key_file.read_text(encoding="utf-8")
    key_file.write_text(saved.replace('"key": "', '"key": "0', 1), encoding="utf-8")
    again = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert not again.engine_reused
    key_file.unlink()
    assert not build_site(data, site, as_of=AS_OF, history=False, build_dir=build).engine_reused
    assert_same_as_full_build(data, site, tmp_path)


def test_the_snapshot_holds_the_trimmed_pages_and_a_damaged_key_file_is_not_used(site_and_data, tmp_path: Path):
    """What a reused snapshot gives needs no trimming: its pages are trimmed and linked to the
    cut stylesheet already (the theme's full stylesheet is not in it), and the rebuild's pages
    with raw HTML blocks get them back. A key file whose stylesheet swap is damaged is ignored."""
    data, site, build = site_and_data
    snapshot = build / reuse.SNAPSHOT_DIR
    home = (snapshot / "index.html").read_text(encoding="utf-8")
    saved = json.loads((build / reuse.SNAPSHOT_KEY).read_text(encoding="utf-8"))
    old_link, new_link = saved["swap"]
    assert new_link in home and old_link not in home and "\n  " not in home
    assert not (snapshot / "assets" / "stylesheets" / old_link.split("/")[1].rstrip('"')).exists()
    assert "ZQBLOCK-" in (snapshot / "commitments" / "index.html").read_text(encoding="utf-8")
    record = sorted((data / "commitments").glob("*.yaml"))[3]
    _retitle(record, "（已修改）")
    again = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    if not again.engine_reused:  # the open-data page's sizes moved: once more, now unchanged
        assert build_site(data, site, as_of=AS_OF, history=False, build_dir=build).engine_reused
    assert "ZQBLOCK-" not in (site / "commitments" / "index.html").read_text(encoding="utf-8")
    assert_same_as_full_build(data, site, tmp_path)
    for damaged in ([old_link], [old_link, 1], "x"):
        saved = json.loads((build / reuse.SNAPSHOT_KEY).read_text(encoding="utf-8"))
        saved["swap"] = damaged
        (build / reuse.SNAPSHOT_KEY).write_text(json.dumps(saved), encoding="utf-8")
        assert not build_site(data, site, as_of=AS_OF, history=False, build_dir=build).engine_reused
    assert_same_as_full_build(data, site, tmp_path)


def test_html_files_copied_from_docs_are_trimmed_again_on_reuse(tmp_path: Path):
    from generator.engine.build import _trim_copied_pages, trim_indentation

    page = '<html>\n    <link rel="stylesheet" href="../assets/stylesheets/main.1.min.css">\n\n  <p>a</p>\n</html>\n'
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.html").write_text(page, encoding="utf-8")
    (tmp_path / "x" / "a.js").write_text(page, encoding="utf-8")
    swap = ('stylesheets/main.1.min.css"', 'stylesheets/main.1.zq2.min.css"')
    _trim_copied_pages(tmp_path, ["x/a.html", "x/a.js"], swap)
    assert (tmp_path / "x" / "a.html").read_text(encoding="utf-8") == trim_indentation(page).replace(*swap)
    assert (tmp_path / "x" / "a.js").read_text(encoding="utf-8") == page


def test_the_engine_key_follows_its_inputs(tmp_path: Path):
    build, docs, overrides = tmp_path / "build", tmp_path / "build" / "docs", tmp_path / "overrides"
    (docs / "data").mkdir(parents=True)
    overrides.mkdir()
    (build / "mkdocs.yml").write_text("site_name: x\n", encoding="utf-8")
    base = tmp_path / "mkdocs.yml"
    base.write_text("theme: {name: material}\n", encoding="utf-8")
    (overrides / "main.html").write_text("{% extends 'base.html' %}\n", encoding="utf-8")
    (docs / "index.md").write_text("# 首页\n", encoding="utf-8")
    (docs / "data" / "a.csv").write_text("a\n1\n", encoding="utf-8")

    code = tmp_path / "code"
    code.mkdir()
    (code / "page.j2").write_text('<p class="a">\n', encoding="utf-8")
    (docs / "zq.js").write_text("a.classList.add('x')\n", encoding="utf-8")

    def key(shells=None, epoch=1):
        return reuse.engine_key(build, docs, overrides, base, shells or {"commitments/zq-shell-c.md": "c"}, epoch,
                                [code])

    first, statics = key()
    assert sorted(statics) == ["data/a.csv", "zq.js"]
    (docs / "data" / "a.csv").write_text("a\n2\n", encoding="utf-8")  # copied as it is: by name only
    (code / "notes.txt").write_text("not read by the stylesheet cut\n", encoding="utf-8")
    assert key()[0] == first
    # The snapshot holds the pages trimmed and linked to the cut stylesheet, which reads the
    # scripts and HTML files of docs/ and the code folders' texts: each of those counts whole.
    changes = [
        lambda: (overrides / "main.html").write_text("{% extends 'base.html' %}\n<!-- -->\n", encoding="utf-8"),
        lambda: (docs / "index.md").write_text("# 首页\n\n新\n", encoding="utf-8"),
        lambda: (docs / "data" / "b.csv").write_text("b\n", encoding="utf-8"),
        lambda: base.write_text("theme: {name: material, language: zh}\n", encoding="utf-8"),
        lambda: (build / "mkdocs.yml").write_text("site_name: y\n", encoding="utf-8"),
        lambda: (docs / "zq.js").write_text("a.classList.add('y')\n", encoding="utf-8"),
        lambda: (docs / "extra.html").write_text('<p class="b"></p>\n', encoding="utf-8"),
        lambda: (docs / "extra.html").write_text('<p class="c"></p>\n', encoding="utf-8"),
        lambda: (code / "page.j2").write_text('<p class="b">\n', encoding="utf-8"),
        lambda: (code / "more.py").write_text('CLASS = "c"\n', encoding="utf-8"),
    ]
    seen = {first, key(epoch=2)[0], key(shells={"x/zq-shell-c.md": "c"})[0]}
    assert len(seen) == 3
    for change in changes:
        change()
        new = key()[0]
        assert new not in seen
        seen.add(new)


def test_search_entries_cut_from_known_runs_are_what_jieba_cuts(tmp_path: Path):
    from generator.engine import search

    texts = ["站前区发展和改革局 政府承诺 兑现", "发展和改革局（修改 1）", "<b>承诺</b> 兑现率 100% 站前区", "A\u200b改革B"]
    entries = reuse.SearchEntries(tmp_path)
    for i, text in enumerate(texts):
        entries.entry(f"a{i}/", text, text, lambda segment, text=text: segment(text))
    entries.save()
    again = reuse.SearchEntries(tmp_path)
    for i, text in enumerate([*texts, "改革局 兑现率", "站前区（修改 2）"]):
        value = again.entry(f"b{i}/", text, text, lambda segment, text=text: segment(text))
        assert value == search.segment(text)
    unchanged = again.entry("a0/", texts[0], texts[0], lambda segment: "never made")
    assert unchanged == search.segment(texts[0])


def test_a_search_entry_is_taken_by_its_page_source_only_when_that_source_is_the_same(tmp_path: Path):
    """The stamp loop takes an unchanged page's search entry by the digest of the page's pack
    entry (SearchEntries.made_from) without reading its text; another source is a miss, and an
    entry found by its text keeps the new source for the next build."""
    entries = reuse.SearchEntries(tmp_path)
    entries.entry("a/", "承诺", "政府承诺 兑现", lambda segment: "A", source="s1")
    entries.entry("b/", "承诺", "欠款", lambda segment: "B")  # made without a source
    entries.save()
    again = reuse.SearchEntries(tmp_path)
    assert again.made_from("a/", "s1") == "A"
    assert again.made_from("a/", "s2") is None
    assert again.made_from("b/", "s1") is None
    assert again.entry("b/", "承诺", "欠款", lambda segment: "never made", source="s3") == "B"
    again.save()
    third = reuse.SearchEntries(tmp_path)
    assert third.made_from("a/", "s1") == "A" and third.made_from("b/", "s3") == "B"
    assert third.made_from("c/", "s1") is None


def test_a_spare_folder_of_another_mode_or_with_a_subfolder_is_walked(site_and_data, tmp_path: Path):
    """The spare's page folders the manifest's walk may skip (reuse.Spare.plain) are only those
    that are 0755 and hold nothing but their page: a folder of another mode is made 0755, and
    a stray subfolder is pruned, as in a full build; the manifest lists every page."""
    data, site, build = site_and_data
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)  # the spare now holds files
    spare = build / reuse.SPARE_DIR
    folders = [p for p in sorted(spare.glob("commitments/*")) if (p / "index.html").is_file()]
    closed, nested = folders[0], folders[1]
    os.chmod(closed, 0o700)
    (nested / "stray").mkdir()
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    for folder in (closed, nested):
        assert (site / folder.relative_to(spare)).stat().st_mode & 0o777 == 0o755
    assert not (site / nested.relative_to(spare) / "stray").exists()
    listed = json.loads((site / publication.MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
    assert f"{closed.relative_to(spare).as_posix()}/index.html" in listed
    assert_same_as_full_build(data, site, tmp_path)


def test_keep_takes_the_settled_page_folders_of_the_old_site_without_reading_them(site_and_data, tmp_path: Path,
                                                                                  monkeypatch):
    """The page folders the last build made holding their page alone (StampRecord.settle) are
    kept by keep() with one lstat each when the new site shares their page: only the changed
    page's folder and the other folders are read; the spare and the next site are as before."""
    data, site, build = site_and_data
    saved = marshal.loads((build / reuse.STAMP_RECORD).read_bytes())
    plain = saved["plain"].split("\0")
    assert "commitments/" + sorted(p.name for p in (site / "commitments").iterdir() if p.is_dir())[0] in plain
    assert isinstance(saved["settled"], int)
    # A small site is stamped within the clock margin (100 ms), so its folders' change times are
    # too close to the moment the build settled to prove anything: as if it had settled later.
    time.sleep(0.05)
    saved["settled"] = time.time_ns()
    (build / reuse.STAMP_RECORD).write_bytes(marshal.dumps(saved))
    record = sorted((data / "commitments").glob("*.yaml"))[3]
    _retitle(record, "（改）")
    read: list[str] = []  # the folders keep() reads
    scandir, keep = os.scandir, reuse.Spare.keep

    def counting(path=".", *args):
        read.append(path if isinstance(path, int) else os.fspath(path))
        return scandir(path, *args)

    def keeping(self, old_site, new_site):
        monkeypatch.setattr(os, "scandir", counting)
        try:
            return keep(self, old_site, new_site)
        finally:
            monkeypatch.setattr(os, "scandir", scandir)

    monkeypatch.setattr(reuse.Spare, "keep", keeping)
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    monkeypatch.undo()
    old_site = os.path.commonpath([p for p in read if isinstance(p, str)])
    read_pages = {os.path.relpath(p, old_site) for p in read if isinstance(p, str)} & set(plain)
    # Of the settled page folders, only those of the pages that changed: the record's and its department's.
    assert {"commitments/" + record.stem} <= read_pages and len(read_pages) == 2 < len(plain)
    assert [p for p in read_pages if p.startswith("departments/")]
    assert_spare_holds_only_the_sites_files(build / reuse.SPARE_DIR, site)
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)  # adopts that spare
    assert_same_as_full_build(data, site, tmp_path)


def test_a_file_put_into_a_settled_page_folder_is_not_kept(site_and_data, tmp_path: Path):
    """A page folder changed after its build settled (a file added: its change time moves on)
    is read by keep(), so the file goes, and the site after next holds no trace of it."""
    data, site, build = site_and_data
    folder = next(p for p in sorted((site / "commitments").iterdir()) if p.is_dir())
    time.sleep(0.15)  # past the fine clock margin: the folder's new change time is later than settled
    (folder / "stray.html").write_text("stray", encoding="utf-8")
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    spare = build / reuse.SPARE_DIR
    assert not (spare / folder.relative_to(site) / "stray.html").exists()
    assert_spare_holds_only_the_sites_files(spare, site)
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert not (site / folder.relative_to(site) / "stray.html").exists()
    assert_same_as_full_build(data, site, tmp_path)


def test_settle_notes_no_moment_when_the_file_systems_clock_is_behind(tmp_path: Path, monkeypatch):
    import time as time_mod

    record = reuse.StampRecord(tmp_path / "build", None)
    real = time_mod.time_ns
    monkeypatch.setattr(time_mod, "time_ns", lambda: os.lstat(tmp_path).st_ctime_ns + 10 * 1_000_000_000)
    record.settle(os.fspath(tmp_path), ["a"])
    assert record.settled is None and record.plain == []
    # Behind by more than half the margin (60 of 100 ms here) is behind too.
    monkeypatch.setattr(time_mod, "time_ns", lambda: real() + 60_000_000)
    record.settle(os.fspath(tmp_path), ["a"])
    assert record.settled is None and record.plain == []
    monkeypatch.undo()
    record.settle(os.fspath(tmp_path), ["b", "a"])
    assert record.plain == ["a", "b"] and record.settled is not None and record.settled < time_mod.time_ns()


def test_a_letter_is_taken_by_its_digest_and_its_bytes_read_only_to_be_written(tmp_path: Path):
    """StampRecord.put with the bytes as a function and their SHA-256 (the site-files pack's
    meta): a file the published site holds with that digest is linked without the bytes being
    read; a new one is read, checked against the digest and written."""
    import hashlib

    old_site, new_site, build = tmp_path / "old", tmp_path / "new", tmp_path / "build"
    old_site.mkdir()
    new_site.mkdir()
    first = reuse.StampRecord(build, None)
    first.put("a.html", os.fspath(old_site / "a.html"), b"letter a")
    first.save(old_site)
    record = reuse.StampRecord(build, old_site)
    reads: list[str] = []

    def reading(data: bytes):
        def read() -> bytes:
            reads.append(data.decode())
            return data
        return read

    record.put("a.html", os.fspath(new_site / "a.html"), reading(b"letter a"),
               digest=hashlib.sha256(b"letter a").hexdigest())
    assert reads == [] and record.linked == 1
    assert (new_site / "a.html").stat().st_ino == (old_site / "a.html").stat().st_ino
    record.put("b.html", os.fspath(new_site / "b.html"), reading(b"letter b"),
               digest=hashlib.sha256(b"letter b").hexdigest())
    assert reads == ["letter b"] and (new_site / "b.html").read_bytes() == b"letter b"
    assert record.written["b.html"] == hashlib.sha256(b"letter b").hexdigest()
    with pytest.raises(ValueError):
        record.put("c.html", os.fspath(new_site / "c.html"), reading(b"letter c"), digest="0" * 64)
    assert not (new_site / "c.html").exists()


def test_stamped_pages_are_known_by_their_render_key(site_and_data, tmp_path: Path):
    """Every record and department page's pack entry names its render key right after its shell,
    where the engine reads both without parsing the entry; the key stands for the entry in what
    an unchanged page is linked by (its source), so the rebuilt site still equals a full build."""
    import importlib

    engine_build = importlib.import_module("generator.engine.build")  # (the package's `build` is its function)
    data, site, build = site_and_data
    metas = [raw for _url, raw, _body in pack_entries(build / engine_build.PAGES_PACK)]
    keys = [engine_build._key_of(raw) for raw in metas]
    assert metas and all(k is not None and len(k) == 40 for k in keys)
    assert len(set(keys)) == len(keys)
    assert engine_build._key_of(b'{"shell":"commitments","title":"t"}') is None
    _retitle(sorted((data / "commitments").glob("*.yaml"))[2], "（改）")
    again = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert again.pages_linked >= len(metas) - 3  # the record's, its department's (and a list's) pages stamped
    assert_same_as_full_build(data, site, tmp_path)


def pack_entries(path: Path):
    from generator import pack

    return pack.entries(path, raw_meta=True)


def test_an_unchanged_letter_is_placed_by_the_digest_in_its_pack_entry(site_and_data, monkeypatch):
    """Every file of the site-files pack reaches StampRecord.put with its digest from the pack's
    meta and its bytes as a function: on a rebuild none of the unchanged letters is read."""
    data, site, build = site_and_data
    calls: list[tuple[str, bool]] = []
    reads: list[str] = []
    put = reuse.StampRecord.put

    def watching(self, rel, target, data, **kwargs):
        if callable(data):
            def read(data=data, rel=rel):
                reads.append(rel)
                return data()
            calls.append((rel, kwargs.get("digest") is not None))
            return put(self, rel, target, read, **kwargs)
        return put(self, rel, target, data, **kwargs)

    monkeypatch.setattr(reuse.StampRecord, "put", watching)
    build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    letters = [rel for rel, _ in calls if rel.startswith("letters/") and rel.endswith(".html")]
    assert letters and all(with_digest for _, with_digest in calls)
    assert reads == []
