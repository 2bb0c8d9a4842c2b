"""Problems found in the records, and the exceptions that end a run.

Problems are data: the same objects feed the terminal, the JSON output and the
GitHub Actions annotations. Every message is Simplified Chinese and names the
file (relative to the data folder), the line and the field.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Iterable

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the records: where it is, what is wrong, what would be right."""

    file: str
    line: int | None
    field: str | None
    message: str
    hint: str = ""
    severity: str = ERROR
    code: str = "invalid"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def text(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        label = "" if self.is_error else " 提示："
        hint = f" — {self.hint}" if self.hint else ""
        return f"{where}:{field}{label} {self.message}{hint}"


class GeneratorError(Exception):
    """A run cannot go on; the message is Chinese and meant for staff."""

    exit_code = 2


class DataInvalid(GeneratorError):
    """The records have errors; the problems say which."""

    exit_code = 1

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        count = sum(p.is_error for p in problems)
        super().__init__(f"数据校验未通过：{count} 个错误。")


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Stable report order: by file, then line, then field."""
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.field or "", p.message))


def format_text(problems: list[Problem]) -> str:
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    lines = [escape_log(p.text()) for p in problems]
    if errors:
        lines.append(f"共 {errors} 个错误、{warnings} 个提示。请按提示修改后重新运行校验。")
    else:
        lines.append(f"校验通过：没有错误（{warnings} 个提示）。")
    return "\n".join(lines)


def _escape_annotation(text: str, is_property: bool = False) -> str:
    # The workflow-command escaping GitHub's runner expects.
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if is_property:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def escape_log(text: str) -> str:
    """Plain output (the terminal, a CI log) that the GitHub runner cannot read as a command.

    The runner takes a line that starts (after white space) with ``::`` as a workflow
    command (``::error …``, ``::add-mask::…``, ``::stop-commands::…``) and ``##[`` anywhere
    as the older form. A file name or value can carry either, or a line break that
    starts a new line. So: carriage returns are escaped as in annotations (%0D), every
    line starting with ``::`` gets a visible "│ " in front, and ``##[`` becomes ``##［``.
    """
    lines = str(text).replace("\r", "%0D").split("\n")
    out = []
    for line in lines:
        line = line.replace("##[", "##\uff3b")
        if line.lstrip().startswith("::"):
            line = "│ " + line
        out.append(line)
    return "\n".join(out)


def format_github(problems: list[Problem], data_prefix: str = "data") -> str:
    """GitHub Actions annotations (`::error file=…,line=…::…`) on the changed lines."""
    out = []
    for p in problems:
        props = [f"file={_escape_annotation(f'{data_prefix}/{p.file}'.lstrip('/'), True)}"]
        if p.line:
            props.append(f"line={p.line}")
        if p.field:
            props.append(f"title={_escape_annotation(p.field, True)}")
        body = p.message + (f" — {p.hint}" if p.hint else "")
        out.append(f"::{p.severity} {','.join(props)}::{_escape_annotation(body)}")
    return "\n".join(out)


#: Problems whose code starts with this come from the review against the published version
#: (generator/review.py); reports list them apart from ordinary problems.
REVIEW_CODE_PREFIX = "review-"


def _markdown_rows(problems: list[Problem]) -> list[str]:
    rows = ["| 级别 | 位置 | 字段 | 问题 | 修改建议 |", "|---|---|---|---|---|"]
    for p in problems:
        cells = ["错误" if p.is_error else "提示", f"{p.file}:{p.line or ''}", p.field or "", p.message, p.hint]
        rows.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return rows


def format_markdown(problems: list[Problem], reviewed_against: str | None = None) -> str:
    """The full list for $GITHUB_STEP_SUMMARY (GitHub shows only 10 annotations per step).

    With reviewed_against (the published branch), changes to published records come first,
    in their own section, apart from ordinary problems."""
    review = [p for p in problems if p.code.startswith(REVIEW_CODE_PREFIX)]
    ordinary = [p for p in problems if not p.code.startswith(REVIEW_CODE_PREFIX)]
    out: list[str] = []
    if reviewed_against is not None or review:
        where = f"（与 {reviewed_against} 比对）" if reviewed_against else ""
        if review:
            out += [f"### 对已发布记录的修改{where}", "",
                    f"以下 {len(review)} 处修改了已经发布的内容，却没有登记日期、原因和依据（不得随意改变约定；依法变更须写明依据）：", "",
                    *_markdown_rows(review), ""]
        else:
            out += [f"### 对已发布记录的修改{where}", "", "没有未说明理由的修改：已发布的记录没有被删除，期限、金额、状态和认定内容的变更都已登记。", ""]
    if not ordinary:
        out += ["### 数据校验通过", "", "没有发现问题。"]
    else:
        out += ["### 数据校验结果", "", *_markdown_rows(ordinary)]
    return "\n".join(out) + "\n"


def format_json(problems: list[Problem]) -> str:
    errors = sum(p.is_error for p in problems)
    return json.dumps(
        {"valid": errors == 0, "errors": errors, "warnings": len(problems) - errors,
         "problems": [asdict(p) for p in problems]},
        ensure_ascii=False, indent=2,
    )
