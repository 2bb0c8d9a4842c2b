"""``generator serve``: a local preview that follows the data.

A plain watcher (watchdog) rebuilds the preview site with the ordinary pipeline after
each change under data/, content/ or site_templates/; a small HTTP server of ours
serves it. Every HTML page gets a script that reloads it after a rebuild and, while
the data has errors, a banner with the same Chinese messages as ``generator
validate`` (the last good preview stays underneath). Problems are printed once per
change, not once per file event. Findings that are in data/ but not on the site
because they have no 公示日期 yet (or a later one) are explained in the banner too.
"""

from __future__ import annotations

import html
import http.server
import json
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from generator.problems import DataInvalid, GeneratorError

STATE_PATH = "/__zq_preview__/state"

_RELOAD_SCRIPT = """<script>(function(){var v=%d;function poll(){fetch("%s",{cache:"no-store"}).then(function(r){return r.json()}).then(function(s){if(s.version!==v){location.reload()}else{setTimeout(poll,800)}}).catch(function(){setTimeout(poll,2000)})}setTimeout(poll,800)})();</script>"""


@dataclass
class PreviewState:
    version: int = 0
    problems: list[str] = field(default_factory=list)  # errors: the preview shows the last good site
    notes: list[str] = field(default_factory=list)  # explanations (records not shown and why)
    lock: threading.Lock = field(default_factory=threading.Lock)
    printed: tuple = ()

    def update(self, problems: list[str], notes: list[str], say) -> None:
        with self.lock:
            self.problems, self.notes = problems, notes
            self.version += 1
            shown = (tuple(problems), tuple(notes))
            if shown != self.printed:  # once per change, however many file events it caused
                self.printed = shown
                for line in problems + notes:
                    say(line)
                if problems:
                    say("数据有错误，预览保持上一次的内容（浏览器页面顶部列出这些问题）。")


def unshown_findings(dataset, facts) -> list[str]:
    """Why each finding of the data folder is not on the site (the preview explains it)."""
    shown = {x.record.id for x in facts.findings}
    notes = []
    for f in dataset.findings:
        if f.id in shown:
            continue
        if f.published_on is None:
            why = "未填写公示日期（published_on），因此不在网站上公示；填写公示日期后即显示"
        elif f.published_on > facts.as_of:
            why = f"公示日期 {f.published_on.isoformat()} 晚于数据截至日期 {facts.as_of.isoformat()}，届时才显示"
        else:
            continue  # revoked, repaired or period over: the site counts these on purpose
        notes.append(f"{f.file}: 失信记录 {f.id} {why}。")
    return notes


def banner(state: PreviewState) -> str:
    if not state.problems and not state.notes:
        return ""
    parts = ['<div id="zq-preview-problems" role="alert" style="background:#fff3cd;color:#3d2e00;border-bottom:2px solid #b58100;'
             'padding:.8em 1.2em;font-size:15px;line-height:1.6;position:relative;z-index:10">']
    if state.problems:
        parts.append(f"<p><strong>数据有 {len(state.problems)} 个错误，预览显示的是上一次成功生成的内容。"
                     "修正后本页自动刷新：</strong></p><ul>")
        parts += [f"<li>{html.escape(p)}</li>" for p in state.problems]
        parts.append("</ul>")
    if state.notes:
        parts.append("<p><strong>预览说明：</strong></p><ul>")
        parts += [f"<li>{html.escape(n)}</li>" for n in state.notes]
        parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)


def error_page(state: PreviewState) -> bytes:
    body = banner(state) or "<p>正在生成预览……</p>"
    return (f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>预览：数据有错误</title></head>'
            f"<body>{body}{_RELOAD_SCRIPT % (state.version, STATE_PATH)}</body></html>").encode("utf-8")


def decorate(page: bytes, state: PreviewState) -> bytes:
    """An HTML page with the problems banner (if any) and the reload script."""
    text = page.decode("utf-8", errors="replace")
    top = banner(state)
    if top:
        i = text.find("<body")
        j = text.find(">", i) + 1 if i >= 0 else 0
        text = text[:j] + top + text[j:]
    script = _RELOAD_SCRIPT % (state.version, STATE_PATH)
    end = text.rfind("</body>")
    text = text[:end] + script + text[end:] if end >= 0 else text + script
    return text.encode("utf-8")


def make_handler(site_dir: Path, state: PreviewState):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(site_dir), **kwargs)

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass

        def _send(self, code: int, data: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 - the base class's name
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            if path == STATE_PATH:
                with state.lock:
                    data = json.dumps({"version": state.version, "problems": state.problems,
                                       "notes": state.notes}, ensure_ascii=False).encode("utf-8")
                return self._send(200, data, "application/json; charset=utf-8")
            if not (site_dir / "index.html").is_file():
                return self._send(200, error_page(state), "text/html; charset=utf-8")
            local = Path(self.translate_path(path))
            if local.is_dir():
                local = local / "index.html"
            if local.suffix == ".html" and local.is_file():
                with state.lock:
                    data = decorate(local.read_bytes(), state)
                return self._send(200, data, "text/html; charset=utf-8")
            return super().do_GET()

    return Handler


def serve(data_dir: Path, as_of: date | None = None, host: str = "127.0.0.1", port: int = 8000,
          build_dir: Path | None = None, say=lambda line: print(line, flush=True)) -> None:
    """Preview with live reload until Ctrl+C (see the module docstring)."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    from generator import publish, render, sitefiles

    data_dir = Path(data_dir)
    build_dir = Path(build_dir) if build_dir else sitefiles.build_dir()
    site_dir = (build_dir / "preview").resolve()
    state = PreviewState()
    building = threading.Lock()

    def refresh() -> None:
        with building:
            try:
                facts, warnings, dataset = publish.prepare_with_dataset(data_dir, as_of, cache_dir=build_dir / publish.CACHE_DIR)
                publish.build_from_facts(facts, data_dir, site_dir, history=False, build_dir=build_dir)
                state.update([], unshown_findings(dataset, facts), say)
                say(f"已按 {facts.as_of} 的数据更新预览。")
            except DataInvalid as exc:
                state.update([p.text() for p in exc.problems if p.is_error], [], say)
            except GeneratorError as exc:
                state.update([str(exc)], [], say)

    refresh()

    class _OnChange(FileSystemEventHandler):
        def __init__(self) -> None:
            self.timer: threading.Timer | None = None

        def on_any_event(self, event) -> None:  # debounce bursts of editor writes
            if event.event_type in ("opened", "closed", "closed_no_write"):
                return
            if self.timer:
                self.timer.cancel()
            self.timer = threading.Timer(0.3, refresh)
            self.timer.start()

    observer = Observer()
    handler = _OnChange()
    for folder in (data_dir, sitefiles.content_dir(), render.DEFAULT_TEMPLATES_DIR):
        if Path(folder).is_dir():
            observer.schedule(handler, str(folder), recursive=True)
    observer.start()
    server = http.server.ThreadingHTTPServer((host, port), make_handler(site_dir, state))
    say(f"预览地址：http://{host}:{server.server_address[1]}/ （修改 {data_dir}/ 下的记录后自动刷新，按 Ctrl+C 退出）")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        observer.stop()
        observer.join()
