"""End-to-end fixtures: the demo site and a hostile site, each built once and served
over HTTP on 127.0.0.1, and one headless Chromium (Debian's, never a download) for
the whole session with a fresh context per tab.

Helpers the tests share (checkers that raise AssertionError) live in
``e2e_support.py`` next to this file, so that the mutation tests can show that
the very same checker fails on a site broken on purpose.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest

import e2e_support as support
from e2e_support import AS_OF, REPO, Tab



def pytest_collection_modifyitems(config, items):
    """Every test under tests/e2e drives (or stands next to) a real browser: mark it `browser`."""
    here = Path(__file__).resolve().parent
    config._e2e_wants = set()
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            config._e2e_wants.update(getattr(item, "fixturenames", ()))


# --- the sites ---------------------------------------------------------------------------


def _build(data_dir: Path, root: Path) -> Path:
    from generator.publish import build_site

    out = root / "site"
    build_site(data_dir, out, as_of=AS_OF, history=False, build_dir=root / "build")
    return out


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory) -> Path:
    """The demo data (data/, sample: true) built once, as of 2026-11-26."""
    return _build(REPO / "data", tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def demo_facts():
    """The derived facts of the demo data: the expected figures come from here."""
    from generator.derive import derive
    from generator.load import load
    from generator.validate import validate

    report = validate(load(REPO / "data"))
    assert report.dataset is not None, "\n".join(p.text() for p in report.errors)
    return derive(report.dataset, AS_OF)


@pytest.fixture(scope="session")
def hostile_data(tmp_path_factory) -> Path:
    """A copy of the demo data whose records carry markup, templates, bidi marks … (sample: false)."""
    return support.make_hostile_data(tmp_path_factory.mktemp("hostile-data") / "data")


_BUILD_SCRIPT = (
    "import sys; from datetime import date; from pathlib import Path; from generator.publish import build_site; "
    "build_site(Path(sys.argv[1]), Path(sys.argv[2]), as_of=date.fromisoformat(sys.argv[3]), history=False, "
    "build_dir=Path(sys.argv[4]))"
)


@pytest.fixture(scope="session")
def hostile_build_job(hostile_data, tmp_path_factory):
    """Build the hostile site in a child process, so that it runs while the demo site builds."""
    root = tmp_path_factory.mktemp("hostile")
    log = root / "build.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-c", _BUILD_SCRIPT, str(hostile_data), str(root / "site"),
                                 AS_OF.isoformat(), str(root / "build")], cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
    yield proc, root, log
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def hostile_site(hostile_build_job) -> Path:
    proc, root, log = hostile_build_job
    code = proc.wait(timeout=600)
    assert code == 0, f"the hostile site did not build (exit {code}):\n" + log.read_text(errors="replace")[-4000:]
    return root / "site"


@pytest.fixture(scope="session")
def mutant_site(demo_site, tmp_path_factory) -> Path:
    """A private copy of the demo site that mutation tests may break (never the real one)."""
    target = tmp_path_factory.mktemp("mutant") / "site"
    shutil.copytree(demo_site, target)
    return target


# --- HTTP servers ------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        pass


class _Httpd(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # The browser drops connections it no longer needs (a page left mid-download): not an error.
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class Server:
    def __init__(self, root: Path):
        self.root = Path(root)
        handler = functools.partial(_QuietHandler, directory=str(self.root))
        self.httpd = _Httpd(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"e2e-http-{self.port}", daemon=True)

    def url(self, path: str = "/") -> str:
        return self.origin + path

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo_server(demo_site) -> Iterator[Server]:
    with Server(demo_site) as server:
        yield server


@pytest.fixture(scope="session")
def hostile_server(hostile_site) -> Iterator[Server]:
    with Server(hostile_site) as server:
        yield server


@pytest.fixture(scope="session")
def mutant_server(mutant_site) -> Iterator[Server]:
    with Server(mutant_site) as server:
        yield server


# --- the browser -------------------------------------------------------------------------


# The session-wide `browser` fixture lives in tests/conftest.py: one Playwright per test run.


@pytest.fixture
def open_tab(browser) -> Iterator[Callable[..., Tab]]:
    """open_tab(server, width=1280, height=900) → a fresh context and page with collectors attached."""
    tabs: list[Tab] = []

    def factory(server: Server, width: int = 1280, height: int = 900) -> Tab:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                      timezone_id="Asia/Shanghai", service_workers="block")
        tab = Tab(context, server.origin)
        tabs.append(tab)
        return tab

    yield factory
    for tab in tabs:
        tab.close()


@pytest.fixture
def demo_tab(open_tab, demo_server) -> Tab:
    return open_tab(demo_server)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    path = REPO / "test-artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- the Nu Html Checker, run once, in the background ---------------------------------

#: The hostile site's pages worth validating: those its hostile records reach (the rest is the demo site).
HOSTILE_VNU_PAGES = ("index.html", "commitments/index.html", "arrears/index.html", "findings/index.html",
                     "commitments/CM-2024-001/index.html", "arrears/AR-2023-001/index.html",
                     "findings/DF-2026-002/index.html", "departments/yshj/index.html", "departments/zjj/index.html",
                     "departments/jd-jianshe/index.html")


@pytest.fixture(scope="session")
def vnu_job(demo_site, hostile_site, tmp_path_factory):
    """Start one JVM over the demo site, the hostile pages and a page broken on purpose."""
    work = tmp_path_factory.mktemp("vnu")
    mutant = work / "mutant"
    mutant.mkdir()
    support.write_invalid_html(demo_site / "index.html", mutant / "index.html")
    roots = {"demo": demo_site, "hostile": hostile_site, "mutant": mutant}
    paths = [demo_site, *(hostile_site / p for p in HOSTILE_VNU_PAGES), mutant]
    out = work / "vnu.json"
    proc = support.start_vnu(paths, out)
    yield proc, out, roots
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session", autouse=True)
def _background_jobs(request):
    """Start the slow child processes at the beginning of the session, when the selected tests
    need them: the hostile build runs while the demo site builds, and the Nu Html Checker
    (~15 s of one core) runs while the browser tests run."""
    wants = getattr(request.config, "_e2e_wants", set())
    if "hostile_site" in wants:
        request.getfixturevalue("hostile_build_job")
    if "demo_site" in wants:
        request.getfixturevalue("demo_site")
    if "vnu_messages" in wants:
        request.getfixturevalue("vnu_job")


@pytest.fixture(scope="session")
def vnu_messages(vnu_job) -> dict[str, list[dict]]:
    """{"demo": [...], "hostile": [...], "mutant": [...]}: error messages per tree, with "file" relative to it."""
    proc, out, roots = vnu_job
    messages = support.read_vnu(proc, out)
    result: dict[str, list[dict]] = {name: [] for name in roots}
    for m in messages:
        path = support.path_of_vnu_url(m.get("url", ""))
        for name, root in roots.items():
            try:
                rel = path.relative_to(Path(root).resolve())
            except ValueError:
                continue
            result[name].append({**m, "file": rel.as_posix()})
            break
        else:
            raise AssertionError(f"vnu message for an unexpected file: {m}")
    return result
