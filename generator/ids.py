"""The one id rule: what a record's or a department's id looks like.

A record id is its kind's prefix, the year and a serial of at least three digits
(``CM-2024-001``, ``AR-2024-1000``); a department id is lower-case letters, digits and
hyphens starting with a letter (``fgj``, ``jd-yuejin``), never ``index``. Neither can
hold ``/``, ``\\`` or ``..``, so an id can never name a path outside its folder: pages
(urls.record_path), YAML record files (validate: the id is the file name), the privacy
filter (ids in free text) and the staff tools (next id) all use this module. The
schema (schemas/datapackage.yaml) states the same patterns as data; a test checks
that they agree.
"""

from __future__ import annotations

import re

#: Record kind (resource name) → id prefix.
RECORD_PREFIXES = {"commitments": "CM", "arrears": "AR", "findings": "DF"}
RECORD_ID = re.compile(r"[A-Z]{2}-[0-9]{4}-[0-9]{3,}", re.ASCII)
DEPARTMENT_ID = re.compile(r"[a-z][a-z0-9-]*", re.ASCII)
#: departments/index.md is the department list.
RESERVED_DEPARTMENT_IDS = frozenset({"index"})


def is_record_id(kind: str, value: object) -> bool:
    prefix = RECORD_PREFIXES.get(kind)
    return (prefix is not None and isinstance(value, str) and RECORD_ID.fullmatch(value) is not None
            and value.startswith(prefix + "-"))


def is_department_id(value: object) -> bool:
    return isinstance(value, str) and DEPARTMENT_ID.fullmatch(value) is not None and value not in RESERVED_DEPARTMENT_IDS


def record_id(kind: str, year: int, serial: int) -> str:
    """``record_id("commitments", 2024, 1) == "CM-2024-001"``."""
    return f"{RECORD_PREFIXES[kind]}-{year:04d}-{serial:03d}"


def next_record_id(kind: str, year: int, existing) -> str:
    """The id after the highest serial of that kind and year among `existing`."""
    pattern = re.compile(rf"{RECORD_PREFIXES[kind]}-{year:04d}-([0-9]{{3,}})", re.ASCII)
    serials = [int(m.group(1)) for m in map(pattern.fullmatch, existing) if m]
    return record_id(kind, year, max(serials, default=0) + 1)
