"""No reader request leaves the site: theme scripts that would load from a CDN load local files.

Material's bundle fetches two scripts from unpkg.com on demand: the ResizeObserver
polyfill (in browsers without ResizeObserver — Safari before 13.1, old Android
WebViews, common on the old phones of older readers) and Mermaid (on pages with
diagrams, which this site does not have). Both URLs are string literals in the
bundle. keep_requests_on_site() replaces each literal by an expression that
resolves a file shipped with the site (``site_templates/assets/js/``) against
the bundle's own URL, so it works on pages at any depth and under any base
path; in source maps the URL becomes the plain file name (see _rewrite_map). A script, stylesheet
or source map that still names a CDN afterwards fails the build.

Engine-neutral: it takes a built site folder, and is called by the engine step
after the theme's assets are in place. Files are replaced (never rewritten in
place: a rebuild may hard-link them from the last site) and only when they change.
"""

from __future__ import annotations

import re
from pathlib import Path

from generator.files import write_if_changed
from generator.problems import GeneratorError

#: URL prefix in the theme's scripts → the site's own file (under assets/js/) that replaces it.
LOCAL_REPLACEMENTS = {
    "https://unpkg.com/resize-observer-polyfill": "zq-resize-observer.js",
    "https://unpkg.com/mermaid": "zq-no-mermaid.js",
}
#: Hosts that serve scripts, styles or fonts to other sites: none may remain in assets.
CDN_HOSTS = ("unpkg.com", "cdn.jsdelivr.net", "cdnjs.cloudflare.com", "fonts.googleapis.com",
             "fonts.gstatic.com", "ajax.googleapis.com", "code.jquery.com", "polyfill.io")
_SCANNED = (".js", ".css", ".map", ".mjs")


class ExternalAssetRequest(GeneratorError):
    exit_code = 1


def _local_expression(file_name: str) -> str:
    # The bundle's own absolute URL (script.src is resolved by the browser), with
    # "javascripts/bundle.….js" replaced by "js/<file_name>".
    return ("(document.querySelector('script[src*=\"/javascripts/bundle.\"]')||{src:\"\"}).src"
            f".replace(/javascripts\\/bundle\\.[^\\/]*$/,\"js/{file_name}\")")


def _rewrite_script(text: str) -> str:
    for prefix, file_name in LOCAL_REPLACEMENTS.items():
        literal = re.compile(r"([\"'`])" + re.escape(prefix) + r"[^\"'`\s]*\1")
        text = literal.sub(lambda _m, name=file_name: _local_expression(name), text)
    return text


def _rewrite_map(text: str) -> str:
    # A source map is text for the browser's developer tools: the original sources as
    # strings. Their loader URLs become the local file names, and the comment that
    # explains the polyfill names the site instead of the CDN.
    for prefix, file_name in LOCAL_REPLACEMENTS.items():
        text = re.sub(re.escape(prefix) + r"[^\"'`\s\\]*", file_name, text)
    return text.replace("downloaded from unpkg.com", "loaded from this site")


def keep_requests_on_site(site_dir: Path) -> list[Path]:
    """Point the theme's CDN loads at local files; returns the files changed.

    Raises ExternalAssetRequest when a script, stylesheet or source map under
    site_dir still names a CDN host (a theme update brought a new one)."""
    site_dir = Path(site_dir)
    changed: list[Path] = []
    left: list[str] = []
    for path in sorted(p for p in site_dir.rglob("*") if p.suffix in _SCANNED and p.is_file()):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if any(host in text for host in CDN_HOSTS):
            new = _rewrite_map(text) if path.suffix == ".map" else _rewrite_script(text)
            if new != text and write_if_changed(path, new.encode("utf-8", errors="surrogateescape")):
                changed.append(path)
            left += [f"{path.relative_to(site_dir).as_posix()}：{host}" for host in CDN_HOSTS if host in new]
    if left:
        raise ExternalAssetRequest("网站的脚本或样式仍会从其他网站加载资源（读者的浏览器不得访问外部主机），"
                                   "请在 generator/offline.py 中为其提供本地文件：\n"
                                   + "\n".join(f"  - {item}" for item in left))
    return changed
