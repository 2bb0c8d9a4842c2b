"""Stage 1 — load: read the data folder into tables of raw text cells.

YAML records and CSV ledgers become the same thing here: rows of text values
(None where empty) in the tables the schema describes, each row knowing its
file and line, each YAML cell its own line. Types are the validator's job, so
YAML is read without PyYAML's own typing (no float money, no `yes` turning
into True, no dates in a zone): every scalar stays the text staff typed.

The YAML reader builds on libyaml's composer where available (measured 0.4 ms
a file against 2.6 ms for the pure-Python loader) and walks the node tree
itself so that it can
- keep the source line of every value,
- reject duplicate keys (PyYAML silently keeps the last one: data loss),
- refuse anchors and aliases (a billion-laughs bomb costs nothing to refuse).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import marshal
import os
import re
import sys
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import yaml

from generator import collector
from generator.datadir import UnsafeFile, folder_is_inside, is_regular as path_is_regular, read_bytes as read_data_file
from generator.problems import WARNING, Problem
from generator.schema import Package, Resource, load_package

try:  # libyaml: the same grammar, about six times faster
    from yaml import CBaseLoader as _YamlLoader
except ImportError:  # pragma: no cover - libyaml is in every PyYAML wheel we support
    from yaml import BaseLoader as _YamlLoader  # type: ignore[assignment]



class _TaggingLoader(_YamlLoader):
    """libyaml's composer with the base resolver's answers given directly. The base resolver
    has no implicit and no path resolvers, so it tags every node with its kind's default tag
    (str, seq, map) whatever its value: the tags are the same, without two Python calls per
    node into the general resolver (141,000 calls for 3,000 records). Used only while the
    base loader has no resolver added (_tagging_loader)."""

    _DEFAULT_TAGS = {yaml.ScalarNode: _YamlLoader.DEFAULT_SCALAR_TAG, yaml.SequenceNode: _YamlLoader.DEFAULT_SEQUENCE_TAG,
                     yaml.MappingNode: _YamlLoader.DEFAULT_MAPPING_TAG}

    def descend_resolver(self, current_node, current_index):
        return None

    def ascend_resolver(self):
        return None

    def resolve(self, kind, value, implicit):
        return self._DEFAULT_TAGS[kind]


def _tagging_loader() -> type:
    """_TaggingLoader, unless something added an implicit or path resolver to the base loader."""
    if _YamlLoader.yaml_implicit_resolvers or _YamlLoader.yaml_path_resolvers:
        return _YamlLoader
    return _TaggingLoader


MAX_YAML_BYTES = 1_000_000
MAX_CSV_BYTES = 200_000_000
MAX_YAML_DEPTH = 12
_NULLS = {"", "~", "null", "Null", "NULL"}
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq", "tag:yaml.org,2002:timestamp",
}

Path_ = tuple  # a path into a YAML document: keys and list indexes


@dataclass
class YamlDoc:
    """A parsed YAML file: plain values (str, None, dict, list) and the line of each."""

    value: Any
    lines: dict[Path_, int]

    def line(self, path: Path_) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


class Table:
    """Rows of one resource, as text, with where each came from.

    A CSV ledger is kept column by column as read (set_columns): the validator types and
    checks whole columns, and a 100,000-row ledger never needs a dict per row. `rows` (one
    dict per row, keys in the file's column order) is built from the columns the first time
    something asks for it (the importer, the review, a rule that looks at rows) and kept."""

    __slots__ = ("resource", "_rows", "_columns", "files", "lines", "cell_lines", "columns")

    def __init__(self, resource: Resource, rows: list[dict[str, str | None]] | None = None,
                 files: list[str] | None = None, lines: list[int] | None = None,
                 cell_lines: list[dict[str, int] | None] | None = None, columns: frozenset[str] | None = None):
        self.resource = resource
        self._rows: list[dict[str, str | None]] | None = [] if rows is None else rows
        #: field name → its cells in row order, in the file's column order (set_columns); None once rows exist
        self._columns: dict[str, list[str | None]] | None = None
        self.files: list[str] = [] if files is None else files
        self.lines: list[int] = [] if lines is None else lines
        self.cell_lines: list[dict[str, int] | None] = [] if cell_lines is None else cell_lines
        #: a CSV ledger read by column name (load(..., by_column_name=True)): the schema's columns its header has
        self.columns = columns

    def __len__(self) -> int:
        return len(self.files)

    def __repr__(self) -> str:
        return f"Table({self.resource.name!r}, {len(self)} rows)"

    @property
    def rows(self) -> list[dict[str, str | None]]:
        """One dict per row (field → text or None), in file order."""
        if self._rows is None:
            names = list(self._columns)
            self._rows = list(map(dict, map(zip, repeat(names), zip(*self._columns.values())))) if names \
                else [{} for _ in self.files]
            self._columns = None  # the rows may now be changed: they are the one copy
        return self._rows

    def set_columns(self, cells: dict[str, list[str | None]], file: str, lines: list[int]) -> None:
        """Hold the rows of one file column by column (the table must be empty)."""
        assert not self.files, "set_columns on a table that has rows"
        self._rows, self._columns = None, cells
        self.files = [file] * len(lines)
        self.lines = lines
        self.cell_lines = [None] * len(lines)

    def column_cells(self, names: list[str]) -> list[list[Any]]:
        """The cells of each named field, column by column (None where a row lacks the field).
        Lists the caller must not change when the table holds columns."""
        if self._columns is not None:
            n = len(self.files)
            return [self._columns[name] if name in self._columns else [None] * n for name in names]
        rows = self._rows
        if not rows:
            return [[] for _ in names]
        if len(names) > 1:
            try:
                # every row the loader builds holds every field: one transpose in C
                return [list(column) for column in zip(*map(itemgetter(*names), rows))]
            except KeyError:
                pass
        return [[row.get(name) for row in rows] for name in names]

    def cell(self, index: int, name: str) -> str | None:
        """The text of one cell (None where empty or absent), without building the rows."""
        if self._columns is not None:
            column = self._columns.get(name)
            return column[index] if column is not None else None
        return self._rows[index].get(name)

    def add(self, row: dict, file: str, line: int, cell_lines: dict[str, int] | None = None) -> None:
        self.rows.append(row)
        self.files.append(file)
        self.lines.append(line)
        self.cell_lines.append(cell_lines)

    def where(self, index: int, field_name: str | None = None) -> tuple[str, int]:
        cells = self.cell_lines[index]
        if cells and field_name in cells:
            return self.files[index], cells[field_name]
        return self.files[index], self.lines[index]


@dataclass
class RawData:
    data_dir: Path
    package: Package
    tables: dict[str, Table]
    site: YamlDoc | None
    calendar: YamlDoc | None
    problems: list[Problem]


class _YamlError(Exception):
    def __init__(self, line: int, message: str, hint: str = ""):
        self.line, self.message, self.hint = line, message, hint


# --- reading files -------------------------------------------------------------------


def _rel(path: Path, data_dir: Path) -> str:
    try:
        return path.relative_to(data_dir).as_posix()
    except ValueError:
        return path.as_posix()


def read_text(path: Path, rel: str, limit: int, problems: list[Problem], data_root: Path | None = None, *,
              folder_checked: bool = False) -> str | None:
    """The file's text, or None (with a problem) when it cannot be read as UTF-8.
    folder_checked: as for datadir.read_bytes (the caller checked the file's folder)."""
    try:
        size = path.lstat().st_size
        if size > limit and path_is_regular(path):
            problems.append(Problem(rel, None, None, f"文件过大（{size / 1e6:.1f} MB），超过 {limit / 1e6:.0f} MB 的上限",
                                    "请检查是否误存了其他文件；大量数据请分文件保存"))
            return None
        # only a regular file inside the data folder: never a symlink (out of the repository),
        # a FIFO (hangs) or a device (/dev/zero never ends)
        data = read_data_file(path, data_root or path.parent, limit, rel, folder_checked=folder_checked)
    except UnsafeFile as exc:
        problems.append(Problem(rel, None, None, str(exc).removeprefix(f"{rel}："), "请换成普通文件后重新运行", code="unsafe-file"))
        return None
    except OSError as exc:
        problems.append(Problem(rel, None, None, f"无法读取文件：{exc.strerror or exc}", "请检查文件是否存在、是否有读取权限"))
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.append(Problem(rel, 1, None, "文件是 UTF-16 编码（Excel“Unicode 文本”）", "请另存为“CSV UTF-8”或使用 generator import 导入 Excel 台账"))
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem(rel, 1, None, "文件以 UTF-8 BOM（字节顺序标记）开头", "请用“UTF-8（无 BOM）”重新保存；Excel 台账请用 generator import 导入", code="bom"))
        data = data[3:]
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        problems.append(Problem(rel, line, None, "文件含有二进制内容（NUL 字节），不是文本文件", "请确认保存的是纯文本的 YAML/CSV 文件"))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        try:
            data.decode("gb18030")
            msg = "文件不是 UTF-8 编码，看起来是 GBK/GB18030（Windows 记事本或 Excel 的默认编码）"
        except UnicodeDecodeError:
            msg = "文件不是 UTF-8 编码"
        problems.append(Problem(rel, line, None, msg, "请用编辑器“另存为 UTF-8（无 BOM）”后再提交", code="encoding"))
        return None


# --- YAML ----------------------------------------------------------------------------

_YAML_PROBLEMS = {
    "found unexpected end of stream": ("引号没有闭合，文件在找到配对的引号之前就结束了", "请检查本行或上文的引号是否成对"),
    "mapping values are not allowed here": ("此处不能出现“键: 值”", "冒号后面要有空格；值里含英文冒号时请给整个值加引号"),
    "could not find expected ':'": ("缺少“键: 值”中的冒号，或上一行的引号没有闭合", "请检查本行和上一行"),
    "did not find expected key": ("缩进不一致，找不到预期的键", "同一层级的键要对齐，列表项以“- ”开头"),
    "did not find expected '-' indicator": ("列表缩进不一致", "同一列表的各项要以对齐的“- ”开头"),
    "found undefined alias": ("引用了未定义的别名（*）", "记录中不使用锚点和别名，请直接写出值"),
    "found unexpected ':'": ("出现了多余的冒号", "值里含英文冒号时请给整个值加引号"),
    "found unknown escape character": ("双引号字符串里有无效的转义符（\\）", "改用单引号，或把 \\ 写成 \\\\"),
}


def _translate_yaml_error(exc: yaml.YAMLError, text: str) -> tuple[int, str, str]:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = str(getattr(exc, "problem", "") or exc)
    source_lines = text.splitlines()
    if "cannot start any token" in problem and line <= len(source_lines) and "\t" in source_lines[line - 1]:
        return line, "YAML 中不能用制表符（Tab）缩进", "请把行首的 Tab 换成空格"
    for key, (message, hint) in _YAML_PROBLEMS.items():
        if key in problem:
            return line, message, hint
    return line, f"YAML 语法错误（{problem}）", "请对照其他记录文件检查缩进、冒号和引号"


def _refuse_alias(node: yaml.Node, seen: set, line: int) -> None:
    if id(node) in seen:
        raise _YamlError(line, "不允许使用锚点和别名（& 与 *）", "请把被引用的内容直接写出来")


def _walk(node: yaml.Node, path: Path_, lines: dict, seen: set, depth: int) -> Any:
    if id(node) in seen:
        raise _YamlError(node.start_mark.line + 1, "不允许使用锚点和别名（& 与 *）", "请把被引用的内容直接写出来")
    seen.add(id(node))
    if depth > MAX_YAML_DEPTH:
        raise _YamlError(node.start_mark.line + 1, "嵌套层级过深", f"记录的嵌套不超过 {MAX_YAML_DEPTH} 层")
    if node.tag not in _STANDARD_TAGS and not (isinstance(node, yaml.ScalarNode) and node.tag == "!"):
        raise _YamlError(node.start_mark.line + 1, f"不支持 YAML 标签 {node.tag}", "请去掉以 ! 开头的标签，直接写值")
    if isinstance(node, yaml.ScalarNode):
        if not node.style and node.value in _NULLS:  # plain (unquoted) null
            return None
        return node.value
    if isinstance(node, yaml.SequenceNode):
        out = []
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _refuse_alias(item, seen, item.start_mark.line + 1)
            out.append(_walk(item, path + (i,), lines, seen, depth + 1))
        return out
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise _YamlError(line, "键必须是简单的文字", "请检查本行的写法")
            if key_node.value == "<<":
                raise _YamlError(line, "不允许使用合并键（<<）", "请把内容直接写出来")
            key = key_node.value
            if key in out:
                raise _YamlError(line, f"键“{key}”重复出现（第 {first_line[key]} 行已有）",
                                 "同一记录中每个键只能写一次；YAML 会悄悄丢掉前一个值")
            first_line[key] = line
            lines[path + (key,)] = line
            _refuse_alias(value_node, seen, line)
            out[key] = _walk(value_node, path + (key,), lines, seen, depth + 1)
        return out
    raise _YamlError(node.start_mark.line + 1, "无法识别的 YAML 内容")  # pragma: no cover


#: A key followed by a full-width colon (title：…), as a Chinese input method types it.
_FULL_WIDTH_KEY = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*：")


def _full_width_colon(text: str) -> _YamlError | None:
    """YAML reads `title：x` as one plain text, not a key: name the colon before anything else."""
    if "：" not in text:
        return None
    for n, line in enumerate(text.splitlines(), 1):
        m = _FULL_WIDTH_KEY.match(line)
        if m:
            key = m.group(1)
            return _YamlError(n, f"“{key}：”用了全角冒号（：）", f"YAML 的键后面要用半角冒号加空格，应写作“{key}: ”")
    return None


def parse_yaml(text: str) -> YamlDoc:
    """Parse one YAML document; raises _YamlError with a Chinese message."""
    colon = _full_width_colon(text)
    if colon is not None:
        raise colon
    loader = _tagging_loader()(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise _YamlError(*_translate_yaml_error(exc, text)) from None
    finally:
        loader.dispose()
    if node is None:
        return YamlDoc(None, {(): 1})
    lines: dict[Path_, int] = {(): node.start_mark.line + 1}
    return YamlDoc(_walk(node, (), lines, set(), 0), lines)


class YamlCache:
    """Each YAML record file of the last load as _flatten made it, its rows and problems, by the
    SHA-1 of the file's text and the shape of the resource it fills (_shape_identity): a
    rebuild's data folder is the last one's but for a file or two, and parsing and flattening
    3,000 records costs about 0.3 s, looking them up here a fifth of that.

    Kept in one file (marshal: plain values only, no code runs on reading it) together
    with the Python version and this module's code, which made the rows: a cache written
    by other code, a damaged or foreign file is ignored (every file is parsed). Only files
    that parse are kept (a file with an error is parsed again, so its message is made the
    same way every time), and only the texts read by the last load: a record removed from
    the data folder leaves the cache at the next build."""

    # 1: the parses as objects (at 100,000 records the collector's passes over them cost 3-4 s);
    # 2: the parses (value and lines), each flattened again by every load
    _FORMAT = 3

    def __init__(self, path: Path):
        self.path = Path(path)
        self.common = hashlib.sha1(repr((self._FORMAT, sys.version)).encode() + Path(__file__).read_bytes()).hexdigest()
        # Each record is kept as its own marshal bytes, not as objects: bytes are not tracked by
        # the cyclic garbage collector, so a load that keeps 30,000 records (100,000 records)
        # does not make every later collection walk them, and saving is one join.
        self.old: dict[str, bytes] = {}
        self.new: dict[str, bytes] = {}
        try:
            with open(self.path, "rb") as fh:
                saved = marshal.load(fh)
            if isinstance(saved, dict) and saved.get("common") == self.common and isinstance(saved.get("records"), dict):
                self.old = saved["records"]
        except (OSError, EOFError, ValueError, TypeError):
            pass

    @staticmethod
    def _key(text: str, shape: str) -> str:
        return f"{shape}:{hashlib.sha1(text.encode('utf-8', 'surrogatepass')).hexdigest()}"

    def record(self, text: str, shape: str) -> tuple[list, list] | None:
        """What keep_record kept for a record file of this text filling a resource of this shape."""
        key = self._key(text, shape)
        entry = self.new.get(key) or self.old.get(key)
        if not isinstance(entry, bytes):
            return None
        try:
            rows, problems = marshal.loads(entry)
        except (EOFError, ValueError, TypeError):
            return None
        if not (isinstance(rows, list) and isinstance(problems, list)
                and all(type(r) is tuple and len(r) == 4 for r in rows)
                and all(type(p) is tuple and len(p) == 6 for p in problems)):
            return None
        self.new[key] = entry
        return rows, problems

    def keep_record(self, text: str, shape: str, rows: list, problems: list) -> tuple[list, list]:
        """Keep a record file's rows ((table, row, line, cells' lines) each) and problems ((line,
        field, message, hint, severity, code) each); returns them as record() will (a copy
        made through marshal: the same values, shared the same way, as every later load's)."""
        entry = marshal.dumps((rows, problems))
        self.new[self._key(text, shape)] = entry
        return marshal.loads(entry)

    def save(self) -> None:
        if self.new.keys() == self.old.keys():
            return
        from generator.files import write_if_changed

        write_if_changed(self.path, marshal.dumps({"common": self.common, "records": self.new}))


def read_yaml(path: Path, data_dir: Path, problems: list[Problem], rel: str | None = None, *,
              folder_checked: bool = False) -> YamlDoc | None:
    rel = rel or _rel(path, data_dir)
    text = read_text(path, rel, MAX_YAML_BYTES, problems, data_dir, folder_checked=folder_checked)
    if text is None:
        return None
    return _parsed(text, rel, problems)


def _parsed(text: str, rel: str, problems: list[Problem]) -> YamlDoc | None:
    try:
        return parse_yaml(text)
    except _YamlError as exc:
        problems.append(Problem(rel, exc.line, None, exc.message, exc.hint, code="yaml"))
        return None


_KIND_NAMES = {list: "列表", str: "单个值", type(None): "空文件"}


_SHAPES: dict[tuple[int, str], tuple] = {}


def _shape(package: Package, resource: Resource):
    """What keys a record of `resource` may have, and how its fields and lists are read;
    computed once per resource, not per record."""
    cached = _SHAPES.get((id(package), resource.name))
    if cached is not None and cached[0] is package:  # (an id is only unique while its object lives)
        return cached[1:]
    children = package.children_of(resource.name)
    child_keys = {key: child for child in children for key in child.source.keys}
    known_heads = {f.yaml_path[0] for f in resource.fields} | set(child_keys)
    nested: dict[str, set[str]] = {}  # change → {decided_on, basis, compensation}
    for f in resource.fields:
        if len(f.yaml_path) > 1:
            nested.setdefault(f.yaml_path[0], set()).add(f.yaml_path[1])
    # each field: its name, its path in the record, whether its text is stripped (not a string)
    fields = tuple((f.name, f.yaml_path, f.type != "string") for f in resource.fields)
    # each list of child rows: its key, table, constant fields, the field naming the parent and
    # the names of the fields a row fills (one: an entry may be written as a bare value)
    lists = tuple((key, child, child.source.keys[key], child.fields[0].name,
                   [f.name for f in child.fields if f.name != child.fields[0].name and f.name not in child.source.keys[key]])
                  for key, child in child_keys.items())
    shape = (children, child_keys, known_heads, nested, fields, lists)
    _SHAPES[(id(package), resource.name)] = (package, *shape)
    return shape


def _flatten(doc: YamlDoc, base: Path_, item: dict, resource: Resource, package: Package,
             tables: dict[str, Table], rel: str, problems: list[Problem],
             extra_fields: dict[str, str] | None = None) -> None:
    """One record (a mapping) → a row of `resource` plus rows of its child tables.
    (3,000 records and 7,000 list entries at 10,000 records: the shape of each resource is
    worked out once, and each cell's line is looked up directly, not walked up to.)"""
    _, _, known_heads, nested, fields, lists = _shape(package, resource)
    for key in item:
        if key not in known_heads:
            guess = difflib.get_close_matches(key, sorted(known_heads), n=1)
            hint = f"是不是“{guess[0]}”？" if guess else f"可用的键：{'、'.join(sorted(known_heads))}"
            problems.append(Problem(rel, doc.line(base + (key,)), key, f"未知的键“{key}”", hint, code="unknown-key"))
        elif key in nested and item[key] is not None:
            if not isinstance(item[key], dict):
                problems.append(Problem(rel, doc.line(base + (key,)), key, "应为“键: 值”的映射",
                                        f"可包含：{'、'.join(sorted(nested[key]))}"))
                continue
            for sub in item[key]:
                if sub not in nested[key]:
                    guess = difflib.get_close_matches(sub, sorted(nested[key]), n=1)
                    hint = f"是不是“{guess[0]}”？" if guess else f"可用的键：{'、'.join(sorted(nested[key]))}"
                    problems.append(Problem(rel, doc.line(base + (key, sub)), f"{key}.{sub}", f"未知的键“{sub}”", hint, code="unknown-key"))

    lines = doc.lines
    base_line = doc.line(base)  # the line of every path under base that has none of its own (doc.line)
    row: dict[str, str | None] = dict(extra_fields) if extra_fields else {}
    cells: dict[str, int] = {}
    for name, yaml_path, strip in fields:
        if name in row:
            continue
        path = base + yaml_path
        line = lines.get(path)
        if len(yaml_path) == 1:
            value = item.get(yaml_path[0])
            if line is None:
                line = base_line
        else:
            value = item
            for part in yaml_path:
                value = value.get(part) if isinstance(value, dict) else None
            if line is None:
                line = doc.line(path)
        cells[name] = line
        if isinstance(value, (dict, list)):
            problems.append(Problem(rel, line, ".".join(yaml_path), "应为单个值，不能是列表或映射",
                                    f"请写成“{yaml_path[-1]}: 值”"))
            value = None
        row[name] = value.strip() if strip and isinstance(value, str) else value
    tables[resource.name].add(row, rel, base_line, cells)

    parent_id = row.get(resource.primary_key[0]) if resource.primary_key else None
    for key, child, constants, parent_field, free in lists:
        items = item.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(Problem(rel, doc.line(base + (key,)), key, "应为列表（每项以“- ”开头）",
                                    "没有内容时写 [] 或删除这一行"))
            continue
        for i, entry in enumerate(items):
            path = base + (key, i)
            fixed = {parent_field: parent_id, **constants}
            if isinstance(entry, dict):
                _flatten(doc, path, entry, child, package, tables, rel, problems, fixed)
            elif isinstance(entry, str) and len(free) == 1:
                cells_child = dict.fromkeys((f.name for f in child.fields), doc.line(path))
                tables[child.name].add({**fixed, free[0]: entry.strip()}, rel, doc.line(path), cells_child)
            elif entry is None:
                problems.append(Problem(rel, doc.line(path), key, "列表中有空项", "请删除空的“- ”行"))
            else:
                names = "、".join(free)
                problems.append(Problem(rel, doc.line(path), key, "列表项的格式不对", f"每项应包含：{names}"))


def _load_yaml_records(resource: Resource, package: Package, data_dir: Path,
                       tables: dict[str, Table], problems: list[Problem], cache: YamlCache | None = None) -> None:
    folder = data_dir / resource.source.path
    if folder.is_symlink():
        problems.append(Problem(resource.source.path, None, None, f"记录文件夹 {resource.source.path}/ 是符号链接，已拒绝读取",
                                "数据文件夹中只能放普通文件和文件夹：请把记录放进真实的文件夹", code="unsafe-file"))
        return
    if not folder.is_dir():
        problems.append(Problem(resource.source.path, None, None, f"缺少记录文件夹 {resource.source.path}/", "请创建该文件夹（可以为空）"))
        return
    prefix = resource.source.path
    # the folder is checked once for its thousands of records (a failing check is reported
    # for each file, as before: then every file is checked on its own)
    checked = folder_is_inside(folder, data_dir)
    if cache is not None:
        shape = _shape_identity(package, resource)
        noted: list = []  # the rows of the record being flattened (_Noting)
        noting = {name: _Noting(name, noted) for name in tables}
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        rel = f"{prefix}/{path.name}"
        if path.name.startswith(".") or path.is_dir():
            continue
        if path.suffix == ".yml":
            problems.append(Problem(rel, None, None, "扩展名应为 .yaml", f"请改名为 {path.stem}.yaml"))
            continue
        if path.suffix != ".yaml":
            problems.append(Problem(rel, None, None, "记录文件夹中有非 YAML 文件，已忽略", "请移走该文件", severity=WARNING))
            continue
        if cache is None:
            doc = read_yaml(path, data_dir, problems, rel, folder_checked=checked)
            if doc is not None:
                _record(doc, resource, package, tables, rel, problems)
            continue
        text = read_text(path, rel, MAX_YAML_BYTES, problems, data_dir, folder_checked=checked)
        if text is None:
            continue
        found = cache.record(text, shape)
        if found is None:
            doc = _parsed(text, rel, problems)
            if doc is None:
                continue
            noted.clear()
            mine: list[Problem] = []
            _record(doc, resource, package, noting, rel, mine)
            found = cache.keep_record(text, shape, noted, [(p.line, p.field, p.message, p.hint, p.severity, p.code)
                                                           for p in mine])
        rows, found_problems = found
        for name, row, line, cells in rows:
            tables[name].add(row, rel, line, cells)
        problems.extend(Problem(rel, *p) for p in found_problems)


def _record(doc: YamlDoc, resource: Resource, package: Package, tables, rel: str, problems: list[Problem]) -> None:
    """One record file's rows and problems (a file holding anything but a mapping is a problem)."""
    if not isinstance(doc.value, dict):
        kind = _KIND_NAMES.get(type(doc.value), "其他内容")
        problems.append(Problem(rel, 1, None, f"文件内容应是一条记录（“键: 值”的映射），实际是{kind}",
                                "请参照同一文件夹中的其他记录，或用 generator new 生成模板"))
        return
    _flatten(doc, (), doc.value, resource, package, tables, rel, problems)


class _Noting:
    """Stands in for a table while a record file is flattened for the cache: notes each row
    added, with its table's name, in a list shared by all tables (the file is the same)."""

    __slots__ = ("name", "rows")

    def __init__(self, name: str, rows: list):
        self.name, self.rows = name, rows

    def add(self, row: dict, file: str, line: int, cell_lines: dict[str, int] | None = None) -> None:
        self.rows.append((self.name, row, line, cell_lines))


def _shape_identity(package: Package, resource: Resource) -> str:
    """Everything _flatten reads of the schema for a record of `resource`: the resource and
    its child resources (and theirs), as text (the cached rows of a record are keyed by it)."""
    closure = [resource]
    for r in closure:
        closure.extend(c for c in package.children_of(r.name) if c not in closure)
    return hashlib.sha1(repr(closure).encode()).hexdigest()


def _load_yaml_list(resource: Resource, package: Package, data_dir: Path,
                    tables: dict[str, Table], problems: list[Problem]) -> None:
    path = data_dir / resource.source.path
    rel = resource.source.path
    if not os.path.lexists(path):
        problems.append(Problem(rel, None, None, f"缺少文件 {rel}", "请从示例数据复制后修改"))
        return
    doc = read_yaml(path, data_dir, problems)
    if doc is None:
        return
    key = resource.source.key
    items = doc.value.get(key) if isinstance(doc.value, dict) else None
    if not isinstance(items, list):
        problems.append(Problem(rel, 1, key, f"文件应包含“{key}:”列表", f"格式：{key}: 后面每项以“- ”开头"))
        return
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(Problem(rel, doc.line((key, i)), key, "列表项应是“键: 值”的映射"))
            continue
        _flatten(doc, (key, i), item, resource, package, tables, rel, problems)


def _load_csv(resource: Resource, data_dir: Path, tables: dict[str, Table], problems: list[Problem],
              by_column_name: bool = False) -> None:
    rel = resource.source.path
    path = data_dir / rel
    if not os.path.lexists(path):
        if not resource.source.optional:
            problems.append(Problem(rel, None, None, f"缺少文件 {rel}", f"表头应为：{','.join(resource.field_names)}"))
        return
    text = read_text(path, rel, MAX_CSV_BYTES, problems, data_dir)
    if text is None:
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        problems.append(Problem(rel, 1, None, f"表头无法解析：{exc}", "请检查引号是否成对"))
        return
    if not header:
        problems.append(Problem(rel, 1, None, "文件是空的，没有表头", f"第一行应为：{','.join(resource.field_names)}"))
        return
    header = [h.strip() for h in header]
    names = resource.field_names
    if by_column_name:
        _read_by_column_name(resource, rel, header, reader, tables[resource.name], problems)
        return
    titles = {f.title: f.name for f in resource.fields}
    header_ok = True
    for col in header:
        if col in names:
            continue
        header_ok = False
        if col in titles:
            problems.append(Problem(rel, 1, col, f"表头使用了中文标题“{col}”", f"表头应写字段名 {titles[col]}（中文标题只用于网站和导入的 Excel）", code="header"))
        else:
            guess = difflib.get_close_matches(col, names, n=1)
            hint = f"是不是 {guess[0]}？" if guess else f"可用的列：{','.join(names)}"
            problems.append(Problem(rel, 1, col or "（空列名）", f"多余或未知的列“{col}”", hint, code="header"))
    for name in names:
        if name not in header:
            header_ok = False
            problems.append(Problem(rel, 1, name, f"缺少列 {name}（{resource.field(name).title}）", "请在表头补上这一列（没有值的格子可以留空）", code="header"))
    if len(set(header)) != len(header):
        header_ok = False
        dup = sorted({h for h in header if header.count(h) > 1})
        problems.append(Problem(rel, 1, dup[0], "表头中有重复的列", "每列只能出现一次", code="header"))
    if not header_ok:
        return
    table = tables[resource.name]
    columns = _csv_columns(text, header)
    if columns is not None:
        cells, count = columns
        table.set_columns(cells, rel, list(range(2, count + 2)))
        return
    for start, values in _data_rows(reader, rel, len(header), problems):
        table.add({h: (v.strip() or None) for h, v in zip(header, values)}, rel, start)


def _csv_columns(text: str, header: list[str]) -> tuple[dict[str, list[str | None]], int] | None:
    """The data rows of a well-formed CSV file as columns (header name → cells, stripped, None
    where empty) and their number (data row k is on line k + 2); None when the file needs the
    row-by-row reading of _data_rows (a blank line, a row of the wrong width, a cell across
    lines, a csv error), which then reports what it finds in its own words.

    The rows are read in one call and turned into columns in C: a 100,000-row ledger costs no
    Python step per row (and no dict per row: see Table). A file without a double quote or a
    carriage return (what the generator, `generator import` and most editors write) is split
    on its line feeds and commas, which is what the csv module reads from it; any other goes
    through the csv module. The cyclic garbage collector is paused meanwhile: the rows are
    hundreds of thousands of fresh lists, none in a cycle, that it would scan again and again."""
    with collector.paused():
        if '"' not in text and "\r" not in text:
            records = text.split("\n")
            if records[-1] == "":
                records.pop()  # the last line's line feed ends it, as in the csv module
            if max(map(len, records), default=0) > csv.field_size_limit():
                return None  # a cell the csv module would refuse: let it say so
            records = list(map(str.split, records, repeat(",")))
        else:
            reader = csv.reader(io.StringIO(text, newline=""), strict=True)
            try:
                records = list(reader)
            except csv.Error:
                return None
            # one physical line per record (no cell spans lines), so data row k is on line k + 2
            if reader.line_num != len(records):
                return None
        if len(records) < 2:
            return None
        del records[0]
        width = len(header)
        if width == 1 or set(map(len, records)) != {width}:
            return None  # a blank line ([]), a row of the wrong width, or a one-column file's blank cells
        out: dict[str, list[str | None]] = {}
        for name, column in zip(header, zip(*records)):
            cells = list(map(str.strip, column))
            if "" in cells:
                cells = [v or None for v in cells]
            out[name] = cells
        return out, len(records)


def _data_rows(reader, rel: str, width: int, problems: list[Problem]):
    """(line, values) of each data row after the header: blank lines skipped, a row of the
    wrong width or a row the csv module cannot parse reported (it ends the file)."""
    line = reader.line_num
    try:
        for values in reader:
            start, line = line + 1, reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            if len(values) != width:
                problems.append(Problem(rel, start, None, f"此行有 {len(values)} 个值，而表头有 {width} 列",
                                        "可能多了或少了逗号；含逗号的文本请用英文双引号括起来", code="row-width"))
                continue
            yield start, values
    except csv.Error as exc:
        problems.append(Problem(rel, line + 1, None, f"无法解析此行：{exc}", "请检查引号是否成对"))


def _read_by_column_name(resource: Resource, rel: str, header: list[str], reader, table: Table,
                         problems: list[Problem]) -> None:
    """A ledger written under an older (or newer) schema: the columns both know, by name.

    Columns the schema does not know are left out, columns the header lacks stay empty;
    table.columns says which of the schema's columns the file had, so that a comparison
    of two versions compares only those (generator/review.py)."""
    known = [i for i, h in enumerate(header) if h in resource.field_names and header.index(h) == i]
    table.columns = frozenset(header[i] for i in known)
    for start, values in _data_rows(reader, rel, len(header), problems):
        row = dict.fromkeys(resource.field_names)
        row.update({header[i]: (values[i].strip() or None) for i in known})
        table.add(row, rel, start)


def load(data_dir: Path, package: Package | None = None, *, by_column_name: bool = False,
         yaml_cache: Path | None = None) -> RawData:
    """Read every record under `data_dir` into raw tables; never raises for bad data.

    by_column_name: read CSV ledgers by their header's column names, tolerating missing and
    unknown columns (a published version written under an older schema); ordinary loading
    reports such a header as a problem and reads no row. yaml_cache: a file that keeps the
    YAML records' rows for the next load (YamlCache; rewritten when they changed)."""
    # Tens of thousands of rows and cells, none of them in a reference cycle and all alive until
    # the build ends: the cyclic garbage collector would scan them again and again (as in validate).
    with collector.paused():
        return _load(data_dir, package, by_column_name, yaml_cache)


def _load(data_dir: Path, package: Package | None, by_column_name: bool, yaml_cache: Path | None) -> RawData:
    package = package or load_package()
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    tables = {r.name: Table(r) for r in package.resources}
    if not data_dir.is_dir():
        problems.append(Problem(str(data_dir), None, None, "找不到数据文件夹", "请用 --data 指定数据文件夹"))
        return RawData(data_dir, package, tables, None, None, problems)

    site = None
    if os.path.lexists(data_dir / "site.yaml"):
        site = read_yaml(data_dir / "site.yaml", data_dir, problems)
    else:
        problems.append(Problem("site.yaml", None, None, "缺少站点设置文件 site.yaml", "请从示例数据复制 data/site.yaml 后修改"))
    calendar = read_yaml(data_dir / "calendar.yaml", data_dir, problems) if os.path.lexists(data_dir / "calendar.yaml") else None
    cache = YamlCache(yaml_cache) if yaml_cache is not None else None

    for resource in package.resources:
        kind = resource.source.kind
        if kind == "csv":
            _load_csv(resource, data_dir, tables, problems, by_column_name)
        elif kind == "yaml-records":
            _load_yaml_records(resource, package, data_dir, tables, problems, cache)
        elif kind == "yaml-list":
            _load_yaml_list(resource, package, data_dir, tables, problems)
    if cache is not None:
        cache.save()
    return RawData(data_dir, package, tables, site, calendar, problems)
