"""The rules in force, as a table generated from data/site.yaml: never a hand-written copy.

Every number the derive stage uses is a parameter in data/site.yaml (or a data file
beside it) with its citation and effective dates. This module lists them, one row per
rule, for the page 计算规则与法规依据 (data/rules.md) and for api/rules.json, so that
the published methodology cannot drift from the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from generator import model


@dataclass(frozen=True)
class RuleRow:
    topic: str  # 失信记录 | 账款 | 期间计算 | 工作日
    rule: str  # what is computed
    value: str  # the parameter, as the site applies it
    source: str  # citation, as written in the data
    effective_from: date | None
    effective_until: date | None  # None: in force


def _months(n: int) -> str:
    if n == 0:
        return "0"
    return f"{n // 12} 年" if n % 12 == 0 else f"{n} 个月"


def rule_rows(site: model.Site) -> tuple[RuleRow, ...]:
    rules = site.rules
    rows: list[RuleRow] = []
    rows.append(RuleRow("期间计算", "按月计算的期间", "开始的当日不计入，自下一日起算；到期月的对应日为最后一日，没有对应日的为月末日",
                        rules.periods_source or "《中华人民共和国民法典》第二百零一条、第二百零二条", date(2021, 1, 1), None))
    for regime in rules.regimes:
        for severity in ("严重", "一般", "轻微"):
            p = regime.periods[severity]
            shown = "原则上不公示，" if not p.published else ""
            rows.append(RuleRow(
                "失信记录", f"{severity}失信信息的公示期限（按认定日期适用）",
                f"{shown}最短 {_months(p.min_months)}、最长 {_months(p.max_months)}；最短期限届满次日起可申请信用修复，最长期限届满自动停止公示",
                regime.source or regime.name, regime.effective_from, regime.effective_until))
    if rules.sanctions is not None:
        s = rules.sanctions
        value = "；".join(f"{k} {v} 个月" for k, v in s.months.items())
        rows.append(RuleRow("失信记录", "公务员失信记录的公示期限（按政务处分期间）",
                            f"{value}；自处分决定之日起计算，期满自动停止公示", s.source, s.effective_from, None))
    rows.append(RuleRow("失信记录", "严重失信行为上传信用信息平台的期限",
                        f"认定后 {rules.serious_publish_workdays} 个工作日内，由认定机关上传；衡量上传日期，未登记上传日期的不作判断",
                        rules.serious_publish_source or "《实施意见》五（一）", None, None))
    rows.append(RuleRow("失信记录", "异议答复期限", f"收到异议后 {rules.objection_reply_workdays} 个工作日",
                        rules.objection_reply_source, None, None))
    kinds = rules.group_kinds or model.DEFAULT_GROUP_KINDS
    rows.append(RuleRow("任务分工", "单位统称的范围", "；".join(f"“{t}”指{'、'.join(k)}" for t, k in kinds.items()),
                        rules.group_source or "《实施意见》任务分工", None, None))
    rows.append(RuleRow("工作日", "工作日", "按国务院办公厅公布的节假日安排（含调休上班日）；尚未公布的年份按周一至周五估算并标注",
                        "国务院办公厅每年《关于部分节假日安排的通知》；chinese-calendar 程序库和 data/calendar.yaml", None, None))
    pay = rules.payment
    regimes = rules.payment_regimes or ()
    if not regimes:
        regimes = (model.PaymentRegime(pay.regulation, pay.regulation, date(2020, 9, 1), {}),)
    for r in regimes:
        rows.append(RuleRow("账款", "适用的条例版本", "按合同订立日期（未登记的按交付日期）适用；年度公告按公布截止日期适用",
                            r.source, r.effective_from, r.effective_until))
        rows.append(RuleRow("账款", "机关、事业单位的付款期限",
                            f"交付（验收）后 {pay.default_term_days} 日内；合同约定的最长 {pay.max_term_days} 日；"
                            "约定超过最长期限的，按最长期限计算逾期和利息，并列出两个日期",
                            r.cite("term"), r.effective_from, r.effective_until))
        rows.append(RuleRow("账款", "逾期利息", f"按约定利率；未约定的每日 {pay.default_daily_rate}%；约定利率不得低于合同订立时1年期LPR",
                            r.cite("interest"), r.effective_from, r.effective_until))
        rows.append(RuleRow("账款", "有争议的账款",
                            "全部有争议的不计逾期；部分有争议的，无争议部分应当及时支付，按无争议部分计算逾期和利息" +
                            ("" if r.articles.get("dispute") else "（本版本无专门条文，本站按同一口径计算）"),
                            r.cite("dispute") if r.articles.get("dispute") else r.source, r.effective_from, r.effective_until))
        rows.append(RuleRow("账款", "年度公告",
                            f"每年 {pay.annual_notice_due[0]} 月 {pay.annual_notice_due[1]} 日前公布上一年度逾期未支付中小企业款项的合同数量和金额",
                            r.cite("notice"), r.effective_from, r.effective_until))
    rows.append(RuleRow("账款", "付款期限届满日是法定休假日",
                        "按期间约定的付款期限（交付后若干日），最后一日是法定休假日的，顺延至休假日结束的次日；约定固定日历日期的不顺延",
                        rules.deadline_rest_day_source or "《中华人民共和国民法典》第二百零三条", date(2021, 1, 1), None))
    if rules.lpr:
        months = sorted(rules.lpr)
        last_year, last_month = (int(part) for part in months[-1].split("-"))
        following = f"{last_year + 1}-01" if last_month == 12 else f"{last_year}-{last_month + 1:02d}"
        rows.append(RuleRow("账款", "1年期贷款市场报价利率（LPR）",
                            f"{months[0]} 至 {months[-1]} 共 {len(months)} 个月的报价，逐月注明核对来源（见下表）；"
                            f"{following} 起的报价尚未收录，在此之后订立的合同校验时提示；"
                            "约定逾期利率折合年利率（日利率×365）低于订立当月与上月报价中较低者的，校验时提示",
                            rules.lpr_source, None, None))
    return tuple(rows)


def _cell(text: str) -> str:
    return text.replace("|", "｜").replace("\n", " ")


def _day(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


def rules_markdown(site: model.Site) -> str:
    out = [
        "---",
        "description: 本站计算所用的每一条规则、参数、法规依据和施行日期，由数据文件 data/site.yaml 生成。",
        "---",
        "",
        "# 计算规则与法规依据",
        "",
        "本页由数据文件 `data/site.yaml` 自动生成，列出本站计算状态、期限和金额所用的每一条规则、参数、依据和施行日期。"
        "规则调整时只改数据文件，本页随之更新。计算方法的说明见[统计口径与计算方法](../methodology.md)。"
        "同样的内容以 JSON 格式提供：[api/rules.json](api/rules.json)。",
        "",
        "| 类别 | 规则 | 本站采用的参数 | 依据 | 施行日期 |",
        "|---|---|---|---|---|",
    ]
    for r in rule_rows(site):
        if r.effective_from and r.effective_until:
            when = f"{_day(r.effective_from)}至{_day(r.effective_until)}"
        elif r.effective_from:
            when = f"{_day(r.effective_from)}起"
        else:
            when = "—"
        out.append(f"| {_cell(r.topic)} | {_cell(r.rule)} | {_cell(r.value)} | {_cell(r.source)} | {when} |")
    out.append("")
    lpr = site.rules.lpr
    if lpr:
        refs = site.rules.lpr_refs or {}
        out += ["## 1年期贷款市场报价利率（LPR）", "", f"来源：{site.rules.lpr_source}。每月报价，年利率。"
                "“核对来源”一栏是核对该月数值所用资料的编号，资料列在表后。", "",
                "| 月份 | 1年期 LPR（%） | 核对来源 |", "|---|---|---|"]
        out += [f"| {month} | {rate} | {_cell(refs.get(month, '—'))} |" for month, rate in sorted(lpr.items())]
        out.append("")
        references = site.rules.lpr_references or {}
        if references:
            out += ["核对来源：", ""]
            out += [f"- {_cell(key)}：{_cell(text)}" for key, text in references.items()]
            out.append("")
    return "\n".join(out)


def lpr_json(site: model.Site) -> list[dict]:
    """The LPR table row by row, each with the reference its value was checked against."""
    refs = site.rules.lpr_refs or {}
    references = site.rules.lpr_references or {}
    return [{"month": month, "one_year_percent": str(rate), "ref": refs.get(month),
             "reference": references.get(refs.get(month, ""))}
            for month, rate in sorted((site.rules.lpr or {}).items())]


def rules_json(site: model.Site) -> list[dict]:
    return [{"topic": r.topic, "rule": r.rule, "value": r.value, "source": r.source,
             "effective_from": r.effective_from.isoformat() if r.effective_from else None,
             "effective_until": r.effective_until.isoformat() if r.effective_until else None}
            for r in rule_rows(site)]
