"""Issue 12, item 13: what the generator prints cannot become a GitHub workflow command.

The runner reads a line that starts with ``::`` (``::error``, ``::add-mask::``,
``::stop-commands::``) as a command, and ``##[`` anywhere in a line as the older form.
A file name in the data folder can carry a line break followed by either.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.cli import main
from generator.problems import Problem, escape_log, format_text
from tests.conftest import DEMO_DATA

HOSTILE_NAME = "CM-2024-901\n::add-mask::secret\n  ::error file=x::pwned\r::warning::y ##[error]z.yaml"


def commands_in(output: str) -> list[str]:
    # The runner splits on line breaks and trims leading white space (a bare CR counts as one).
    lines = output.replace("\r", "\n").split("\n")
    return [line for line in lines if line.strip().startswith("::") or "##[" in line]


def test_escape_log_neutralises_commands_and_keeps_plain_lines():
    assert escape_log("commitments/CM-2024-001.yaml:3: title: 太长") == "commitments/CM-2024-001.yaml:3: title: 太长"
    escaped = escape_log("a\n::add-mask::x\n\t::error::y\r::notice::z ##[warning]w")
    assert commands_in(escaped) == []
    assert "::add-mask::x" in escaped  # still readable
    assert commands_in(format_text([Problem("a\n::error::b.yaml", 1, "id", "m\n::add-mask::c")])) == []


@pytest.mark.slow
def test_build_and_validate_output_carry_no_workflow_command(tmp_path: Path, capsys):
    data = tmp_path / "data"
    shutil.copytree(DEMO_DATA, data)
    (data / "commitments" / HOSTILE_NAME).write_bytes((data / "commitments" / "CM-2024-001.yaml").read_bytes())
    for argv in (["validate"], ["build", "--out", str(tmp_path / "site"), "--as-of", "2026-11-26", "--no-history"]):
        code = main([*argv, "--data", str(data)])
        out = capsys.readouterr()
        assert code == 1
        assert "secret" in out.out  # the problem is reported ...
        assert commands_in(out.out) == [] and commands_in(out.err) == []  # ... and nothing runs
