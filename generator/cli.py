"""The command line: parse options, call one library function, turn errors into a clean exit.

Exit codes: 0 success, 1 the records have errors, 2 a usage or environment
problem, 3 an internal error (reported in Chinese, never as a traceback unless
GENERATOR_DEBUG=1).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import Callable

from generator import __version__
from generator.problems import GeneratorError, Problem, escape_log, format_github, format_json, format_markdown, format_text

FORMATTERS: dict[str, Callable[[list[Problem]], str]] = {
    "text": format_text,
    "github": format_github,
    "json": format_json,
    "markdown": format_markdown,
}


class _Formatter(argparse.HelpFormatter):
    """Help in Chinese: the usage line starts with 用法：."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[override]
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse with Chinese help and usage errors, and exit code 2.

    Every argument goes into one of two argument groups with Chinese titles
    (位置参数, 选项), and -h is added here with Chinese help: argparse's own
    default groups stay empty and so are never printed.
    """

    def __init__(self, *args, **kwargs):
        kwargs["add_help"] = False
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self.positional_group = self.add_argument_group("位置参数")
        self.option_group = self.add_argument_group("选项")
        self.option_group.add_argument("-h", "--help", action="help", help="显示本帮助信息并退出")

    def add_argument(self, *args, **kwargs):  # type: ignore[override]
        group = getattr(self, "option_group", None)
        if group is None:  # pragma: no cover - only during argparse's own set-up
            return super().add_argument(*args, **kwargs)
        positional = bool(args) and not args[0][:1] in self.prefix_chars
        return (self.positional_group if positional else group).add_argument(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        translated = (message.replace("the following arguments are required", "缺少必需的参数")
                      .replace("invalid choice", "无效的选项").replace("unrecognized arguments", "无法识别的参数")
                      .replace("expected one argument", "需要一个值").replace("choose from", "可选")
                      .replace("invalid int value", "不是整数").replace("argument", "参数"))
        print(f"generator：{translated}", file=sys.stderr)
        raise SystemExit(2)


def _as_of(value: str) -> date:
    from generator.dates import DateOutOfRange, check_as_of

    try:
        return check_as_of(date.fromisoformat(value), "日期")
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{value}”不是 YYYY-MM-DD 格式的日期") from None
    except DateOutOfRange as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"端口“{value}”不是整数") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"端口 {port} 超出范围，应为 1 到 65535 之间的整数，如 8000")
    return port


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data)


def _print(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


# --- commands ----------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from generator.load import load
    from generator.problems import format_markdown, sort_problems
    from generator.review import DEFAULT_REF, ReviewError, ref_exists, review
    from generator.validate import validate

    raw = load(_data_dir(args))
    report = validate(raw, args.as_of)
    problems = list(report.problems)
    against = args.against
    if against == "":  # --against without a value: the published branch, when this clone has it
        if not ref_exists(_data_dir(args), DEFAULT_REF):
            raise ReviewError(f"没有找到 {DEFAULT_REF}（本地仓库没有名为 origin 的远程仓库，或还没有 git fetch）："
                              "请用 --against 指定已发布的分支或提交，如 --against main。")
        against = DEFAULT_REF
    if against is not None:
        problems = sort_problems([*problems, *review(_data_dir(args), against, raw)])
    if args.format == "markdown":
        _print(format_markdown(problems, against))
    else:
        _print(FORMATTERS[args.format](problems))
    return 1 if any(p.is_error for p in problems) else 0


def cmd_build(args: argparse.Namespace) -> int:
    from generator.publish import build_site

    result = build_site(_data_dir(args), Path(args.out), as_of=args.as_of, history=not args.no_history,
                        report=lambda line: print(escape_log(line), file=sys.stderr))
    _print(result.summary())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from generator.serve import serve

    try:
        serve(_data_dir(args), as_of=args.as_of, host=args.host, port=args.port,
              build_dir=Path(args.build_dir) if args.build_dir else None)
    except OSError as exc:
        raise GeneratorError(f"无法在 {args.host}:{args.port} 启动预览：{exc.strerror or exc}"
                             "（端口可能已被占用，可用 --port 换一个端口）") from None
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="generator", description="诚信政府建设信息公开站点生成器：校验记录、生成网站。")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}", help="显示版本号并退出")
    sub = parser.add_subparsers(dest="command", metavar="命令名", parser_class=_Parser, title="命令",
                                description="运行 generator 命令 -h 查看各命令的用法")

    def command(name: str, help_text: str, fn: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--data", default="data", metavar="文件夹", help="数据文件夹（默认 data/）")
        p.set_defaults(func=fn)
        return p

    p = command("validate", "校验数据：列出所有问题（文件:行号: 字段: 问题 — 修改建议）", cmd_validate)
    p.add_argument("--format", choices=sorted(FORMATTERS), default="text",
                   help="输出格式：text（默认）、github（GitHub Actions 注释）、json、markdown")
    p.add_argument("--as-of", type=_as_of, default=None, help="按指定日期（YYYY-MM-DD）校验，默认为北京时间今天")
    p.add_argument("--against", nargs="?", const="", default=None, metavar="REF",
                   help="同时与已发布的版本（git 分支或提交，不写时为 origin/main）比对：已发布的记录不得删除，"
                        "期限、金额、状态和认定内容的修改须在变更记录中写明日期、原因和依据")

    p = command("build", "校验、计算并生成网站到 site/（失败时保留原有网站）", cmd_build)
    p.add_argument("--out", default="site", help="网站输出文件夹（默认 site/）")
    p.add_argument("--as-of", type=_as_of, default=None, help="按指定日期（YYYY-MM-DD，2000-01-01 至 2099-12-31）生成，默认为北京时间今天")
    p.add_argument("--no-history", action="store_true", help="不从 git 历史生成记录的修改记录")

    p = command("serve", "本地预览网站，修改记录后自动刷新", cmd_serve)
    p.add_argument("--as-of", type=_as_of, default=None, help="按指定日期（YYYY-MM-DD，2000-01-01 至 2099-12-31）生成")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=_port, default=8000, help="端口（默认 8000）")
    p.add_argument("--build-dir", default=None, help="中间文件和预览网站的文件夹（默认 build/）")

    from generator.tools import synth
    from generator.tools import importer, scaffold
    from generator import publication

    for register in (scaffold.register, importer.register, synth.register, publication.register, *_EXTRA_COMMANDS):
        register(command)
    return parser


#: Commands that live in their own modules register here (new, import, synth …).
_EXTRA_COMMANDS: list[Callable] = []


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        data = getattr(args, "data", None)
        if data and Path(data).is_dir():
            from generator.datadir import recover

            recover(Path(data))  # an import killed half-way: completed or rolled back, and said so
        return args.func(args)
    except GeneratorError as exc:
        problems = getattr(exc, "problems", None)
        if problems:
            _print(FORMATTERS.get(getattr(args, "format", "text"), format_text)(problems))
        print(escape_log(f"generator：{exc}"), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("generator：已中断。", file=sys.stderr)
        return 130
    except MemoryError:
        print("generator：内存不足，无法完成。请关闭其他程序后重试；如果数据文件或 Excel 台账异常大，"
              "请检查是否误存了其他内容，或拆分成较小的文件。", file=sys.stderr)
        return 2
    except OSError as exc:  # the environment, not the data: a folder that cannot be written, a full disk …
        if os.environ.get("GENERATOR_DEBUG"):
            raise
        where = f"{exc.filename}：" if getattr(exc, "filename", None) else ""
        print(escape_log(f"generator：文件或系统操作失败：{where}{exc.strerror or exc}。请检查路径是否正确、是否有写入权限、磁盘是否已满。"),
              file=sys.stderr)
        return 2
    except Exception as exc:  # the last line of defence: staff never see a traceback
        if os.environ.get("GENERATOR_DEBUG"):
            raise
        print(escape_log(f"generator：内部错误（{type(exc).__name__}: {exc}）。") + "这不是数据的问题，请把这条信息和所用命令报告给维护人员；"
              "设置环境变量 GENERATOR_DEBUG=1 可查看详细信息。", file=sys.stderr)
        return 3
