"""Scale: the synthetic data validates clean, and a record page costs the same at any size.

The full benchmark (benchmarks/run.py) builds whole sites of 1,000 and 10,000
records; these checks stay small and fast. A record page must not grow with the
number of records (no list of all records, no navigation of every page), and a
list page never holds more than one page of rows.

synth does not keep the first records fixed between sizes, so the same records
are carried over: one commitment, one arrears item (ledger row, plan and
repayments) and one finding are copied from one folder over the same id in the
other (or join it), and their pages are compared.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from generator import pack
from generator.derive import derive
from generator.load import load
from generator.render import PER_PAGE, render
from generator.tools.synth import REFERENCE_DATE, generate
from generator.validate import validate

SEED = 7
#: Bytes a record page may differ by between sizes (dates of the as-of day and the like).
TOLERANCE = 64
AS_OF = REFERENCE_DATE
LEDGER_FILES = ("ledger.csv", "plan.csv", "repayments.csv")


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _bodies(build: Path) -> dict[str, bytes]:
    """URL → HTML body of each record and department page the render handed to the engine."""
    return {url: body for url, _, body in pack.entries(build / "pages.pack")}


def _arrears_id(row: dict[str, str]) -> str:
    return row.get("id") or row["arrears_id"]


def _facts(folder: Path):
    report = validate(load(folder))
    assert [p.text() for p in report.errors] == [], folder
    assert report.dataset is not None
    return derive(report.dataset, AS_OF)


def _copy_arrears_item(record_id: str, donor: Path, target: Path) -> None:
    """The ledger row, plan and repayments of one arrears item, over the same id in target (or added)."""
    for name in LEDGER_FILES:
        header, rows = _rows(target / "arrears" / name)
        new = [r for r in _rows(donor / "arrears" / name)[1] if _arrears_id(r) == record_id]
        at = next((i for i, r in enumerate(rows) if _arrears_id(r) == record_id), len(rows))
        rows = [r for r in rows if _arrears_id(r) != record_id]
        rows[at:at] = new
        if name == "ledger.csv":
            rows.sort(key=lambda r: r["id"])
        _write_rows(target / "arrears" / name, header, rows)


def _carry_over(small: Path, large: Path) -> dict[str, str]:
    """Make one record of each kind, one that has a page, identical in both folders.

    Taken from the small folder when it has one on display, else from the large one; a
    finding brings the records it relates to along.
    """
    carried: dict[str, str] = {}
    facts = {small: _facts(small), large: _facts(large)}
    for kind in ("commitments", "arrears", "findings"):
        donor = next(f for f in (small, large) if getattr(facts[f], kind))
        target = large if donor == small else small
        record_id = getattr(facts[donor], kind)[0].record.id
        if kind == "arrears":
            _copy_arrears_item(record_id, donor, target)
        else:
            shutil.copyfile(donor / kind / f"{record_id}.yaml", target / kind / f"{record_id}.yaml")
        if kind == "findings":  # the records it relates to come along, or the target would not validate
            for related in getattr(facts[donor], kind)[0].record.related:
                if related.startswith("AR-"):
                    _copy_arrears_item(related, donor, target)
                else:
                    shutil.copyfile(donor / "commitments" / f"{related}.yaml", target / "commitments" / f"{related}.yaml")
        carried[kind] = record_id
    return carried


@pytest.fixture(scope="module")
def carried(sizes) -> dict[str, str]:
    return sizes["carried"]


@pytest.fixture(scope="module")
def sizes(tmp_path_factory) -> dict:
    """{records: (data folder, build folder)} for 50 and 500 records, rendered (no MkDocs build),
    and under "carried" the ids of the records carried over from 50 to 500."""
    root = tmp_path_factory.mktemp("scale")
    folders = {n: root / f"data-{n}" for n in (50, 500)}
    for n, folder in folders.items():
        generate(folder, n, seed=SEED)
    built: dict = {"carried": _carry_over(folders[50], folders[500])}
    for n, folder in folders.items():
        build = root / f"build-{n}"
        render(_facts(folder), build)
        built[n] = (folder, build)
    return built


def test_synthetic_folders_validate_clean(sizes):
    for n in (50, 500):
        folder = sizes[n][0]
        report = validate(load(folder))
        assert [p.text() for p in report.errors] == [], n
        # only synth's deliberate warnings (and, in November and December, next year's calendar reminder)
        assert {p.code for p in report.problems if p.file != "calendar.yaml"} <= {"rule"}, n


def test_record_page_does_not_grow_with_the_number_of_records(sizes, carried):
    assert set(carried) == {"commitments", "arrears", "findings"}
    for kind, record_id in carried.items():
        small, large = (_bodies(sizes[n][1])[f"{kind}/{record_id}/"] for n in (50, 500))
        assert len(large) <= len(small) + TOLERANCE, (kind, record_id, len(small), len(large))


def test_largest_record_page_is_small(sizes):
    for n in (50, 500):
        build = sizes[n][1]
        largest = max((len(body), url) for url, body in _bodies(build).items()
                      if url.split("/")[0] in ("commitments", "arrears", "findings"))
        assert largest[0] < 20_000, (n, largest)  # the body; the shell adds Material's ~20 KB


def test_list_pages_hold_at_most_one_page_of_rows(sizes):
    _, build = sizes[500]
    pages = 0
    for kind in ("commitments", "arrears", "findings"):
        for page in sorted((build / "docs" / kind).glob("*.md")):
            if not (page.name == "index.md" or page.name.startswith("page-")):
                continue
            pages += 1
            text = page.read_text(encoding="utf-8")
            body = text[text.index("<tbody>"):] if "<tbody>" in text else ""
            rows = len(re.findall(r"<tr data-", body))
            assert rows <= PER_PAGE, (page, rows)
    assert pages >= 3  # paging itself (page-2.md …) is tested in test_render.py


@pytest.mark.slow
def test_rebuild_after_one_change_equals_a_full_build(tmp_path):
    """The preview case: a rebuild renders only the changed pages again, and the result is
    byte for byte what a full build of the same data gives (search index and sitemap included)."""
    from generator.publish import build_site

    data = tmp_path / "data"
    generate(data, 60, seed=SEED)
    site, build = tmp_path / "site", tmp_path / "build"
    first = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)

    record = sorted((data / "commitments").glob("*.yaml"))[3]
    text = record.read_text(encoding="utf-8")
    record.write_text(re.sub(r"^title: (.*)$", r"title: \1（已修改）", text, count=1, flags=re.M), encoding="utf-8")
    (data / "findings" / sorted(p.name for p in (data / "findings").glob("*.yaml"))[0]).unlink()
    again = build_site(data, site, as_of=AS_OF, history=False, build_dir=build)
    assert again.pages_written < first.pages_written / 3  # the changed pages and the lists that show them

    full = build_site(data, tmp_path / "full", as_of=AS_OF, history=False, build_dir=tmp_path / "build-full")

    def tree(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    rebuilt, fresh = tree(site), tree(tmp_path / "full")
    assert sorted(rebuilt) == sorted(fresh)
    assert [k for k in fresh if rebuilt[k] != fresh[k]] == []
    assert "（已修改）" in (site / "commitments" / record.stem / "index.html").read_text(encoding="utf-8")


def test_the_benchmark_names_the_file_system_it_measured_on(tmp_path):
    """benchmarks/run.py prints where the builds wrote and what making one record page's folder
    cost just before: on an ext4 without a journal that cost follows the disk's recent deletions
    (kernel ext4 recently_deleted()), and a reader of the figures must be able to see it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run", Path(__file__).parent.parent / "benchmarks" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    fs = bench.file_system(tmp_path)
    if Path("/proc/mounts").is_file():
        assert fs["type"] != "?" and tmp_path.resolve().as_posix().startswith(fs["mount"])
    micro = bench.creation_probe(tmp_path, count=20)
    assert micro > 0 and len(list(tmp_path.glob(".probe-*/*/index.html"))) == 20
    info = {"cpu": "c", "cores": 2, "ram": "1 GiB", "system": "s", "python": "3", "libyaml": True, "packages": {},
            "file_system": {"mount": "/mnt/j", "type": "ext4", "device": "/dev/loop0", "journal": True},
            "probes": {1000: 61.4}}
    assert ("Work folder: ext4, with a journal (/dev/loop0 on /mnt/j); making a folder with one file: "
            "61 µs before the 1,000-record builds") in bench.report([], None, info)


def test_the_benchmark_compiles_the_code_it_times_ahead(tmp_path, monkeypatch):
    """A build imports most of the package lazily, inside its timed stages: without bytecode
    (PYTHONDONTWRITEBYTECODE, set on some machines) each run would compile them again, which
    an installed package never does. compile_ahead writes it for the code under test."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run", Path(__file__).parent.parent / "benchmarks" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    (tmp_path / "generator").mkdir()
    (tmp_path / "generator" / "stage.py").write_text("VALUE = 1\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    bench.compile_ahead(tmp_path)
    assert [p.name.split(".")[0] for p in (tmp_path / "generator" / "__pycache__").glob("*.pyc")] == ["stage"]
