"""The data contract, read from `schemas/datapackage.yaml` (Table Schema as data).

Nothing about fields is written twice in Python: the loader, the validator, the
data dictionary page and the open-data package all read these objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SCHEMA_PATH = Path(__file__).with_name("schemas") / "datapackage.yaml"

#: Tokens that stand for groups of units in the policy (区直各部门 / 各街道办事处).
GROUP_TOKENS = ("区直各部门", "各街道办事处")

TYPE_LABELS = {
    "string": "文本",
    "integer": "整数",
    "number": "数值",
    "date": "日期",
    "boolean": "是/否",
}


@dataclass(frozen=True)
class Field:
    name: str
    title: str
    type: str
    description: str
    required: bool = False
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: Any = None
    maximum: Any = None
    max_length: int | None = None
    decimals: int | None = None
    markdown: bool = False
    yaml_path: tuple[str, ...] = ()

    @property
    def is_free_text(self) -> bool:
        """Plain text typed by staff: where personal identifiers could slip in."""
        return self.type == "string" and not self.enum and not self.pattern


@dataclass(frozen=True)
class Source:
    """Where a resource's rows come from under the data folder."""

    kind: str  # csv | yaml-records | yaml-list | yaml-children
    path: str = ""  # csv file, records folder or YAML file
    key: str = ""  # yaml-list: the list's key
    parent: str = ""  # yaml-children: parent resource
    keys: dict[str, dict[str, str]] = field(default_factory=dict)  # yaml-children
    optional: bool = False  # csv: a missing file is an empty table (a ledger most folders never need)


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference: tuple[str, ...]


@dataclass(frozen=True)
class Resource:
    name: str
    title: str
    source: Source
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class Package:
    descriptor: dict
    resources: tuple[Resource, ...]

    def resource(self, name: str) -> Resource:
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(name)

    def children_of(self, parent: str) -> list[Resource]:
        return [r for r in self.resources if r.source.kind == "yaml-children" and r.source.parent == parent]


def _source(raw: dict) -> Source:
    if "csv" in raw:
        return Source("csv", path=raw["csv"], optional=bool(raw.get("optional", False)))
    if "yaml-records" in raw:
        return Source("yaml-records", path=raw["yaml-records"])
    if "yaml-list" in raw:
        return Source("yaml-list", path=raw["yaml-list"], key=raw["key"])
    if "yaml-children" in raw:
        keys = {k: dict(v or {}) for k, v in raw["keys"].items()}
        return Source("yaml-children", parent=raw["yaml-children"], keys=keys)
    raise ValueError(f"unknown x-source {raw!r}")


def _field(raw: dict) -> Field:
    c = raw.get("constraints", {})
    return Field(
        name=raw["name"],
        title=raw["title"],
        type=raw.get("type", "string"),
        description=raw["description"],
        required=bool(c.get("required", False)),
        enum=tuple(c["enum"]) if "enum" in c else None,
        pattern=c.get("pattern"),
        minimum=c.get("minimum"),
        maximum=c.get("maximum"),
        max_length=c.get("maxLength"),
        decimals=raw.get("x-decimals"),
        markdown=bool(raw.get("x-markdown", False)),
        yaml_path=tuple(raw.get("x-yaml", raw["name"]).split(".")),
    )


@lru_cache(maxsize=1)
def load_package() -> Package:
    # libyaml's parser with PyYAML's safe constructor: what yaml.safe_load gives, several times
    # faster (a fixed cost of every command); the pure-Python parser where libyaml is missing
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    descriptor = yaml.load(SCHEMA_PATH.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    resources = []
    for r in descriptor["resources"]:
        s = r["schema"]
        resources.append(
            Resource(
                name=r["name"],
                title=r["title"],
                source=_source(r["x-source"]),
                fields=tuple(_field(f) for f in s["fields"]),
                primary_key=tuple(s.get("primaryKey", ())),
                foreign_keys=tuple(
                    ForeignKey(tuple(fk["fields"]), fk["reference"]["resource"], tuple(fk["reference"]["fields"]))
                    for fk in s.get("foreignKeys", ())
                ),
            )
        )
    return Package(descriptor=descriptor, resources=tuple(resources))
