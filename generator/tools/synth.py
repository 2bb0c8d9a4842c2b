"""Synthetic records: a complete, valid, realistic data folder of any size.

`generate(out_dir, records, seed)` writes what staff would keep under `data/` —
site settings, the working-day calendar supplement, departments, the policy's
task list, commitments, the arrears ledger with plans and repayments, findings
and evaluation results — for load tests, demonstrations and screenshots where
the small demo folder is not enough. `generator synth` is the command.

Rules of the game:
- Everything validates: every cross-record rule of validate.py holds, so the
  folder passes `generator validate` (a few warnings — a 90-day payment term, a
  published minor finding — are deliberate, because real ledgers have them).
- Deterministic: one `random.Random(seed)`, consumed in a fixed order, and no
  iteration over sets or hash-ordered mappings; equal arguments give equal bytes.
- Fast: dates are ordinals, money is integer fen, CSVs go through the csv module
  in one call each and YAML records are written from string templates (PyYAML's
  dump would take most of the time for 100,000 records).
- Private: enterprises are always “某某” names, officials are masked (王某), and
  no text carries a long run of digits.

site.yaml, calendar.yaml, tasks.yaml and the departments come from a template
folder (the demo `data/`): the policy's task list is a real transcription, not
something to invent. Larger runs add departments (a city has more units).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import re
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable

import yaml

from generator import ids as id_rule
from generator.model import add_months
from generator.privacy import uscc_check_char
from generator.workdays import WorkdayCalendar

__all__ = ["REFERENCE_DATE", "SHARES", "TEMPLATE_DIR", "generate", "register"]

#: "Today" of the synthetic world: nothing is paid, decided or published after it.
REFERENCE_DATE = date(2026, 11, 20)
#: Records start here; working-day dates (decisions, publications, objections) stay ≤ 2026.
START = date(2019, 1, 1)
#: Share of each record kind in the N records asked for (the rest goes to arrears).
SHARES = {"commitments": 0.25, "arrears": 0.55, "findings": 0.05, "evaluations": 0.15}
#: Years with evaluation results (each published in March of the following year).
EVALUATION_YEARS = tuple(range(2019, 2026))
#: The demo folder next to the package, used when no template is given.
TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "data"

#: Nothing — deadline, instalment, rectification step — is planned beyond the end of 2027.
LAST_PLANNED = date(2027, 12, 31)

_REF = REFERENCE_DATE.toordinal()
_START = START.toordinal()
_LAST = LAST_PLANNED.toordinal()
_MANAGED_FILES = ("site.yaml", "calendar.yaml", "departments.csv", "tasks.yaml", "evaluations.csv",
                  "arrears/ledger.csv", "arrears/plan.csv", "arrears/repayments.csv")
_RECORD_FOLDERS = ("commitments", "findings")


# --- small helpers -----------------------------------------------------------------------

_ISO_CACHE: dict[int, str] = {}


def _iso(ordinal: int) -> str:
    text = _ISO_CACHE.get(ordinal)
    if text is None:
        text = _ISO_CACHE[ordinal] = date.fromordinal(ordinal).isoformat()
    return text


def _cn_date(ordinal: int) -> str:
    d = date.fromordinal(ordinal)
    return f"{d.year}年{d.month}月{d.day}日"


def _month_end(year: int, month: int) -> int:
    """Ordinal of the last day of a month (month may overflow 12)."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt.toordinal() - 1


def _weekday_on_or_before(ordinal: int, floor: int) -> int:
    """Move a weekend day back to Friday (offices decide on working days), not below floor."""
    wd = (ordinal - 1) % 7  # date.fromordinal(1) is a Monday
    if wd >= 5:
        moved = ordinal - (wd - 4)
        return moved if moved >= floor else ordinal
    return ordinal


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _wan(fen: int) -> str:
    """An amount in 万元 for prose, at most two decimals: 1286530.50 元 → 128.65."""
    hundredths = (fen + 5000) // 10000
    text = f"{hundredths // 100}.{hundredths % 100:02d}".rstrip("0").rstrip(".")
    return text or "0"


_CN_DIGITS = "零一二三四五六七八九"


