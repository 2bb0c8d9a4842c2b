"""Every URL the site uses, in one place: pages, open data and feed build their links here.

Pages are named by their docs-relative path (``commitments/CM-2024-001.md``, as links
and the engine know them); the site serves them as folders (``commitments/CM-2024-001/``).
Ids become paths only after they are checked (``record_path``), so no id can name a
path outside its folder.
"""

from __future__ import annotations

import re
from functools import lru_cache

from generator import ids

RECORD_KINDS = ids.RECORD_PREFIXES
_WEB_URL = re.compile(r"https?://[^\s/\\?#]", re.ASCII | re.IGNORECASE)


def base(base_url: str) -> str:
    """The site's absolute root URL, ending in /."""
    return base_url if base_url.endswith("/") else base_url + "/"


def record_page(kind: str, record_id: str) -> str:
    """A record's or department's page relative to the site root: ``commitments/CM-2024-001/``."""
    return page_url(record_path(kind, record_id))


def record_path(kind: str, record_id: str) -> str:
    """The docs-relative page of a record or department: ``commitments/CM-2024-001.md``.

    Raises ValueError for anything that is not a validated id of that kind, so
    that no id can become a path outside its folder.
    """
    if kind == "departments":
        if not ids.is_department_id(record_id):
            raise ValueError(f"not a department id: {record_id!r}")
        return f"departments/{record_id}.md"
    if kind not in ids.RECORD_PREFIXES:
        raise ValueError(f"unknown record kind: {kind!r}")
    if not ids.is_record_id(kind, record_id):
        raise ValueError(f"not a {kind} id: {record_id!r}")
    return f"{kind}/{record_id}.md"


#: The link caches below have no bound: an entry per page of the site (url: per pair of pages it
#: links within a folder, a few thousand), and a site of 100,000 records has about 165,000 pages
#: and files: a bound below that (it was 65,536) only evicted entries asked for again.
@lru_cache(maxsize=None)  # pure; thousands of links per build point at the same pages
def page_url(page: str) -> str:
    """Site URL (relative to the site root) of a docs file, with ``use_directory_urls``.

    ``index.md`` → ``""``, ``commitments/index.md`` → ``commitments/``,
    ``commitments/CM-2024-001.md`` → ``commitments/CM-2024-001/``; other files keep their path.
    """
    if page.startswith("/") or "\\" in page or any(part in ("", ".", "..") for part in page.split("/")):
        raise ValueError(f"not a docs-relative path: {page!r}")
    if not page.endswith(".md"):
        return page
    stem = page[:-3]
    if stem == "index":
        return ""
    if stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


@lru_cache(maxsize=None)
def url(from_page: str, to_page: str, anchor: str = "") -> str:
    """Relative URL from one docs page to another docs file, as the browser needs it.

    url("commitments/index.md", "commitments/CM-2024-001.md") == "CM-2024-001/"
    url("departments/fgj.md", "commitments/CM-2024-001.md") == "../../commitments/CM-2024-001/"
    """
    if not from_page.endswith(".md"):
        raise ValueError(f"links start from a page: {from_page!r}")
    here = [part for part in page_url(from_page).split("/") if part]  # the folder the browser is in
    target = page_url(to_page)
    parts = target.split("/")  # a directory URL ends in "" (its trailing slash)
    common = 0
    while common < min(len(here), len(parts) - 1) and here[common] == parts[common]:
        common += 1
    rel = "../" * (len(here) - common) + "/".join(parts[common:])
    return (rel or "./") + (f"#{anchor}" if anchor else "")


@lru_cache(maxsize=None)
def _folder_parts(page: str) -> tuple[str, ...]:
    """The folder the browser is in on a page, as url() splits it."""
    if not page.endswith(".md"):
        raise ValueError(f"links start from a page: {page!r}")
    return tuple(part for part in page_url(page).split("/") if part)


@lru_cache(maxsize=None)
def _url_parts(page: str) -> tuple[str, ...]:
    """A page's URL split as url() splits it (a directory URL ends in "")."""
    return tuple(page_url(page).split("/"))


@lru_cache(maxsize=None)
def _from_depth(depth: int, to_page: str, anchor: str) -> str:
    """url() from a page `depth` folders deep to a page outside its top folder."""
    rel = "../" * depth + "/".join(_url_parts(to_page))
    return (rel or "./") + (f"#{anchor}" if anchor else "")


#: White space (the characters str.isspace() names: re's \s in a str pattern) or a C0 control.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f]")


def is_web_url(value: str | None) -> bool:
    """An absolute http(s) link with a host (report links, the policy link), without white
    space or a control character in it."""
    return bool(value) and _WEB_URL.match(value) is not None and _SPACE_OR_CONTROL.search(value) is None


class Linker:
    """Links from one page: ``nav.record("commitments", id)``, ``nav.dept(id)``, ``nav.to(path)``."""

    def __init__(self, page: str, known: dict[str, frozenset[str]], departments: frozenset[str]):
        self.page = page
        self._known = known
        self._departments = departments
        self._prefixes: dict[str, str] = {}

    def to(self, target: str, anchor: str = "") -> str:
        here = _folder_parts(self.page)
        if not here or _url_parts(target)[0] != here[0]:
            # Outside this page's top folder: the link climbs to the root and goes down, the
            # same from every page as deep as this one (a record page's letter and objection links).
            return _from_depth(len(here), target, anchor)
        return url(self.page, target, anchor)

    def record(self, kind: str, record_id: str) -> str:
        return self._page_of(kind, record_id, record_path(kind, record_id))

    def dept(self, dept_id: str) -> str | None:
        """Link to a department page, or None for a group token or an unknown unit."""
        if dept_id in self._departments:
            return self._page_of("departments", dept_id, record_path("departments", dept_id))
        return None

    def _page_of(self, folder: str, name: str, path: str) -> str:
        """url(self.page, path) for path = folder/name.md (served as folder/name/), checked.

        A table links one page to hundreds of pages in one folder, each link computed once
        (url() is cached per pair of pages): the link is the way to the folder, then name/,
        unless this page lies inside folder/name/ itself, which url() works out."""
        here = _folder_parts(self.page)
        if len(here) >= 2 and here[0] == folder and here[1] == name:
            return url(self.page, path)
        prefix = self._prefixes.get(folder)
        if prefix is None:
            inside = 1 if here and here[0] == folder else 0
            prefix = self._prefixes[folder] = "../" * (len(here) - inside) + ("" if inside else folder + "/")
        return f"{prefix}{name}/"

    def related(self, record_id: str) -> str | None:
        """Link to a related record only if that record is on the site."""
        for kind, prefix in RECORD_KINDS.items():
            if record_id.startswith(prefix + "-") and record_id in self._known[kind]:
                return self.record(kind, record_id)
        return None
