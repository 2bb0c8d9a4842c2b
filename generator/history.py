"""Revision history of each record, read from the repository's git history in one pass.

(Interface fixed here; implementation in progress.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class FieldChange:
    field: str  # the Chinese title of the field, e.g. 状态
    old: str  # "" when the field was empty
    new: str


@dataclass(frozen=True)
class Revision:
    date: date  # commit date in the site's time zone
    changes: tuple[FieldChange, ...]  # empty for the record's first version
    created: bool = False


@dataclass(frozen=True)
class History:
    """Per record id, its revisions oldest first. `available` is False without git history."""

    available: bool
    reason: str = ""  # why not available, in Chinese (shallow clone, no git …)
    records: dict[str, tuple[Revision, ...]] = field(default_factory=dict)

    def of(self, record_id: str) -> tuple[Revision, ...]:
        return self.records.get(record_id, ())


def collect(repo_root: Path, data_dir: Path, timezone: str = "Asia/Shanghai") -> History:
    return History(False, "修改记录功能尚未启用。")