def _cn(n: int) -> str:
    """Chinese numeral for 1 ≤ n < 10000 (十二, 一百零三, 二千零五十)."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    out, zero = [], False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit:
            if zero and out:
                out.append("零")
            out.append(_CN_DIGITS[digit] + unit)
            zero = False
        elif out:
            zero = True
    return "".join(out)


def _split(rng: random.Random, total: int, parts: int, unit: int) -> list[int]:
    """`parts` positive amounts (fen) summing exactly to `total`, round to `unit` but the last."""
    if parts <= 1 or total < unit * parts * 2:
        return [total]
    cuts = sorted(rng.sample(range(1, total // unit), parts - 1))
    out, last = [], 0
    for cut in cuts:
        out.append((cut - last) * unit)
        last = cut
    out.append(total - last * unit)
    return out


# --- YAML text ---------------------------------------------------------------------------

_PLAIN_BAD_START = frozenset("-?:,[]{}#&*!|>'\"%@` \t")
_NEEDS_ESCAPE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029\ufeff]")
_RESOLVES = re.compile(r"(?i)[-+.0-9_:]*|true|false|yes|no|on|off|y|n|null|~")


def _dq(value: str) -> str:
    """A YAML double-quoted scalar: backslash, quote and control characters escaped."""
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    if _NEEDS_ESCAPE.search(out):
        out = _NEEDS_ESCAPE.sub(lambda m: {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(
            m.group(), f"\\u{ord(m.group()):04x}"), out)
    return f'"{out}"'


def _s(value: str) -> str:
    """A YAML scalar for text: plain as staff write it when that is unambiguous, else quoted."""
    if (value and value[0] not in _PLAIN_BAD_START and value[-1] not in " \t:"
            and ": " not in value and " #" not in value and not _NEEDS_ESCAPE.search(value)
            and not _RESOLVES.fullmatch(value)):
        return value
    return _dq(value)


def _block(key: str, text: str, indent: str = "") -> str:
    """`key: |` and the text as a literal block (Markdown content keeps its lines)."""
    lines = text.split("\n")
    if any(line[:1] in (" ", "\t") for line in lines) or _NEEDS_ESCAPE.sub("", text.replace("\n", "")) != text.replace("\n", ""):
        return f"{indent}{key}: {_dq(text)}\n"
    body = "".join(f"{indent}  {line}\n" if line else "\n" for line in lines)
    return f"{indent}{key}: |\n{body}"


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


# --- word lists ----------------------------------------------------------------------------

_DISTRICTS = (
    "西市区", "鲅鱼圈区", "老边区", "盖州市", "大石桥市", "和平区", "沈河区", "大东区", "皇姑区", "铁西区",
    "苏家屯区", "浑南区", "沈北新区", "于洪区", "辽中区", "中山区", "西岗区", "沙河口区", "甘井子区",
    "旅顺口区", "金州区", "铁东区", "立山区", "千山区", "新抚区", "东洲区", "望花区", "顺城区", "平山区",
    "溪湖区", "明山区", "南芬区", "元宝区", "振兴区", "振安区", "古塔区", "凌河区", "太和区", "白塔区",
    "文圣区", "宏伟区", "弓长岭区", "太子河区", "银州区", "清河区", "双塔区", "龙城区", "连山区", "龙港区",
    "南票区",
)
_BUREAUS = (
    "发改局", "司法局", "营商局", "工信局", "财政局", "审计局", "商务局", "统计局", "卫健局", "住建局",
    "教育局", "民政局", "人社局", "交通运输局", "水利局", "农业农村局", "文旅局", "应急管理局",
    "市场监管局", "医保局", "退役军人事务局", "城管局", "科技局", "信访局", "国资局", "政府办公室",
    "政务服务中心", "档案馆", "体育事业发展中心", "机关事务服务中心",
)
_PARTY_UNITS = ("委组织部", "委宣传部", "委统战部", "委政法委", "委编办", "纪委监委", "委巡察办")
_STATIONED = ("自然资源局", "生态环境局", "税务局", "公安局", "规划局")
_JUDICIAL = ("法院", "检察院")
#: Bureaus that buy works and services most, hence carry most arrears.
_BIG_BUYERS = ("住建", "教育", "卫健", "城管", "交通", "水利", "政务服务")

_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
             "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "韩", "冯", "于", "董", "欧阳", "司马", "诸葛")
_COMPANY_PREFIXES = ("营口", "营口", "营口", "营口市", "辽宁", "大连", "沈阳", "鞍山")
_SCHOOLS = tuple(f"第{_cn(i)}中学" for i in range(1, 16)) + tuple(f"第{_cn(i)}小学" for i in range(1, 21)) + (
    "实验小学", "实验幼儿园", "职业中专", "特殊教育学校", "第一幼儿园", "第二幼儿园")
_SCHOOL_WORKS = ("操场改造工程", "教学楼抗震加固工程", "供暖管网改造工程", "食堂改造工程", "校舍维修工程",
                 "体育馆建设工程", "围墙及大门改造工程", "卫生间改造工程")
_ROADS = ("渤海大街", "市府路", "新兴大街", "建设路", "学府路", "青年街", "公园路", "盼盼路", "金牛山大街",
          "民主街", "站前街", "东升路", "平安路", "胜利路", "跃进街", "和平路", "光明街", "向阳路")
_PLACES = ("东风街道", "新兴街道", "建设街道", "跃进街道", "八田地街道", "站前广场", "渤海大街沿线",
           "火车站周边", "老城区", "金牛山片区")
_BUILDINGS = ("社区服务中心", "文化活动中心", "便民服务中心", "社区卫生服务站", "养老服务中心", "党群服务中心")
_OFFICES = ("区政务服务中心", "区档案馆", "区财政局", "区统计局", "区营商局", "区人社局")
_PHASES = ("一期", "二期", "三期")
_SECTIONS = ("一标段", "二标段", "三标段")
_HALVES = ("上半年", "下半年")
_QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")

#: (enterprise trade, weight of 中型/小型/微型, project templates)
_TRADES: tuple[tuple[str, tuple[int, int, int], tuple[str, ...]], ...] = (
    ("建筑工程", (5, 4, 1), ("{school}{school_work}", "{place}老旧小区改造工程（{phase}）", "{place}{building}维修改造工程")),
    ("建设集团", (7, 3, 0), ("站前区雨污分流改造工程（{section}）", "{school}{school_work}", "{place}{building}新建工程")),
    ("市政工程", (4, 5, 1), ("{road}路面修缮工程", "{place}背街小巷路灯改造工程", "{road}雨污分流改造工程（{section}）")),
    ("路桥工程", (5, 4, 1), ("站前区市政道路维修工程（{year}年度）", "{road}桥梁维修加固工程")),
    ("建材", (2, 5, 3), ("{school}{school_work}材料采购", "{place}老旧小区改造工程建材供应")),
    ("信息技术", (1, 6, 3), ("中小学智慧校园平台建设", "教育城域网升级改造", "全民健康信息平台接口改造",
                         "{office}信息系统等级保护测评服务")),
    ("软件科技", (1, 6, 3), ("财政预算管理一体化系统运维服务", "政务服务“一网通办”平台升级", "{office}办公自动化系统升级")),
    ("医疗器械", (1, 6, 3), ("社区卫生服务中心医疗设备采购", "基层医疗机构设备维保服务")),
    ("医药", (1, 6, 3), ("基层医疗机构药品配送", "社区卫生服务中心医用耗材采购（{year}年度）")),
    ("物业服务", (0, 4, 6), ("辖区公共区域保洁服务（{year}年{half}）", "{office}物业管理服务（{year}年度）")),
    ("保洁服务", (0, 3, 7), ("辖区环境卫生保洁服务（{year}年{quarter}）",)),
    ("园林绿化工程", (1, 6, 3), ("辖区绿化带补植养护工程", "{place}口袋公园建设工程", "{road}行道树补植工程")),
    ("防水工程", (0, 6, 4), ("辖区老旧楼屋面防水维修工程", "{school}教学楼屋面防水工程")),
    ("教学设备", (1, 6, 3), ("{year}年中小学课桌椅采购", "{school}实验室设备采购")),
    ("印务", (0, 3, 7), ("财政票据及宣传材料印制", "{year}年度政策宣传册印制")),
    ("会展服务", (0, 3, 7), ("{year}年站前区消费促进活动会展服务", "招商引资推介会会务服务")),
    ("广告传媒", (0, 3, 7), ("招商推介宣传片制作", "{year}年度城市形象宣传服务")),
    ("文化传播", (0, 3, 7), ("{year}年夜间经济促进活动策划服务", "社区文化活动组织服务（{year}年度）")),
    ("电子科技", (1, 6, 3), ("中小企业服务中心网络设备采购", "{school}多媒体教室设备采购")),
    ("工程造价咨询", (0, 6, 4), ("政府投资项目结算审核服务", "{place}改造工程造价咨询服务")),
    ("机械", (1, 5, 4), ("中小企业公共服务平台设备购置", "环卫作业机械采购")),
    ("数据服务", (0, 5, 5), ("工业企业数字化转型诊断服务", "经济普查数据处理服务")),
    ("保安服务", (1, 5, 4), ("中小学校园安保服务（{year}年度）", "{office}安保服务（{year}年度）")),
    ("环保科技", (1, 6, 3), ("{place}污水处理设施运维服务", "餐饮油烟治理设备采购")),
    ("消防工程", (1, 6, 3), ("{school}消防设施改造工程", "{place}老旧小区消防设施改造")),
    ("装饰工程", (1, 6, 3), ("{office}办公用房维修改造工程", "{school}食堂改造工程")),
)
_SIZES = ("中型", "小型", "微型")
#: Amount range in yuan by enterprise size (log-uniform inside).
_AMOUNT_RANGE = {"中型": (300_000, 6_000_000), "小型": (30_000, 1_500_000), "微型": (5_000, 200_000)}
_FUNDS = ("部门预算资金", "部门预算资金", "财政资金拨付", "专项债资金", "上级转移支付资金", "国库集中支付")

_CM_STATUSES = ("履行中", "已兑现", "部分兑现", "未兑现", "依法变更", "已终止")
_CM_CATEGORIES = ("招商引资", "政策兑现", "公开承诺", "合同履约", "服务承诺")
_INDUSTRIES = ("智能装备制造", "冷链物流园", "新能源科技", "生物医药", "新材料", "跨境电商产业园", "汽车零部件",
               "精细化工", "数字经济产业园", "港口物流", "绿色食品加工", "光伏组件", "镁质材料深加工", "文旅综合体")
_INDUSTRY_COMPANY = {"智能装备制造": "智能装备", "冷链物流园": "冷链物流", "新能源科技": "新能源科技", "生物医药": "生物医药",
                     "新材料": "新材料科技", "跨境电商产业园": "跨境电商", "汽车零部件": "汽车零部件", "精细化工": "化工",
                     "数字经济产业园": "数字科技", "港口物流": "港口物流", "绿色食品加工": "食品", "光伏组件": "光伏科技",
                     "镁质材料深加工": "镁业", "文旅综合体": "文旅发展"}
_INVEST_PROMISES = (
    ("用地手续办理及配套道路接通", "协助企业在协议签订后6个月内办结项目用地、规划和环评等审批手续", "建成项目地块配套道路并接通给排水管网"),
    ("配套道路及供水管网建设", "建成项目地块东侧配套道路", "将市政供水管网接入项目用地红线"),
    ("标准化厂房租金减免", "项目入驻标准化厂房后前三年免收租金，第四、五年租金减半", "协助企业申报省级重点产业项目"),
    ("项目用地供应", "将约定地块以挂牌方式依法组织出让", "完成地块周边市政配套"),
    ("供电供热配套建设", "完成项目专用变电设施建设", "将集中供热管网接入厂区"),
    ("固定资产投资奖励兑现", "按项目实际完成固定资产投资额的百分之三给予奖励", "奖励资金拨付到企业"),
    ("人才公寓配套", "为企业引进的专业技术人才提供人才公寓", "落实人才安家补贴"),
)
_POLICIES = (
    ("省级“专精特新”中小企业奖励资金", "每户给予一次性奖励20万元", "《站前区促进中小企业高质量发展若干政策措施》", "辖区获评省级“专精特新”称号的中小企业"),
    ("工业企业技术改造补贴", "按设备投资额的8%给予补贴，单户最高100万元", "《站前区工业企业技术改造专项资金管理办法》", "完成技术改造的规模以上工业企业"),
    ("既有住宅加装电梯财政补助", "每部电梯给予财政补助15万元", "《站前区既有住宅加装电梯财政补助实施细则》", "完成既有住宅加装电梯的住宅小区业主"),
    ("高新技术企业认定奖励", "每户给予一次性奖励10万元", "《站前区支持科技创新若干措施》", "新认定的高新技术企业"),
    ("商贸企业入统奖励", "每户给予一次性奖励5万元", "《站前区促进消费提质扩容若干措施》", "新纳入限额以上统计的商贸企业"),
    ("创业担保贷款贴息", "按贷款利息的50%给予贴息", "《站前区创业担保贷款实施办法》", "获得创业担保贷款的小微企业和个体工商户"),
    ("首台（套）重大技术装备保险补偿", "按保费的80%给予补偿", "《站前区首台（套）重大技术装备推广应用办法》", "投保首台（套）装备的制造企业"),
    ("外贸企业出口信用保险补贴", "按保费的50%给予补贴，单户最高30万元", "《站前区稳外贸若干措施》", "投保出口信用保险的外贸企业"),
)
_POLICY_DOCS = ("站政发", "站政办发", "站工信发", "站住建发", "站财发")
_PUBLIC_ITEMS = (
    ("完成{n}个老旧小区雨污分流改造", "解决雨季积水和管网混接问题", (4, 20)),
    ("年内建成开放{n}处口袋公园", "配建健身器材和休憩座椅", (2, 8)),
    ("新增义务教育学位{n}个", "缓解辖区入学压力", (180, 900)),
    ("改造提升{n}条背街小巷", "同步完善路灯和排水设施", (5, 30)),
    ("新建{n}处社区养老服务站", "为辖区老年人提供助餐和日间照料服务", (2, 10)),
    ("新增公共停车泊位{n}个", "缓解老城区停车难", (200, 1500)),
    ("完成{n}个老旧小区供热管网改造", "提高冬季室温达标率", (3, 15)),
    ("建成{n}处城市书房", "实行免费开放", (2, 6)),
)
_CONTRACT_SERVICES = ("辖区公共区域保洁服务", "中小学校园安保服务", "社区卫生服务中心设备维保服务", "政务服务中心物业管理服务",
                      "道路绿化养护服务", "政务云平台运维服务", "校园食堂食材配送服务", "老旧小区物业托管服务")
_SERVICE_ITEMS = (
    ("企业开办全流程一个工作日内办结", "企业设立登记、公章刻制、涉税事项办理等企业开办事项实行“一网通办”，材料齐全的**一个工作日内办结**", "辖区新开办企业", (1,)),
    ("工程建设项目审批全流程压缩至{n}个工作日", "一般社会投资工程建设项目从立项到竣工验收的审批时间压缩至**{n}个工作日**以内", "辖区工程建设项目单位", (35, 40, 45, 60)),
    ("不动产登记{n}个工作日内办结", "一般不动产登记业务办理时限压缩至{n}个工作日以内", "辖区企业和群众", (1, 3, 5)),
    ("社区卫生服务中心延时服务", "辖区各社区卫生服务中心工作日门诊延时至18时，周末提供半天门诊", "辖区居民", (1,)),
    ("政务服务事项全程网办比例达到{n}%", "依申请政务服务事项全程网办比例达到{n}%", "辖区企业和群众", (80, 85, 90, 95)),
    ("涉企诉求{n}个工作日内答复", "通过12345热线和营商环境监督平台受理的涉企诉求，在{n}个工作日内答复", "辖区企业", (3, 5, 7, 10)),
)
_GENERIC_NOTES = ("召开专题协调会，明确责任分工和时间节点。", "完成前期手续办理。", "向企业书面通报推进情况。",
                  "区政府督查室开展专项督查。", "完成资金测算并报区政府审定。", "与相关单位会商配套事项。")
_CATEGORY_NOTES = {
    "招商引资": ("项目用地、规划许可和环评批复手续全部办结。", "配套道路工程完成立项。", "配套工程开工建设。",
             "配套工程主体完工，进入验收阶段。", "召开企业座谈会，听取项目推进意见。"),
    "政策兑现": ("完成企业申报材料审核，核定符合条件企业。", "奖励资金纳入年度预算。", "第一批资金拨付到企业。",
             "对申报企业开展现场核查。"),
    "公开承诺": ("改造工程开工。", "已完成过半任务量并通过阶段验收。", "完成施工招标。", "向居民公开工程进度。"),
    "合同履约": ("第一季度服务费考核后按期支付。", "第二季度服务费按期支付。", "第三季度服务费按期支付。", "完成年度服务考核。"),
    "服务承诺": ("完成审批事项梳理，合并审批环节。", "相关系统完成联调测试。", "在政务服务中心公开服务承诺。",
             "开展承诺落实情况第三方暗访。"),
}
#: Why a commitment fell behind: the first note after its deadline.
_DELAY_CAUSES = {
    "招商引资": ("配套工程因资金未落实未能按期完工，已向企业说明情况。", "因地块规划调整，用地手续未能按期办结。"),
    "政策兑现": ("因资金未列入年初预算，未能按期兑现。", "上级专项资金未按期到位，暂未拨付，已向企业说明情况。"),
    "公开承诺": ("部分点位因管线迁改延误未能按期完工，已向社会公开说明。", "部分选址地块因权属问题需重新选址，未能按期完成。"),
    "合同履约": ("因财政资金未及时拨付，服务费未按期支付。", "因考核结果确认延误，服务费未按期结算。"),
    "服务承诺": ("相关系统对接未完成，承诺时限未能全面落实。", "部分审批环节涉及上级权限，承诺时限未能全面落实。"),
}
#: What happens next, in this order.
_DELAY_SEQUENCE = ("承诺逾期未兑现，经服务对象反映纳入政府承诺台账。", "制定整改时间表和路线图，书面告知服务对象。",
                   "列入区级重点督办事项，限期整改。", "整改步骤逾期，按二次失信情形跟踪督办。")
_RECTIFICATION_STEPS = {
    "招商引资": ("完成配套工程施工图设计和预算评审", "完成工程招标并开工建设", "配套工程完工并通过验收",
             "组织企业对承诺兑现情况进行书面确认"),
    "政策兑现": ("重新核定兑现范围和金额，报区政府审定", "兑现资金纳入年度预算调整方案", "资金拨付到位并向服务对象反馈"),
    "公开承诺": ("完成剩余点位选址和设计", "完成施工招标并开工建设", "剩余工程完工并组织验收", "向社会公开承诺完成情况"),
    "合同履约": ("核对应付服务费金额", "服务费纳入用款计划", "支付拖欠服务费及逾期利息", "与企业签订补充协议明确付款安排"),
    "服务承诺": ("梳理未达标事项并制定整改方案", "完成系统改造和流程再造", "开展落实情况第三方评估"),
}
_CHANGE_BASES = ("经批准的国土空间总体规划将原约定地块调整为公共绿地，原承诺因公共利益需要无法履行；经区政府常务会议审议，依照法定权限和程序变更承诺。",
                 "上级政策调整后原奖励标准不再适用，经合法性审查和区政府常务会议审议，依照法定程序调整兑现标准。",
                 "项目所在区域纳入重点生态保护范围，原约定建设内容因公共利益需要调整，经区政府常务会议审议后依法变更。")
_COMPENSATIONS = ("对企业为原约定事项支出的前期费用经第三方审核后依法补偿，已支付完毕。",
                  "与企业签订补充协议，协调区位条件相当的替代方案，企业书面确认无异议。",
                  "按补充协议约定对企业的直接损失依法予以补偿。")

_FINDING_CATEGORIES = ("拖欠账款", "承诺不兑现", "合同违约", "统计造假", "不履行司法裁判", "其他")
_BASIS = {
    "拖欠账款": "《保障中小企业款项支付条例》（国务院令第802号）；《辽宁省政务严重失信行为联合惩戒实施办法（试行）》",
    "承诺不兑现": "《辽宁省政务严重失信行为联合惩戒实施办法（试行）》；《营口市站前区人民政府关于加强诚信政府建设的实施意见》四（四）",
    "合同违约": "《中华人民共和国民法典》合同编；《营口市站前区人民政府关于加强诚信政府建设的实施意见》四（二）",
    "统计造假": "《中华人民共和国统计法》；《营口市站前区人民政府关于加强诚信政府建设的实施意见》四（五）",
    "不履行司法裁判": "《中华人民共和国民事诉讼法》关于执行的规定；《营口市站前区人民政府关于加强诚信政府建设的实施意见》五（一）",
    "其他": "《营口市站前区人民政府关于加强诚信政府建设的实施意见》四（六）",
    "公务员": "《中华人民共和国公职人员政务处分法》；《营口市站前区人民政府关于加强诚信政府建设的实施意见》五（一）",
}
_MEASURES = {
    "严重": ("责令限期整改；取消当年度各类荣誉评选资格；予以公开通报批评；对直接责任人依规依纪处理。",
           "责令限期整改；取消当年度各类荣誉评选资格；予以公开通报批评；对主要负责人和直接责任人依规依纪依法处理。"),
    "一般": ("责令限期整改；在全区范围内通报。", "责令限期整改。", "责令限期履行；在全区范围内通报。"),
    "轻微": ("责令改正。", "约谈单位负责人，责令改正。"),
    "公务员": ("给予政务警告处分；记入公务员诚信档案。", "给予政务记大过处分；记入公务员诚信档案。", "给予政务记过处分；记入公务员诚信档案。"),
}
_DEPOSITS = ("履约保证金", "租赁保证金", "投标保证金", "质量保证金")
_CONTRACTS = ("门市房租赁合同", "政府采购合同", "工程施工合同", "技术服务合同")
_SURVEYS = ("规模以下服务业", "规模以上工业", "固定资产投资", "限额以上批发零售业")
_JUDGMENTS = ("设备维保合同款及逾期利息", "工程款及逾期利息", "服务费及违约金", "租金及逾期付款违约金")
_TOPICS = ("技术改造补贴申报条件", "用地审批办理进度", "稳岗返还资金申领", "招商引资奖励兑现")
_MISCONDUCT = ("超越职权向申请人作出补助承诺且未如实报告，导致承诺无法兑现", "未按规定时限办理企业申请且未告知理由",
               "擅自提高审批材料要求，增加企业负担", "对企业投诉推诿拖延，造成不良影响")
_SERVICES_OFFICIAL = ("个体工商户经营场所改造补助申请", "企业开办登记", "小微企业创业补贴申请", "建设项目审批")
_OBJECTION_REASONS = {
    "维持": ("逾期系服务对象未按约定提交材料所致，不属于失信行为。", "认定依据适用错误，申请重新核查。",
           "已在认定前开始整改，申请不予认定。"),
    "更正": ("失信行为概要中的日期表述与原始材料不一致，申请更正。", "失信行为概要中的金额表述与原始材料不一致，申请更正。"),
    "待处理": ("已与服务对象重新协商解决方案并列入工作计划，申请撤销该失信记录。", "认定所依据的事实有误，申请复核。"),
}
#: Reasons that do get a record revoked, by category.
_REVOKE_REASONS = {
    "拖欠账款": "欠款在认定前已按协议清偿完毕，有支付凭证为证，申请撤销该失信记录。",
    "承诺不兑现": "承诺事项已在认定前依法变更并书面告知服务对象，不属于承诺不兑现。",
    "合同违约": "保证金已在约定期限内退还，有银行回单为证，申请撤销。",
    "统计造假": "数据差错系企业自行填报错误所致，单位未授意、指使编造数据，且已主动申报更正。",
    "不履行司法裁判": "判决确定的款项已在履行期限内支付，申请撤销。",
    "其他": "涉事事项不属于本单位职责范围，申请撤销。",
}
#: Unit kinds a finding of each category can plausibly concern.
_FINDING_SUBJECTS = {
    "统计造假": ("区直部门", "街道办事处"),
    "不履行司法裁判": ("区直部门", "街道办事处", "派驻机构"),
    "合同违约": ("区直部门", "街道办事处", "派驻机构"),
}
_EVALUATORS = ("辽宁某某信用评价研究院", "营口某某咨询评估有限公司", "沈阳某某信用管理有限公司")
_EVALUATION_OBJECTIONS = (("守信践诺", "相关承诺事项已列入整改计划，不应按未兑现计分"),
                          ("政务公开", "专栏信息已按季度更新，扣分所依据的截图时间有误"),
                          ("清欠工作", "相关欠款已签订分期清偿协议并按期支付"),
                          ("信用监管", "失信记录已撤销，不应扣分"))


# --- the template folder --------------------------------------------------------------------


class SynthError(Exception):
    """The template or output folder cannot be used; the message is Chinese."""


def _read_template(template: Path) -> dict[str, Any]:
    site_path = template / "site.yaml"
    if not site_path.is_file():
        raise SynthError(f"模板文件夹 {template} 中没有 site.yaml：请用 --data 指定示例数据文件夹（如 data/）")
    site_text = site_path.read_text(encoding="utf-8")
    site = yaml.safe_load(site_text)
    regimes = []
    for item in site["rules"]["disclosure_regimes"]:
        effective = item["effective_from"]
        effective = effective if isinstance(effective, date) else date.fromisoformat(str(effective))
        periods = {sev: (int(p["min_months"]), int(p["max_months"])) for sev, p in item["periods"].items()}
        regimes.append((effective.toordinal(), periods))
    regimes.sort(key=lambda r: r[0])
    payment = site["rules"]["payment"]
    depts_path = template / "departments.csv"
    with open(depts_path, encoding="utf-8", newline="") as f:
        departments = [dict(row) for row in csv.DictReader(f)]
    calendar_path, tasks_path = template / "calendar.yaml", template / "tasks.yaml"
    return {
        "site_text": site_text,
        "calendar_text": calendar_path.read_text(encoding="utf-8") if calendar_path.is_file() else None,
        "tasks_text": tasks_path.read_text(encoding="utf-8") if tasks_path.is_file() else "tasks: []\n",
        "departments": departments,
        "regimes": regimes,
        "max_term": int(payment["max_term_days"]),
        "publish_workdays": int(site["rules"]["serious_publish_workdays"]),
        "reply_workdays": int(site["rules"]["objection_reply_workdays"]),
    }


def _site_text(text: str, records: int, seed: int) -> str:
    def name(m: re.Match) -> str:
        value = m.group(1).strip().strip("\"'")
        return "site_name: " + _s(value if value.endswith("（合成数据）") else value + "（合成数据）")

    text = re.sub(r"(?m)^site_name:(.*)$", name, text, count=1)
    text = re.sub(r"(?m)^sample:.*$", "sample: true", text, count=1)
    head = f"# 合成数据：由 generator synth 生成（{records} 条记录，随机种子 {seed}），仅用于测试和演示。\n"
    return head + text


# --- departments ----------------------------------------------------------------------------


def _departments(rng: random.Random, template: list[dict], wanted: int) -> list[dict]:
    out = [dict(d) for d in template]
    names = {d["name"] for d in out}
    ids = {d["id"] for d in out}
    sort = max((int(d["sort"]) for d in out), default=0)
    extra = max(0, wanted - len(out))
    width = max(4, len(str(len(out) + extra)))
    streets: dict[str, int] = {}
    kinds = ("区直部门", "街道办事处", "区委部门", "派驻机构", "司法机关")
    for k in range(len(out) + 1, len(out) + extra + 1):
        kind = rng.choices(kinds, cum_weights=(45, 85, 92, 97, 100))[0]
        district = rng.choice(_DISTRICTS)
        name = ""
        for _attempt in range(4):  # a bureau name already taken: try another, then fall back to a street office
            if kind == "区直部门":
                name = district + rng.choice(_BUREAUS)
            elif kind == "区委部门":
                name = district + rng.choice(_PARTY_UNITS)
            elif kind == "派驻机构":
                name = f"市{rng.choice(_STATIONED)}{district[:-1] if len(district) > 2 else district}分局"
            elif kind == "司法机关":
                name = district + rng.choice(_JUDICIAL)
            if kind == "街道办事处" or name not in names:
                break
        else:
            kind = "街道办事处"
        if kind == "街道办事处":  # numbered within its district: 西市区第十二街道办事处
            streets[district] = streets.get(district, 0) + 1
            name = f"{district}第{_cn(streets[district])}街道办事处"
            while name in names:
                streets[district] += 1
                name = f"{district}第{_cn(streets[district])}街道办事处"
        dept_id = f"dept-{k:0{width}d}"
        while dept_id in ids:  # a template that already uses dept-… ids
            dept_id += "x"
        sort += 10
        names.add(name)
        ids.add(dept_id)
        out.append({"id": dept_id, "name": name, "kind": kind, "sort": str(sort),
                    "active": "false" if rng.random() < 0.03 else "true"})
    return out


class _Picker:
    """Weighted choice over a fixed list, with precomputed cumulative weights."""

    def __init__(self, items: list, weights: list[float]):
        self.items = items
        self.cum = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)

    def __call__(self, rng: random.Random):
        return rng.choices(self.items, cum_weights=self.cum)[0]


def _dept_weight(dept: dict, purpose: str) -> float:
    kind, name = dept["kind"], dept["name"]
    big = any(word in name for word in _BIG_BUYERS)
    if purpose == "arrears":
        return {"区直部门": 4.0 if big else 1.0, "街道办事处": 2.0, "区委部门": 0.2, "派驻机构": 0.6, "司法机关": 0.3}[kind]
    if purpose == "commitments":
        return {"区直部门": 2.5 if big else 1.5, "街道办事处": 1.5, "区委部门": 0.2, "派驻机构": 0.5, "司法机关": 0.1}[kind]
    return {"区直部门": 2.0 if big else 1.2, "街道办事处": 1.5, "区委部门": 0.3, "派驻机构": 0.6, "司法机关": 0.3}[kind]


def _abbr(dept_id: str) -> str:
    if dept_id.startswith("dept-"):
        return "D" + dept_id[5:]
    return dept_id.removeprefix("jd-").replace("-", "").upper()[:4]


# --- commitments ------------------------------------------------------------------------------


def _commitments(rng: random.Random, n: int, depts: list[dict], dept_pick: _Picker) -> list[dict]:
    ids = [d["id"] for d in depts]
    streets = [d for d in depts if d["kind"] == "街道办事处"]
    units = ids + ["区直各部门", "各街道办事处"]
    out = []
    for i in range(n):
        forced = _CM_STATUSES[i] if i < len(_CM_STATUSES) else None
        category = _CM_CATEGORIES[i % 5] if i < 10 else rng.choice(_CM_CATEGORIES)
        dept = dept_pick(rng)
        need_past = forced in ("部分兑现", "未兑现")
        while True:
            promised = rng.randint(_START, _REF - 20)
            promised = _weekday_on_or_before(promised, _START)
            span = rng.randint(60, 900) if category != "服务承诺" else rng.randint(60, 400)
            deadline = min(promised + span, _LAST)
            if not need_past or deadline <= _REF - 60:
                break
        past = deadline < _REF
        if forced:
            status = forced
        elif past:
            status = rng.choices(_CM_STATUSES, cum_weights=(8, 63, 75, 85, 92, 100))[0]
        else:
            status = rng.choices(("履行中", "已兑现", "依法变更", "已终止"), cum_weights=(72, 90, 95, 100))[0]
        c: dict[str, Any] = {"category": category, "department": dept["id"], "promised": promised,
                             "deadline": deadline, "status": status, "fulfilled": None, "change": None,
                             "progress": [], "rectification": []}
        _commitment_text(rng, c, dept, streets)
        partners = []
        for _ in range(rng.choices((0, 1, 2, 3), cum_weights=(15, 50, 85, 100))[0]):
            unit = rng.choice(units)
            if unit != dept["id"] and unit not in partners:
                partners.append(unit)
        c["partners"] = partners
        _commitment_history(rng, c)
        out.append(c)
    # ids: CM-<year of promise>-<serial>, in order of promise
    order = sorted(range(n), key=lambda k: (out[k]["promised"], k))
    serial: dict[int, int] = {}
    for k in order:
        year = date.fromordinal(out[k]["promised"]).year
        serial[year] = serial.get(year, 0) + 1
        out[k]["id"] = id_rule.record_id("commitments", year, serial[year])
    return [out[k] for k in order]


def _commitment_text(rng: random.Random, c: dict, dept: dict, streets: list[dict]) -> None:
    category, promised, deadline = c["category"], c["promised"], c["deadline"]
    year = date.fromordinal(promised).year
    due = _cn_date(deadline)
    if category == "招商引资":
        industry = rng.choice(_INDUSTRIES)
        title, first, second = rng.choice(_INVEST_PROMISES)
        c["title"] = f"{industry}项目{title}"
        c["counterparty"] = f"营口某某{_INDUSTRY_COMPANY[industry]}有限公司"
        c["masked"] = rng.random() < 0.8
        c["source"] = f"《{industry}项目投资合作协议》（站商协〔{year}〕{rng.randint(1, 20)}号）"
        c["content"] = f"区政府在项目投资合作协议中承诺：\n\n- {first}；\n- {due}前{second}。"
    elif category == "政策兑现":
        policy, support, doc, target = rng.choice(_POLICIES)
        c["title"] = f"{year - 1}年度{policy}兑现"
        c["counterparty"] = f"{year - 1}年度{target}（{rng.randint(3, 40)}户）" if rng.random() < 0.6 else f"{year - 1}年度{target}"
        c["masked"] = False
        c["source"] = f"{doc}（{rng.choice(_POLICY_DOCS)}〔{year - 1}〕{rng.randint(1, 30)}号）"
        c["content"] = f"对{year - 1}年度符合条件的申报对象，{support}，于{due}前兑现到位。"
    elif category == "公开承诺":
        item, benefit, (lo, hi) = rng.choice(_PUBLIC_ITEMS)
        item = item.format(n=rng.randint(lo, hi))
        c["title"] = item
        if streets and dept["kind"] == "街道办事处":
            c["counterparty"] = f"{dept['name'].removesuffix('办事处')}辖区居民"
            c["source"] = f"《{dept['name'].removesuffix('办事处')}{year}年为民办实事项目公开承诺》"
        else:
            c["counterparty"] = "辖区居民"
            c["source"] = f"《{year}年站前区人民政府工作报告》民生实事"
        c["masked"] = False
        c["content"] = f"{due}前{item}，{benefit}。"
    elif category == "合同履约":
        service = rng.choice(_CONTRACT_SERVICES)
        trade = rng.choice(("物业服务", "保安服务", "科技", "园林绿化工程", "信息技术", "食品配送"))
        c["title"] = f"{service}合同按{rng.choice(('季', '月'))}付款"
        c["counterparty"] = f"营口某某{trade}有限公司"
        c["masked"] = rng.random() < 0.2
        c["source"] = f"《{service}合同》（ZQ-{_abbr(dept['id'])}-{year}-{rng.randint(1, 60):03d}）"
        c["content"] = f"服务费按季度考核结算，每季度考核合格后{rng.choice((10, 15, 20, 30))}日内支付，合同期至{due}。"
    else:
        item, content, target, choices = rng.choice(_SERVICE_ITEMS)
        n = rng.choice(choices)
        c["title"] = item.format(n=n)
        c["counterparty"] = target
        c["masked"] = False
        c["source"] = rng.choice((f"《站前区{year}年优化营商环境服务承诺》", f"《站前区政务服务中心服务承诺书（{year}年版）》"))
        c["content"] = f"自{_cn_date(promised + rng.randint(10, 60))}起，{content.format(n=n)}，{due}前全面落实。"


def _commitment_history(rng: random.Random, c: dict) -> None:
    status, promised, deadline, category = c["status"], c["promised"], c["deadline"], c["category"]
    last = min(deadline, _REF)
    final_note = None
    if status == "已兑现":
        if deadline < _REF and rng.random() < 0.2:  # fulfilled late, after a rectification plan
            fulfilled = rng.randint(deadline + 20, min(deadline + 300, _REF)) if deadline + 20 <= _REF else _REF
            c["rectification"] = _steps(rng, category, deadline, fulfilled, all_done=True)
            final_note = (fulfilled, "整改到位，承诺事项逾期兑现，已向服务对象反馈。")
        else:
            fulfilled = rng.randint(min(promised + 30, last), last)
            final_note = (fulfilled, "承诺事项全部兑现，经服务对象确认。")
        c["fulfilled"] = fulfilled
    elif status == "依法变更":
        decided = rng.randint(min(promised + 30, last), last)
        # 实施意见四（四）: a lawful change states the compensation given (or that there was no loss)
        c["change"] = (decided, rng.choice(_CHANGE_BASES),
                       rng.choice(_COMPENSATIONS) if rng.random() < 0.7 else "经核实，变更未给企业造成财产损失，无需补偿。")
        final_note = (decided, "区政府常务会议审议决定依法变更承诺，并书面告知服务对象。")
    elif status == "已终止":
        ended = rng.randint(min(promised + 30, last), last)
        c["change"] = (ended, "双方协商一致签订解除协议；《中华人民共和国民法典》第五百六十二条第一款（当事人协商一致，可以解除合同）。", None)
        final_note = (ended, "双方协商一致签订解除协议，已发生款项全部结清，承诺终止。")
    elif deadline < _REF - 30 and (status in ("部分兑现", "未兑现") and rng.random() < 0.75 or status == "履行中" and rng.random() < 0.4):
        start = deadline + rng.randint(20, 90)
        if start < _REF:
            steps = _steps(rng, category, start, None, all_done=False)
            if all(done is not None for _step, _due, done in steps):  # still open: the last step is not done
                steps[-1] = (steps[-1][0], steps[-1][1], None)
            c["rectification"] = steps

    k = rng.choices((0, 1, 2, 3, 4), cum_weights=(10, 35, 65, 85, 100))[0]
    if final_note and k == 0:
        k = 1
    count = k - (1 if final_note else 0)
    delayed = status in ("部分兑现", "未兑现") or (status == "履行中" and deadline < _REF - 30)
    notes: list[tuple[int, str]] = []
    if delayed and count:
        # some notes while on time, then the story of the delay in its natural order
        before = rng.randint(0, count - 1)
        after = count - before
        end = min(deadline, _REF)
        pool = _CATEGORY_NOTES[category] + _GENERIC_NOTES
        picks = rng.sample(pool, min(before, len(pool)))
        dates = sorted(rng.randint(min(promised + 7, end), end) for _ in picks)
        notes += list(zip(dates, picks))
        story = (rng.choice(_DELAY_CAUSES[category]),) + _DELAY_SEQUENCE[:1]
        if c["rectification"]:
            story += _DELAY_SEQUENCE[1:3]
            if any(done is None and due < _REF for _step, due, done in c["rectification"]):
                story += _DELAY_SEQUENCE[3:]
        lo, hi = min(deadline + 7, _REF), min(deadline + 720, _REF)
        dates = sorted(rng.randint(lo, hi) for _ in range(min(after, len(story))))
        notes += list(zip(dates, story))
        if status == "部分兑现":
            notes[-1] = (notes[-1][0], "部分事项已兑现，其余事项正在按整改计划推进，已向服务对象说明。")
    elif count:
        end = final_note[0] if final_note else _REF
        pool = _CATEGORY_NOTES[category] + _GENERIC_NOTES
        picks = rng.sample(pool, min(count, len(pool)))
        dates = sorted(rng.randint(min(promised + 7, end), end) for _ in picks)
        notes += list(zip(dates, picks))
    if final_note:
        notes.append(final_note)
    notes.sort(key=lambda n: n[0])
    c["progress"] = notes


def _steps(rng: random.Random, category: str, start: int, finished: int | None, all_done: bool) -> list[tuple]:
    """A rectification plan (整改时间表和路线图): 2–4 dated steps after `start`, in their natural order."""
    catalogue = _RECTIFICATION_STEPS[category]
    k = rng.randint(2, len(catalogue))
    labels = [catalogue[j] for j in sorted(rng.sample(range(len(catalogue)), k))]
    steps = []
    if all_done and finished is not None:
        total = max(finished - start, k)
        for j, label in enumerate(labels):
            due = start + total * (j + 1) // k
            done = max(start, min(due - rng.randint(0, 6), finished))
            steps.append((label, due + rng.randint(0, 10), done))
        return steps
    due, prev_done = start, start
    lapsed = False
    for label in labels:
        due += rng.randint(30, 150)
        if due > _LAST:
            if len(steps) >= 2:
                break
            due = _LAST - (1 - len(steps)) * 30
        done = None
        if due <= _REF and not lapsed:
            if rng.random() < 0.8:
                done = max(prev_done, due - rng.randint(0, 15))
                prev_done = done
            else:
                lapsed = True  # 二次失信: a step ran past its date
        elif due > _REF and not lapsed and rng.random() < 0.1 and prev_done < _REF:
            done = rng.randint(prev_done, _REF)
            prev_done = done
        steps.append((label, due, done))
    return steps


_EXTENSION_REASONS = (
    "上级部门调整项目申报窗口，原期限前无法完成申报。",
    "企业申请延期并提供了不可抗力证明，经审核同意顺延。",
    "配套基础设施建设工期顺延，承诺事项相应延后。",
)


def _accountability(seed: int, commitments: list[dict]) -> None:
    """A few lawful deadline changes with their change log, and a few withdrawals (issue 16),
    so that large data exercises them too. A separate random stream, so the rest of the
    synthetic data stays as it was for the same seed."""
    rng = random.Random(f"accountability-{seed}")
    for c in commitments:
        if c["status"] != "履行中" or c["rectification"] or c["change"]:
            continue
        roll = rng.random()
        if roll < 0.25 and c["deadline"] > _REF:  # a deadline not yet reached, extended by agreement, logged
            old, day = c["deadline"], rng.randint(min(c["promised"] + 30, _REF), _REF)
            c["deadline"] = old + rng.randint(60, 240)
            c["changes"] = [(day, "deadline", f"兑现期限由 {_iso(old)} 调整为 {_iso(c['deadline'])}。",
                             rng.choice(_EXTENSION_REASONS), "承诺协议中的期限顺延条款；经与服务对象书面协商一致。",
                             f"站政办函〔{_iso(day)[:4]}〕{rng.randint(1, 99)}号（示例）")]
        elif roll > 0.97:  # entered twice: withdrawn, never deleted
            day = rng.randint(min(c["promised"] + 10, _REF), _REF)
            c["status"] = "已撤回"
            c["progress"] = [n for n in c["progress"] if n[0] <= day]
            c["withdrawal"] = (day, "与本单位另一条承诺为同一事项，重复登记，经核实后撤回。",
                               f"站政办函〔{_iso(day)[:4]}〕{rng.randint(1, 99)}号（示例）")


def _commitment_yaml(c: dict) -> str:
    out = [f"id: {c['id']}\n", f"title: {_s(c['title'])}\n", f"category: {c['category']}\n",
           f"department: {c['department']}\n", f"partners: {_flow(c['partners'])}\n",
           f"counterparty: {_s(c['counterparty'])}\n", f"counterparty_masked: {'true' if c['masked'] else 'false'}\n",
           f"promised_on: {_iso(c['promised'])}\n", f"source: {_s(c['source'])}\n", _block("content", c["content"]),
           f"deadline: {_iso(c['deadline'])}\n", f"status: {c['status']}\n"]
    if c["fulfilled"] is not None:
        out.append(f"fulfilled_on: {_iso(c['fulfilled'])}\n")
    if c["change"]:
        decided, basis, compensation = c["change"]
        out.append(f"change:\n  decided_on: {_iso(decided)}\n  basis: {_s(basis)}\n")
        if compensation:
            out.append(f"  compensation: {_s(compensation)}\n")
    if c.get("withdrawal"):
        day, reason, document = c["withdrawal"]
        out.append(f"withdrawal:\n  date: {_iso(day)}\n  reason: {_s(reason)}\n  document: {_s(document)}\n")
    if c.get("changes"):
        out.append("changes:\n")
        for day, fields, what, reason, basis, document in c["changes"]:
            out.append(f"  - date: {_iso(day)}\n    fields: {fields}\n    what: {_s(what)}\n    reason: {_s(reason)}\n"
                       f"    basis: {_s(basis)}\n    document: {_s(document)}\n")
    if c["progress"]:
        out.append("progress:\n")
        out.extend(f"  - date: {_iso(d)}\n    note: {_s(note)}\n" for d, note in c["progress"])
    else:
        out.append("progress: []\n")
    if c["rectification"]:
        out.append("rectification:\n")
        for step, due, done in c["rectification"]:
            out.append(f"  - step: {_s(step)}\n    due: {_iso(due)}\n")
            if done is not None:
                out.append(f"    done_on: {_iso(done)}\n")
    else:
        out.append("rectification: []\n")
    return "".join(out)


# --- arrears --------------------------------------------------------------------------------------

_FILLERS: dict[str, Callable[[random.Random, int], str]] = {
    "school": lambda r, y: r.choice(_SCHOOLS),
    "school_work": lambda r, y: r.choice(_SCHOOL_WORKS),
    "road": lambda r, y: r.choice(_ROADS),
    "place": lambda r, y: r.choice(_PLACES),
    "building": lambda r, y: r.choice(_BUILDINGS),
    "office": lambda r, y: r.choice(_OFFICES),
    "phase": lambda r, y: r.choice(_PHASES),
    "section": lambda r, y: r.choice(_SECTIONS),
    "half": lambda r, y: r.choice(_HALVES),
    "quarter": lambda r, y: r.choice(_QUARTERS),
    "year": lambda r, y: str(y),
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fill(rng: random.Random, template: str, year: int) -> str:
    if "{" not in template:
        return template
    return _PLACEHOLDER.sub(lambda m: _FILLERS[m.group(1)](rng, year), template)


def _uscc(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + "2108" + rng.choice(("02", "03", "04", "11", "81", "82")) + "MA" + rng.choice("01") + \
        "".join(rng.choice(alphabet) for _ in range(6))
    return body + uscc_check_char(body)


def _creditors(rng: random.Random, n: int) -> list[tuple[str, str, str, int]]:
    """A pool of (name, code, size, trade index): the same firms recur in the ledger."""
    pool = []
    for _ in range(n):
        t = rng.randrange(len(_TRADES))
        trade, weights, _templates = _TRADES[t]
        size = rng.choices(_SIZES, weights=weights)[0]
        prefix = rng.choice(_COMPANY_PREFIXES)
        if trade == "建设集团":
            name = f"{prefix}某某建设集团有限公司"
        else:
            suffix = rng.choices(("有限公司", "有限责任公司", "股份有限公司"), cum_weights=(80, 95, 100))[0]
            name = f"{prefix}某某{trade}{suffix}"
        code = _uscc(rng) if rng.random() < 0.4 else ""
        pool.append((name, code, size, t))
    return pool


def _arrears(rng: random.Random, n: int, depts: list[dict], dept_pick: _Picker, max_term: int) -> tuple[list, list, list]:
    creditors = _creditors(rng, max(12, n // 3))
    items = []
    for i in range(n):
        dept = dept_pick(rng)
        name, code, size, t = rng.choice(creditors)
        trade, _weights, templates = _TRADES[t]
        delivered = rng.randint(_START, _REF - 100)
        year = date.fromordinal(delivered).year
        project = _fill(rng, rng.choice(templates), year if rng.random() < 0.7 else year - 1)
        long_term = rng.random() < 0.02
        term = rng.choice((90, 120)) if long_term else rng.choices((30, 45, 60), cum_weights=(55, 80, 100))[0]
        term = min(term, max_term) if not long_term else max(term, max_term + 30)
        due = delivered + term
        found = min(due + rng.randint(5, 150), _REF)
        found = _weekday_on_or_before(found, due)
        lo, hi = _AMOUNT_RANGE[size]
        yuan = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        roundness = rng.random()
        if roundness < 0.5:
            fen = max(1, round(yuan / 100)) * 10000
        elif roundness < 0.8:
            fen = max(1, round(yuan)) * 100
        else:
            fen = max(100, round(yuan * 100))
        disputed = rng.random() < 0.06
        resolution = rng.choices(("协商", "调解", "诉讼", "仲裁"), cum_weights=(45, 75, 92, 100))[0] if disputed else ""
        rate = rng.choice(("0.03", "0.04", "0.02")) if rng.random() < 0.05 else ""
        contract_year = year if rng.random() < 0.8 else year - 1
        if rng.random() < 0.7:
            contract = f"ZQ-{_abbr(dept['id'])}-{contract_year}-{rng.randint(1, 120):03d}"
        else:
            contract = f"站采〔{contract_year}〕{rng.randint(1, 400)}号"
        if i < 3:
            outcome = ("cleared", "partly", "unpaid")[i]
        else:
            age = _REF - found
            p_clear = 0.2 + 0.55 * min(age / 1500, 1.0)
            x = rng.random()
            outcome = "cleared" if x < p_clear else ("partly" if x < p_clear + 0.3 else "unpaid")
        planned = i >= 3 and not disputed and (
            (outcome != "cleared" and (i == 3 or rng.random() < 0.52)) or (outcome == "cleared" and rng.random() < 0.15))
        items.append({"debtor": dept["id"], "creditor": name, "code": code, "size": size, "project": project,
                      "contract": contract, "fen": fen, "delivered": delivered, "due": due, "found": found,
                      "rate": rate, "disputed": disputed, "resolution": resolution, "outcome": outcome,
                      "planned": planned, "term": term})

    order = sorted(range(n), key=lambda k: (items[k]["found"], k))
    serial: dict[int, int] = {}
    ledger, plans, repayments = [], [], []
    for k in order:
        a = items[k]
        year = date.fromordinal(a["found"]).year
        serial[year] = serial.get(year, 0) + 1
        a["id"] = id_rule.record_id("arrears", year, serial[year])
    for k in order:
        a = items[k]
        plan = _plan(rng, a) if a["planned"] else []
        pays = _plan_payments(rng, a, plan) if plan else _payments(rng, a)
        overdue_plan = any(due < _REF and not paid for due, _amount, paid in plan)
        a["paid"] = sum(p[1] for p in pays)
        note = _arrears_note(rng, a, bool(plan), overdue_plan)
        ledger.append((a["id"], a["debtor"], a["creditor"], a["code"], a["size"], a["project"], a["contract"],
                       _yuan(a["fen"]), _iso(a["delivered"]), _iso(a["due"]), _iso(a["found"]), a["rate"],
                       "true" if a["disputed"] else "false", a["resolution"], note,
                       "", "", _disputed_amount(a), ""))
        plans.extend((a["id"], _iso(due), _yuan(amount)) for due, amount, _paid in plan)
        repayments.extend((paid_on, a["id"], amount, text) for paid_on, amount, text in pays)
    repayments.sort(key=lambda r: (r[0], r[1]))
    seq: dict[tuple, int] = {}
    repayment_rows = []
    for paid_on, arrears_id, amount, text in repayments:  # the n-th payment of a debt on one day
        seq[(arrears_id, paid_on)] = seq.get((arrears_id, paid_on), 0) + 1
        repayment_rows.append((arrears_id, _iso(paid_on), str(seq[(arrears_id, paid_on)]), _yuan(amount), text))
    return [items[k] for k in order], ledger, (plans, repayment_rows)


def _plan(rng: random.Random, a: dict) -> list[list]:
    """2–4 instalments at month ends after the ledger entry, summing exactly to the amount."""
    k = rng.choices((2, 3, 4), cum_weights=(45, 85, 100))[0]
    unit = 1_000_000 if a["fen"] >= 50_000_000 else (10_000 if a["fen"] >= 1_000_000 else 100)
    if a["fen"] < unit * k * 2:
        k, unit = 2, 100
    base = a["fen"] // k // unit * unit
    amounts = [base] * (k - 1) + [a["fen"] - base * (k - 1)]
    if base <= 0:
        amounts = [a["fen"]]
    found = date.fromordinal(a["found"])
    month = found.month + rng.randint(1, 3)
    step = rng.choice((3, 6))
    while step > 1 and _month_end(found.year, month + (len(amounts) - 1) * step) > _LAST:
        step -= 1
    plan = []
    for j, amount in enumerate(amounts):
        plan.append([_month_end(found.year, month + j * step), amount, 0])
    return plan


def _plan_payments(rng: random.Random, a: dict, plan: list[list]) -> list[tuple[int, int, str]]:
    """Pay instalments as they fall due: most on time, some late, partly, or not at all."""
    behaviour = "cleared" if a["outcome"] == "cleared" else rng.choices(("good", "late", "bad"), cum_weights=(50, 75, 100))[0]
    fund = rng.choice(_FUNDS)
    floor = max(a["found"], a["delivered"])
    pays = []
    stopped = False
    for inst in plan:
        due, amount, _ = inst
        if stopped:
            break
        if behaviour in ("cleared", "good"):
            paid_on = max(floor, due - rng.randint(0, 12))
        elif behaviour == "late":
            paid_on = due + rng.randint(5, 90)
        else:
            paid_on = due - rng.randint(0, 12) if rng.random() < 0.4 else _REF + 1
        if behaviour == "cleared":
            paid_on = min(paid_on, _REF)
        if paid_on > _REF:
            stopped = True
            continue
        paid_on = max(paid_on, floor)
        if behaviour == "bad" and rng.random() < 0.4:
            amount = max(100, amount // 2 // 10000 * 10000 or amount // 2)
            stopped = True
        pays.append((paid_on, amount, fund))
        inst[2] = amount
    return pays


def _payments(rng: random.Random, a: dict) -> list[tuple[int, int, str]]:
    outcome, fen = a["outcome"], a["fen"]
    if outcome == "unpaid":
        return []
    floor = max(a["found"], a["delivered"])
    unit = 10_000 if fen >= 2_000_000 else 100
    if outcome == "cleared":
        k = rng.choices((1, 2, 3, 4, 5), cum_weights=(40, 70, 85, 95, 100))[0]
        total = fen
    else:
        k = rng.choices((1, 2, 3, 4), cum_weights=(45, 75, 90, 100))[0]
        total = round(fen * rng.uniform(0.1, 0.9) / unit) * unit
        if not 0 < total < fen:
            total = fen // 2 if fen >= 2 else 0
        if total <= 0:
            return []
    amounts = _split(rng, total, k, unit)
    last = min(_REF, floor + rng.randint(30, 900))
    dates = sorted(rng.randint(floor, last) for _ in amounts)
    fund = rng.choice(_FUNDS)
    if a["disputed"] and outcome == "partly":
        return [(d, amount, "支付无争议部分") for d, amount in zip(dates, amounts)]
    return [(d, amount, fund) for d, amount in zip(dates, amounts)]


def _disputed_amount(a: dict) -> str:
    """The size of a dispute: what is still unpaid when the undisputed part was paid, else the whole amount."""
    if not a["disputed"]:
        return ""
    if a["outcome"] == "partly" and 0 < a["paid"] < a["fen"]:
        return _yuan(a["fen"] - a["paid"])
    return _yuan(a["fen"])


def _arrears_note(rng: random.Random, a: dict, planned: bool, overdue_plan: bool) -> str:
    if a["disputed"]:
        return {"协商": "双方对结算金额存在争议，无争议部分正在支付，争议部分正在协商。",
                "调解": "双方对计费基数存在争议，已申请人民调解。",
                "诉讼": "债权企业已向法院提起诉讼，案件审理中。",
                "仲裁": "双方已按合同约定申请仲裁。"}[a["resolution"]]
    if a["term"] > 60:
        return f"合同约定验收后{a['term']}日付款，超过法定最长期限。"
    if a["rate"]:
        return f"合同约定逾期付款按每日万分之{_cn(round(float(a['rate']) * 100))}计息。"
    if planned:
        return "分期计划有逾期未付的期次，已列入重点督办。" if overdue_plan else "已签订分期清偿协议。"
    x = rng.random()
    if x < 0.25:
        return "经排查纳入台账。"
    if x < 0.35:
        return "已列入年度清欠计划。"
    return ""


# --- findings --------------------------------------------------------------------------------------


def _regime(regimes: list, ordinal: int) -> dict:
    found = regimes[0][1]
    for effective, periods in regimes:
        if effective <= ordinal:
            found = periods
    return found


def _latest_expired(regimes: list, severity: str) -> int:
    """The latest decision day whose longest display period (under its regime) is over by the reference date."""
    day = _REF - 1
    while day > _START and add_months(date.fromordinal(day), _regime(regimes, day)[severity][1]).toordinal() >= _REF:
        day -= 1
    return day


def _findings(rng: random.Random, n: int, tmpl: dict, depts: list[dict], dept_pick: _Picker,
              commitments: list[dict], arrears: list[dict], calendar: WorkdayCalendar) -> list[dict]:
    regimes = tmpl["regimes"]
    first_decision = max(_START, regimes[0][0])
    names = {d["id"]: d["name"] for d in depts}
    owed = [a for a in arrears if a["outcome"] != "cleared" and a["due"] <= _REF - 90]
    broken = [c for c in commitments if c["status"] in ("未兑现", "部分兑现") and c["deadline"] <= _REF - 60]
    archetypes = ("revoked", "repaired", "expired", "minor", "serious", "pending", "official")
    out = []
    for i in range(n):
        kind = archetypes[i] if i < len(archetypes) else None
        severity = {"revoked": "一般", "repaired": "一般", "expired": "一般", "minor": "轻微", "serious": "严重"}.get(kind)
        if severity is None:
            severity = rng.choices(("严重", "一般", "轻微"), cum_weights=(25, 80, 100))[0]
        official = kind == "official" or (kind is None and rng.random() < 0.08)
        category = "其他" if official else rng.choices(_FINDING_CATEGORIES, cum_weights=(35, 55, 70, 78, 88, 100))[0]
        latest = {"revoked": _REF - 120, "repaired": _REF - 200, "expired": min(_REF - 420, _latest_expired(regimes, "一般")),
                  "serious": _REF - 30}.get(kind, _REF)
        lowest = _REF - 300 if kind == "serious" else first_decision + (180 if kind == "repaired" else 30)  # serious: on display
        related: list[str] = []
        subject = None
        if category == "拖欠账款" and owed:
            a = rng.choice(owed)
            low = max(a["found"], a["due"] + 60, lowest)
            if low <= latest:
                subject, related = a["debtor"], [a["id"]]
                decided = rng.randint(low, min(latest, low + 540))  # found out within a year or two
                summary = (f"{names[a['debtor']]}拖欠{a['creditor']}{a['project']}款{_wan(a['fen'])}万元，"
                           f"约定付款日期为{_cn_date(a['due'])}；纳入清欠台账后仍未按期支付。")
        elif category == "承诺不兑现" and broken:
            c = rng.choice(broken)
            low = max(c["deadline"] + 30, lowest)
            if low <= latest:
                subject, related = c["department"], [c["id"]]
                decided = rng.randint(low, min(latest, low + 540))
                months = max(1, (decided - c["deadline"]) // 30)
                summary = (f"{names[c['department']]}牵头落实的“{c['title']}”承诺，约定于{_cn_date(c['deadline'])}前兑现，"
                           f"逾期{months}个月仍未兑现，影响服务对象的合法权益。")
        if subject is None:
            if category in ("拖欠账款", "承诺不兑现"):
                category = "合同违约"
            allowed = _FINDING_SUBJECTS.get(category)
            dept = dept_pick(rng)
            for _ in range(8):
                if allowed is None or dept["kind"] in allowed:
                    break
                dept = dept_pick(rng)
            subject = dept["id"]
            decided = rng.randint(lowest, latest)
            summary = _finding_summary(rng, category, names[subject], official)
        decided = _weekday_on_or_before(decided, lowest)
        person = (rng.choice(_SURNAMES) + "某") if official else None
        if person:
            summary = summary.replace("工作人员", f"工作人员{person}", 1)

        if official:
            authority, prefix = "区纪委监委", "站纪监处"
        elif category == "统计造假":
            authority, prefix = "区统计局", "站统执认"
        elif category == "不履行司法裁判":
            authority, prefix = "区法院", "court"
        elif category == "其他" and rng.random() < 0.5:
            authority, prefix = "区营商局", "站营商认"
        else:
            authority, prefix = "区发改局", "站发改信认"

        # publication: serious within the working-day limit (some late), minor normally not at all
        published = None
        if severity == "严重":
            late = kind is None and rng.random() < 0.15
            days = rng.randint(tmpl["publish_workdays"] + 1, tmpl["publish_workdays"] + 15) if late else rng.randint(2, tmpl["publish_workdays"])
            published = calendar.add_workdays(date.fromordinal(decided), days).toordinal()
        elif severity == "一般":
            published = calendar.add_workdays(date.fromordinal(decided), rng.randint(2, 10)).toordinal()
        elif kind is None and rng.random() < 0.05:
            published = calendar.add_workdays(date.fromordinal(decided), rng.randint(2, 5)).toordinal()
        if published is not None and published > _REF:
            published = None

        min_months, max_months = _regime(regimes, decided)[severity]
        decided_date = date.fromordinal(decided)
        disclosure_until = None
        if kind is None and severity != "轻微" and published and rng.random() < 0.1:
            # 民法典 201/202: a period of N months ends on the corresponding day (model.period_end)
            low = (add_months(decided_date, min_months)).toordinal()
            high = (add_months(decided_date, max_months)).toordinal()
            disclosure_until = rng.randint(low, high)

        rect_due = rect_done = None
        if not official or rng.random() < 0.3:
            rect_due = decided + rng.randint(20, 200)
            if kind == "repaired" or (rect_due <= _REF and rng.random() < 0.8) or (rect_due > _REF and rng.random() < 0.3):
                rect_done = rng.randint(decided + 5, max(decided + 5, min(rect_due, _REF)))
                rect_done = min(rect_done, _REF)

        objections = []
        if published and (kind in ("revoked", "pending") or (kind is None and rng.random() < 0.2)):
            filed = published + rng.randint(1, 20)
            if kind == "pending":
                filed = max(published + 1, _REF - rng.randint(1, 10))
            if filed <= _REF:
                if kind == "revoked":
                    outcome = "撤销"
                elif kind == "pending":
                    outcome = None
                else:
                    outcome = rng.choices(("维持", "更正", "撤销"), cum_weights=(60, 85, 100))[0]
                reply = tmpl["reply_workdays"]
                days = rng.randint(3, reply) if rng.random() < 0.9 else rng.randint(reply + 1, reply + 10)
                obj_decided = calendar.add_workdays(date.fromordinal(filed), days).toordinal() if outcome else None
                if obj_decided is not None and obj_decided > _REF:
                    if kind == "revoked":
                        obj_decided = _REF
                    else:
                        obj_decided, outcome = None, None
                reason = _REVOKE_REASONS[category] if outcome == "撤销" else rng.choice(_OBJECTION_REASONS[outcome or "待处理"])
                objections.append((filed, reason, obj_decided, outcome))
                # a second objection after a decision that was upheld
                if outcome == "维持" and rng.random() < 0.15 and obj_decided + 10 <= _REF:
                    filed2 = obj_decided + rng.randint(5, 60)
                    if filed2 <= _REF:
                        d2 = calendar.add_workdays(date.fromordinal(filed2), rng.randint(3, reply)).toordinal()
                        objections.append((filed2, rng.choice(_OBJECTION_REASONS["更正"]), d2 if d2 <= _REF else None,
                                           "更正" if d2 <= _REF else None))
        revoked = any(o[3] == "撤销" for o in objections)

        repair = None
        repair_from = add_months(decided_date, min_months).toordinal() + 1  # the day after the minimum period
        if (published and not revoked and rect_done is not None and kind != "expired"
                and (kind == "repaired" or (kind is None and rng.random() < 0.3))):
            floor = max(repair_from, rect_done, published)
            if floor <= _REF - (20 if kind == "repaired" else 0):
                applied = rng.randint(floor, min(_REF - (20 if kind == "repaired" else 0), floor + 200))
                repair_decided = applied + rng.randint(5, 20)
                if repair_decided <= _REF:
                    outcome = "准予修复" if kind == "repaired" or rng.random() < 0.8 else "不予修复"
                    repair = (applied, repair_decided, outcome)
                else:
                    repair = (applied, None, None)

        measures_key = "公务员" if official else severity
        measures = rng.choice(_MEASURES[measures_key])
        sanction = next((k for k in ("记大过", "记过", "警告") if f"政务{k}处分" in measures), None) if official else None
        # the upload to the credit platform: most serious findings record it (as published), some do not
        uploaded = published if severity == "严重" and published and decided % 5 else None
        out.append({
            "subject": subject, "kind": "公务员" if official else "政府机构", "person": person,
            "severity": severity, "category": category, "summary": summary,
            "authority": authority, "prefix": prefix, "decided": decided,
            "basis": _BASIS["公务员" if official else category], "published": published,
            "disclosure_until": disclosure_until, "measures": measures, "sanction": sanction, "uploaded": uploaded,
            "rect_due": rect_due, "rect_done": rect_done, "related": related, "objections": objections,
            "repair": repair,
        })

    order = sorted(range(n), key=lambda k: (out[k]["decided"], k))
    serial: dict[int, int] = {}
    docs: dict[tuple[str, int], int] = {}
    for k in order:
        f = out[k]
        year = date.fromordinal(f["decided"]).year
        serial[year] = serial.get(year, 0) + 1
        f["id"] = id_rule.record_id("findings", year, serial[year])
        docs[(f["prefix"], year)] = docs.get((f["prefix"], year), 0) + 1
        number = docs[(f["prefix"], year)]
        f["doc_no"] = f"（{year}）辽0802执{number + 100}号" if f["prefix"] == "court" else f"{f['prefix']}〔{year}〕{number}号"
    return [out[k] for k in order]


def _finding_summary(rng: random.Random, category: str, name: str, official: bool) -> str:
    if official:
        return (f"{name}工作人员在办理{rng.choice(_SERVICES_OFFICIAL)}过程中，{rng.choice(_MISCONDUCT)}，引发投诉。")
    if category == "合同违约":
        return (f"{name}与营口某某{rng.choice(('商贸', '科技', '建筑工程', '物业服务'))}有限公司签订的{rng.choice(_CONTRACTS)}"
                f"履行完毕后，未按合同约定期限退还{rng.choice(_DEPOSITS)}{rng.randint(2, 60)}.{rng.randint(0, 9)}万元，"
                f"逾期{rng.randint(2, 8)}个月。")
    if category == "统计造假":
        return (f"{name}在{rng.choice(_SURVEYS)}统计调查中报送的部分企业营业收入数据与企业财务报表不符，被认定为虚报统计数据。")
    if category == "不履行司法裁判":
        return (f"{name}作为被执行人，未在生效民事判决确定的期限内向营口某某{rng.choice(('医疗器械', '建筑工程', '信息技术'))}"
                f"有限公司支付{rng.choice(_JUDGMENTS)}，经法院立案强制执行。")
    return f"{name}未在承诺时限内答复企业关于{rng.choice(_TOPICS)}的政策咨询，超期{rng.randint(3, 20)}个工作日。"


def _finding_yaml(f: dict) -> str:
    out = [f"id: {f['id']}\n", f"subject: {f['subject']}\n", f"subject_kind: {f['kind']}\n"]
    if f["person"]:
        out.append(f"person: {f['person']}\n")
    if f.get("sanction"):
        out.append(f"sanction: {f['sanction']}\n")
    out += [f"severity: {f['severity']}\n", f"category: {f['category']}\n", f"summary: {_s(f['summary'])}\n",
            "decision:\n", f"  authority: {_s(f['authority'])}\n", f"  doc_no: {_s(f['doc_no'])}\n",
            f"  decided_on: {_iso(f['decided'])}\n", f"  basis: {_s(f['basis'])}\n"]
    if f["published"]:
        out.append(f"published_on: {_iso(f['published'])}\n")
    if f.get("uploaded"):
        out.append(f"uploaded_on: {_iso(f['uploaded'])}\n")
    if f["disclosure_until"]:
        out.append(f"disclosure_until: {_iso(f['disclosure_until'])}\n")
    out.append(f"measures: {_s(f['measures'])}\n")
    if f["rect_due"]:
        out.append(f"rectification:\n  due: {_iso(f['rect_due'])}\n")
        if f["rect_done"]:
            out.append(f"  done_on: {_iso(f['rect_done'])}\n")
    out.append(f"related: {_flow(f['related'])}\n")
    if f["objections"]:
        out.append("objections:\n")
        for filed, summary, decided, outcome in f["objections"]:
            out.append(f"  - filed_on: {_iso(filed)}\n    summary: {_s(summary)}\n")
            if decided:
                out.append(f"    decided_on: {_iso(decided)}\n    outcome: {outcome}\n")
    else:
        out.append("objections: []\n")
    if f["repair"]:
        applied, decided, outcome = f["repair"]
        out.append(f"repair:\n  applied_on: {_iso(applied)}\n")
        if decided:
            out.append(f"  decided_on: {_iso(decided)}\n  outcome: {outcome}\n")
    return "".join(out)


# --- evaluations --------------------------------------------------------------------------------


def _grade(tenths: int) -> str:
    return "优秀" if tenths >= 900 else "良好" if tenths >= 800 else "合格" if tenths >= 600 else "不合格"


def _evaluations(rng: random.Random, n: int, depts: list[dict]) -> list[tuple]:
    ids = [d["id"] for d in depts]
    names = {d["id"]: d["name"] for d in depts}
    sort = {d["id"]: (int(d["sort"]), d["id"]) for d in depts}
    third = [(y, d) for y in EVALUATION_YEARS for d in ids]
    perf = [(y, d) for y in EVALUATION_YEARS for d in ids]
    n = min(n, len(third) + len(perf))
    n_perf = min(len(perf), max(0, n - round(n * 0.75)))
    n_third = min(len(third), n - n_perf)
    n_perf = n - n_third
    chosen = [(third[k], "第三方评价") for k in sorted(rng.sample(range(len(third)), n_third))]
    # performance reviews go to sub-district offices first, as the policy's 绩效考核 does
    perf.sort(key=lambda s: (0 if names[s[1]].endswith("街道办事处") else 1, s[0], sort[s[1]]))
    pool = perf[: max(n_perf, min(len(perf), n_perf * 2))]
    chosen += [(pool[k], "绩效考核") for k in sorted(rng.sample(range(len(pool)), n_perf))]

    quality = {d: rng.gauss(84, 6) for d in ids}
    published = {}
    for y in EVALUATION_YEARS:
        day = date(y + 1, 3, rng.randint(14, 24)).toordinal()
        published[(y, "第三方评价")] = _weekday_on_or_before(day, day - 3)
        published[(y, "绩效考核")] = _weekday_on_or_before(day + 7, day + 4)
    evaluator = {y: rng.choice(_EVALUATORS) for y in EVALUATION_YEARS}
    rows = []
    for (year, dept), method in sorted(chosen, key=lambda c: (c[0][0], c[1] != "第三方评价", sort[c[0][1]])):
        score = quality[dept] + rng.gauss(0, 4) + (year - 2019) * 0.4
        tenths = max(350, min(995, round(score * 2) * 5))
        if rng.random() < 0.02:
            tenths = rng.randint(40, 59) * 10  # a failing year
        link = f"kaohe-{dept}" if method == "绩效考核" else dept
        report = f"https://xygk.example.gov.cn/reports/{year}/{link}.pdf" if rng.random() < 0.95 else ""
        objection, outcome = "", ""
        if tenths < 850 and rng.random() < 0.08:
            indicator, reason = rng.choice(_EVALUATION_OBJECTIONS)
            objection = f"{names[dept]}对“{indicator}”指标扣分提出异议，认为{reason}。"
            outcome = rng.choices(("维持", "更正"), cum_weights=(70, 100))[0]
        rows.append((str(year), dept, evaluator[year] if method == "第三方评价" else "区绩效考核办公室", method,
                     f"{tenths // 10}.{tenths % 10}", _grade(tenths), _iso(published[(year, method)]), report,
                     objection, outcome))
    return rows


# --- writing ------------------------------------------------------------------------------------


def _write_csv(path: Path, header: list[str], rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_text(path: Path | str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _clear(out_dir: Path) -> None:
    """Remove what an earlier generation wrote (only those files), so no stale record survives."""
    for rel in _MANAGED_FILES:
        path = out_dir / rel
        if path.is_file() or path.is_symlink():
            path.unlink()
    for folder in _RECORD_FOLDERS:
        path = out_dir / folder
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.suffix in (".yaml", ".yml") and (child.is_file() or child.is_symlink()):
                    child.unlink()


def _counts(records: int) -> dict[str, int]:
    counts = {k: round(records * share) for k, share in SHARES.items() if k != "arrears"}
    counts["arrears"] = max(0, records - sum(counts.values()))
    return counts


def _department_count(records: int, template: int) -> int:
    """A larger area has more units: one per 200 records, and room for the evaluation rows.

    Each unit can take at most 14 evaluation rows (7 years, 2 methods); asking for one
    unit per 10 rows leaves the sampling some choice.
    """
    return max(template, records // 200, math.ceil(_counts(records)["evaluations"] / 10))


def generate(out_dir: Path, records: int, seed: int = 1, *, template: Path | None = None,
             counts: dict[str, int] | None = None) -> dict[str, int]:
    """Write a complete synthetic data folder of `records` records; return the row counts.

    `records` counts commitments, arrears items, findings and evaluation rows (25 %,
    55 %, 5 %, 15 %). Plans, repayments, progress notes and objections come on top.
    `counts` sets the mix instead (commitments, arrears, findings, evaluations; the stage
    benchmarks use a 100,000-row ledger). The same arguments always give the same bytes.
    """
    if records < 0:
        raise ValueError("records must be ≥ 0")
    out_dir = Path(out_dir)
    tmpl = _read_template(Path(template) if template is not None else TEMPLATE_DIR)
    rng = random.Random(seed)
    counts = dict(counts) if counts is not None else _counts(records)

    depts = _departments(rng, tmpl["departments"], _department_count(records, len(tmpl["departments"])))
    active = [d for d in depts if d["active"] == "true"] or depts
    pickers = {p: _Picker(active, [_dept_weight(d, p) for d in active]) for p in ("commitments", "arrears", "findings")}

    commitments = _commitments(rng, counts["commitments"], depts, pickers["commitments"])
    _accountability(seed, commitments)
    arrears, ledger, (plan_rows, repayment_rows) = _arrears(rng, counts["arrears"], depts, pickers["arrears"], tmpl["max_term"])
    calendar = WorkdayCalendar()
    findings = _findings(rng, counts["findings"], tmpl, depts, pickers["findings"], commitments, arrears, calendar)
    evaluations = _evaluations(rng, counts["evaluations"], depts)

    out_dir.mkdir(parents=True, exist_ok=True)
    _clear(out_dir)
    for folder in ("arrears",) + _RECORD_FOLDERS:
        (out_dir / folder).mkdir(exist_ok=True)
    _write_text(out_dir / "site.yaml", _site_text(tmpl["site_text"], records, seed))
    if tmpl["calendar_text"] is not None:
        _write_text(out_dir / "calendar.yaml", tmpl["calendar_text"])
    _write_text(out_dir / "tasks.yaml", tmpl["tasks_text"])
    dept_columns = ["id", "name", "kind", "sort", "active", "contact_office", "contact_phone", "contact_address",
                    "contact_hours"]
    _write_csv(out_dir / "departments.csv", dept_columns, [tuple(d.get(c) or "" for c in dept_columns) for d in depts])
    _write_csv(out_dir / "arrears" / "ledger.csv",
               ["id", "debtor", "creditor", "creditor_code", "creditor_size", "project", "contract_no", "amount",
                "delivered_on", "due_on", "found_on", "agreed_daily_rate", "disputed", "resolution", "note",
                "signed_on", "due_kind", "disputed_amount", "interest_state"], ledger)
    _write_csv(out_dir / "arrears" / "plan.csv", ["arrears_id", "due_on", "amount"], plan_rows)
    _write_csv(out_dir / "arrears" / "repayments.csv", ["arrears_id", "paid_on", "seq", "amount", "note"], repayment_rows)
    _write_csv(out_dir / "evaluations.csv",
               ["year", "department", "evaluator", "method", "score", "grade", "published_on", "report", "objection",
                "objection_outcome"], evaluations)
    folder = os.path.join(out_dir, "commitments")  # plain strings: pathlib costs more than the writing here
    for c in commitments:
        _write_text(os.path.join(folder, c["id"] + ".yaml"), _commitment_yaml(c))
    folder = os.path.join(out_dir, "findings")
    for f in findings:
        _write_text(os.path.join(folder, f["id"] + ".yaml"), _finding_yaml(f))

    return {
        "records": len(commitments) + len(arrears) + len(findings) + len(evaluations),
        "departments": len(depts),
        "commitments": len(commitments),
        "commitment_progress": sum(len(c["progress"]) for c in commitments),
        "commitment_rectification": sum(len(c["rectification"]) for c in commitments),
        "commitment_changes": sum(len(c.get("changes") or ()) for c in commitments),
        "commitment_withdrawals": sum(1 for c in commitments if c.get("withdrawal")),
        "arrears": len(arrears),
        "arrears_plan": len(plan_rows),
        "arrears_repayments": len(repayment_rows),
        "findings": len(findings),
        "finding_objections": sum(len(f["objections"]) for f in findings),
        "evaluations": len(evaluations),
    }


# --- command line ---------------------------------------------------------------------------------

_LABELS = (("departments", "单位"), ("commitments", "承诺"), ("commitment_progress", "承诺进展"),
           ("commitment_changes", "承诺变更记录"), ("commitment_withdrawals", "撤回的承诺"),
           ("arrears", "账款"), ("arrears_plan", "分期计划"), ("arrears_repayments", "清偿记录"),
           ("findings", "失信记录"), ("finding_objections", "异议"), ("evaluations", "评价结果"))


#: The largest synthetic folder `generator synth` makes (the benchmarks use up to 10,000).
MAX_RECORDS = 1_000_000


def cmd_synth(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if args.records < 0:
        print(f"generator：记录数应为不小于 0 的整数，实际为 {args.records}。", file=sys.stderr)
        return 2
    if args.records > MAX_RECORDS:  # beyond this the run takes hours and runs out of memory
        print(f"generator：记录数最多 {MAX_RECORDS:,}，实际为 {args.records:,}。", file=sys.stderr)
        return 2
    if out.exists() and not out.is_dir():
        print(f"generator：{out} 是一个文件，不是文件夹；请换一个输出文件夹。", file=sys.stderr)
        return 2
    if out.is_dir() and any(out.iterdir()) and not args.force:
        print(f"generator：输出文件夹 {out} 不是空的，为免覆盖已有数据，未生成任何文件。"
              "请换一个空文件夹，或加 --force 覆盖（只替换合成数据会写入的文件）。", file=sys.stderr)
        return 2
    template = Path(args.data)
    if not (template / "site.yaml").is_file():
        if args.data == "data" and (TEMPLATE_DIR / "site.yaml").is_file():
            template = TEMPLATE_DIR
        else:
            print(f"generator：模板文件夹 {template} 中没有 site.yaml；请用 --data 指定示例数据文件夹（如 data/）。", file=sys.stderr)
            return 2
    started = time.perf_counter()
    try:
        counts = generate(out, args.records, args.seed, template=template)
    except SynthError as exc:
        print(f"generator：{exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    parts = "、".join(f"{label} {counts[key]}" for key, label in _LABELS)
    print(f"已生成合成数据到 {out}（{counts['records']} 条记录，随机种子 {args.seed}，用时 {seconds:.1f} 秒）：{parts}。")
    print(f"校验：generator validate --data {out}")
    return 0


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `generator synth` (see cli._EXTRA_COMMANDS)."""
    p = command("synth", "生成合成数据（用于测试和演示）：承诺、账款、失信记录和评价结果，数量和随机种子可指定", cmd_synth)
    for action in p._actions:  # the shared --data option is the template here
        if "--data" in action.option_strings:
            action.help = "模板文件夹：从中复制 site.yaml、calendar.yaml、tasks.yaml 和单位名单（默认 data/，当前目录没有时用示例数据）"
    p.add_argument("--records", type=int, default=1000, help="记录总数（承诺、账款、失信记录和评价结果合计，默认 1000）")
    p.add_argument("--seed", type=int, default=1, help="随机种子：相同的种子和记录数生成完全相同的文件（默认 1）")
    p.add_argument("--out", required=True, help="输出文件夹（应为空或不存在）")
    p.add_argument("--force", action="store_true", help="输出文件夹不是空的也照样生成，替换其中的合成数据文件")
