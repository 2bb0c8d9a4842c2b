"""The loader: every bad input gives a Chinese problem naming file and line, never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from generator.load import load, parse_yaml
from tests.conftest import edit, problems_of


def only(problems, file: str):
    found = [p for p in problems if p.file == file]
    assert found, f"no problem reported for {file}: {problems}"
    return found


def test_yaml_values_stay_text_with_their_lines():
    doc = parse_yaml("id: CM-2024-001\namount: 1234.50\nflag: yes\nprogress:\n  - date: 2024-03-01\n    note: 签约\nempty:\n")
    assert doc.value["amount"] == "1234.50"  # no float on the way: money stays exact
    assert doc.value["flag"] == "yes"  # not True: the schema decides what a boolean is
    assert doc.value["empty"] is None
    assert doc.line(("progress", 0, "note")) == 6


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("id: a\nid: b\n", 2, "重复"),
        ("a: &x [1, 2]\nb: *x\n", 2, "锚点和别名"),
        ("a:\n\t- 1\n", 2, "制表符"),
        ('title: "没有结束\nstatus: 履行中\n', 3, "引号"),
        ("a: !!python/object:os.system x\n", 1, "标签"),
    ],
)
def test_malformed_yaml_is_explained(data_dir: Path, text: str, line: int, words: str):
    (data_dir / "commitments" / "CM-2024-001.yaml").write_text(text, encoding="utf-8")
    [problem] = only(problems_of(data_dir), "commitments/CM-2024-001.yaml")
    assert problem.line == line and words in problem.message


@pytest.mark.parametrize("text, kind", [("- a\n- b\n", "列表"), ("只是一句话\n", "单个值"), ("", "空文件")])
def test_a_record_must_be_a_mapping(data_dir: Path, text: str, kind: str):
    (data_dir / "findings" / "DF-2026-001.yaml").write_text(text, encoding="utf-8")
    [problem] = only(problems_of(data_dir), "findings/DF-2026-001.yaml")
    assert kind in problem.message and problem.line == 1


def test_gbk_file_is_named_as_such(data_dir: Path):
    path = data_dir / "commitments" / "CM-2024-001.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    [problem] = only(problems_of(data_dir), "commitments/CM-2024-001.yaml")
    assert "GBK" in problem.message and problem.line >= 1


def test_bom_is_an_error_with_the_fix(data_dir: Path):
    path = data_dir / "arrears" / "ledger.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    problems = only(problems_of(data_dir), "arrears/ledger.csv")
    assert any("BOM" in p.message and p.line == 1 for p in problems)


def test_csv_header_problems(data_dir: Path):
    path = data_dir / "arrears" / "ledger.csv"
    edit(path, "id,debtor,creditor,", "id,债务单位,creditor,")
    edit(path, ",interest_state\n", ",interest_state,extra\n")
    problems = only(problems_of(data_dir), "arrears/ledger.csv")
    messages = " ".join(p.message + p.hint for p in problems)
    assert "中文标题“债务单位”" in messages and "debtor" in messages
    assert "未知的列“extra”" in messages
    assert all(p.line == 1 for p in problems if p.code == "header")


def test_csv_row_with_a_missing_value_names_its_line(data_dir: Path):
    path = data_dir / "evaluations.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = ",".join(lines[3].split(",")[:-1]) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    [problem] = only(problems_of(data_dir), "evaluations.csv")
    assert problem.line == 4 and "表头有 10 列" in problem.message


def test_csv_row_the_parser_cannot_read_names_its_line(data_dir: Path):
    path = data_dir / "evaluations.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace(",", ',"x"y,', 1)  # a quote closed in the middle of a cell
    path.write_text("".join(lines), encoding="utf-8")
    problems = only(problems_of(data_dir), "evaluations.csv")
    assert any(p.line == 3 and "无法解析此行" in p.message for p in problems), problems


def test_a_published_ledger_read_by_column_name_reports_a_short_row(data_dir: Path):
    """validate --against reads the published version by column name (generator/review.py);
    its rows go through the same checks as the current files."""
    path = data_dir / "evaluations.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = ",".join(lines[3].split(",")[:-1]) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    [problem] = only(load(data_dir, by_column_name=True).problems, "evaluations.csv")
    assert problem.line == 4 and "表头有 10 列" in problem.message


def test_duplicate_id_across_files_names_both(data_dir: Path):
    source = (data_dir / "commitments" / "CM-2024-001.yaml").read_text(encoding="utf-8")
    (data_dir / "commitments" / "CM-2024-999.yaml").write_text(source, encoding="utf-8")
    problems = problems_of(data_dir)
    assert any(p.code == "duplicate" and "CM-2024-001.yaml" in p.message for p in problems)
    assert any("与文件名“CM-2024-999.yaml”不一致" in p.message for p in problems)


def test_an_id_cannot_point_outside_its_folder(data_dir: Path):
    edit(data_dir / "commitments" / "CM-2024-001.yaml", "id: CM-2024-001", "id: ../../outside/x")
    problems = only(problems_of(data_dir), "commitments/CM-2024-001.yaml")
    assert any(p.field == "id" and "格式不对" in p.message for p in problems)


def test_huge_file_is_refused_without_reading_it(data_dir: Path):
    path = data_dir / "commitments" / "CM-2024-001.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    start = time.perf_counter()
    [problem] = only(problems_of(data_dir), "commitments/CM-2024-001.yaml")
    assert "文件过大" in problem.message
    assert time.perf_counter() - start < 5


def test_billion_laughs_is_refused_in_bounded_time(data_dir: Path):
    levels = ["a: &a [" + ",".join(['"lol"'] * 10) + "]"]
    for i in range(1, 10):
        prev, name = chr(96 + i), chr(97 + i)
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    (data_dir / "findings" / "DF-2026-001.yaml").write_text("\n".join(levels) + "\n", encoding="utf-8")
    start = time.perf_counter()
    [problem] = only(problems_of(data_dir), "findings/DF-2026-001.yaml")
    assert "锚点和别名" in problem.message
    assert time.perf_counter() - start < 5


def test_unknown_key_gets_a_did_you_mean(data_dir: Path):
    edit(data_dir / "commitments" / "CM-2024-001.yaml", "deadline:", "dedline:")
    problems = only(problems_of(data_dir), "commitments/CM-2024-001.yaml")
    assert any(p.field == "dedline" and "deadline" in p.hint for p in problems)


def test_missing_data_folder_is_a_problem_not_a_crash(tmp_path: Path):
    raw = load(tmp_path / "nowhere")
    assert raw.problems and "找不到数据文件夹" in raw.problems[0].message


def _tree(node):
    """A composed YAML node as plain values: its kind, tag, value, style and line, all the way down."""
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return ("scalar", node.tag, node.value, node.style, node.start_mark.line)
    if isinstance(node, yaml.SequenceNode):
        return ("seq", node.tag, node.start_mark.line, [_tree(item) for item in node.value])
    return ("map", node.tag, node.start_mark.line, [(_tree(k), _tree(v)) for k, v in node.value])


def test_the_tagging_loader_composes_what_the_base_loader_composes():
    """load._TaggingLoader answers the resolver's questions itself: every node of every kind of
    document (plain, quoted and block scalars, nulls, numbers, dates, booleans, explicit tags,
    flow and block collections, anchors) gets the tag, value, style and line it got before."""
    import yaml

    from generator.load import _TaggingLoader, _YamlLoader, _tagging_loader

    texts = [
        "id: CM-2024-001\namount: 1234.50\nflag: yes\nday: 2024-03-01\nempty:\nnull_word: null\ntilde: ~\n",
        "title: '引号'\nnote: \"双引号\\n\"\ntext: |\n  第一行\n  第二行\nfolded: >\n  a\n  b\n",
        "list:\n  - 1\n  - two\n  - [3, 4.0, true]\n  - {a: b, c: ~}\nnested:\n  deep:\n    deeper: x\n",
        "a: !!str 12\nb: ! 13\nc: !custom x\nd: !!int '5'\n",
        "a: &x [1, 2]\nb: *x\n",
        "- 1\n- 2\n",
        "plain\n",
        "",
        "'': empty key\n? complex\n: value\n",
    ]
    assert _tagging_loader() is _TaggingLoader
    for text in texts:
        trees = []
        for cls in (_YamlLoader, _TaggingLoader):
            loader = cls(text)
            try:
                node = loader.get_single_node()
            finally:
                loader.dispose()
            trees.append(None if node is None else _tree(node))
        assert trees[0] == trees[1], text
    assert yaml.ScalarNode in _TaggingLoader._DEFAULT_TAGS


# --- the YAML records' cache (load.YamlCache) -------------------------------------------


def _loaded(raw):
    """Everything a load hands on: each table's rows with their files, lines and cells' lines, the problems."""
    tables = {name: (t.rows, t.files, t.lines, t.cell_lines) for name, t in raw.tables.items()}
    return tables, [p.text() for p in raw.problems]


def test_a_load_from_the_yaml_cache_is_the_load_without_it(data_dir: Path, tmp_path: Path):
    cache = tmp_path / "cache" / "yaml.marshal"
    first = load(data_dir, yaml_cache=cache)
    assert cache.is_file() and _loaded(first) == _loaded(load(data_dir))
    # A changed record (its lines move too), a file with an error, and a bad key: each exactly as without the cache.
    path = data_dir / "commitments" / "CM-2024-001.yaml"
    edit(path, "title:", "# 新的一行\ntitle:")
    (data_dir / "commitments" / "CM-2024-002.yaml").write_text("id: a\nid: b\n", encoding="utf-8")
    edit(data_dir / "commitments" / "CM-2024-003.yaml", "title:", "titel: 错字\ntitle:")
    for _ in range(2):  # the second time from the cache written by the first
        cached = load(data_dir, yaml_cache=cache)
        assert _loaded(cached) == _loaded(load(data_dir))
    problems = [p.text() for p in cached.problems]
    assert any("CM-2024-002.yaml:2" in t and "重复" in t for t in problems), problems
    assert any("CM-2024-003.yaml" in t and "titel" in t for t in problems), problems
    row = cached.tables["commitments"].files.index("commitments/CM-2024-001.yaml")
    assert cached.tables["commitments"].cell_lines[row]["title"] == path.read_text(encoding="utf-8").splitlines().index(
        next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("title:"))) + 1


def test_the_yaml_cache_keeps_only_the_records_of_the_last_load(data_dir: Path, tmp_path: Path):
    cache = tmp_path / "yaml.marshal"
    load(data_dir, yaml_cache=cache)
    path = data_dir / "findings" / "DF-2026-005.yaml"
    summary = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("summary:"))
    assert summary.split(":", 1)[1].strip().encode("utf-8") in cache.read_bytes()
    path.unlink()
    load(data_dir, yaml_cache=cache)
    assert b"DF-2026-005" not in cache.read_bytes()


def test_the_yaml_cache_keeps_a_records_rows_by_the_schema_that_made_them(data_dir: Path, tmp_path: Path):
    """A record file's rows are kept by its text and by what _flatten reads of the schema (the
    resource and its child resources): the same file read under another schema is flattened again."""
    import dataclasses

    from generator.schema import load_package

    def changed(package, resource_name: str, field_name: str, **changes):
        def fields(r):
            return tuple(dataclasses.replace(f, **changes) if f.name == field_name else f for f in r.fields)
        resources = tuple(dataclasses.replace(r, fields=fields(r)) if r.name == resource_name else r
                          for r in package.resources)
        return dataclasses.replace(package, resources=resources)

    path = data_dir / "commitments" / "CM-2024-001.yaml"
    text = path.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    edit(path, title, 'title: "  留有空格的标题  "')
    cache = tmp_path / "yaml.marshal"
    plain = load_package()
    packages = [plain, changed(plain, "commitments", "title", type="integer"),  # a type that is stripped
                changed(plain, "commitment_progress", "note", yaml_path=("text",))]  # a child's key
    loads = []
    for package in packages + packages[::-1]:
        cached = load(data_dir, package, yaml_cache=cache)
        assert _loaded(cached) == _loaded(load(data_dir, package))
        loads.append(_loaded(cached))
    assert loads[0] != loads[1] and loads[0] != loads[2] and loads[1] != loads[2]


@pytest.mark.parametrize("damage", [b"", b"garbage \x00\xff", None, "foreign"])
def test_a_damaged_or_foreign_yaml_cache_gives_the_load_without_it(data_dir: Path, tmp_path: Path, damage):
    import marshal

    cache = tmp_path / "yaml.marshal"
    load(data_dir, yaml_cache=cache)
    if damage is None:  # cut short
        cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    elif damage == "foreign":  # another version's cache, or a file someone put there, with wrong parses in it
        saved = marshal.loads(cache.read_bytes())
        saved["records"] = {key: marshal.dumps(([("commitments", {"id": "XX"}, 1, {})], []))
                            for key in saved["records"]}
        cache.write_bytes(marshal.dumps({**saved, "common": "another"}))
    else:
        cache.write_bytes(damage)
    assert _loaded(load(data_dir, yaml_cache=cache)) == _loaded(load(data_dir))
    assert _loaded(load(data_dir, yaml_cache=cache)) == _loaded(load(data_dir))  # and the cache written again is right
