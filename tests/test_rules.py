"""The rules page and api/rules.json are generated from data/site.yaml: every rule, its citation, its dates."""

from __future__ import annotations

import json
from datetime import date

from generator import opendata
from generator.derive import derive
from generator.load import load
from generator.rules import rule_rows, rules_markdown
from generator.validate import validate
from tests.conftest import DEMO_DATA

DATASET = validate(load(DEMO_DATA), date(2026, 11, 26)).dataset
SITE = DATASET.site


def test_every_disclosure_regime_is_listed_with_its_citation_and_dates():
    page = rules_markdown(SITE)
    assert "《失信行为纠正后的信用信息修复管理办法（试行）》（国家发展改革委令第58号" in page
    assert "2023年5月1日至2026年3月31日" in page  # order 58's window, derived from the next regime's start
    assert "2019年1月1日至2023年4月30日" in page
    assert "2026年4月1日起" in page
    assert "公职人员政务处分法》第八条" in page and "警告 6 个月" in page
    assert "民法典》第二百零一条、第二百零二条" in page
    assert "2020年9月1日至2025年5月31日" in page and "2025年6月1日起" in page  # 728, then 802
    assert "国务院令第728号，2020年9月1日起施行）第十五条" in page and "施行）第十七条" in page
    assert "民法典》第二百零三条" in page
    assert "| 2019-08 | 4.25 | L1 |" in page and "| 2024-10 | 3.10 | L4 |" in page and "| 2025-12 | 3.00 | L6 |" in page
    assert "2026-01 起的报价尚未收录" in page
    assert "- L6：钜亨网2025年12月22日报道" in page  # each reference listed under the table
    rows = rule_rows(SITE)
    assert all(r.source for r in rows), [r.rule for r in rows if not r.source]
    serious = [r for r in rows if r.rule.startswith("严重失信信息")]
    assert [r.value.split("；")[0] for r in serious] == ["最短 6 个月、最长 3 年", "最短 3 个月、最长 3 年", "最短 1 年、最长 3 年"]
    general = [r for r in rows if r.rule.startswith("一般失信信息")]
    assert [r.value.split("；")[0] for r in general] == ["最短 3 个月、最长 1 年", "最短 3 个月、最长 3 年", "最短 3 个月、最长 1 年"]
    assert "国务院令第728号，2020年9月1日起施行）第十六条" in page  # the annual notice of order 728
    assert "国务院令第802号修订，2025年6月1日起施行）第十八条" in page


def test_rules_are_published_as_json_and_a_page():
    files = opendata.open_data_files(derive(DATASET, date(2026, 11, 26)))
    api = json.loads(files["data/api/rules.json"])
    assert api["as_of"] == "2026-11-26"
    assert {"topic", "rule", "value", "source", "effective_from", "effective_until"} <= set(api["items"][0])
    assert any(i["effective_from"] == "2023-05-01" and i["effective_until"] == "2026-03-31" for i in api["items"])
    assert files["data/rules.md"].decode("utf-8") == rules_markdown(SITE)
    lpr = {row["month"]: row for row in api["lpr_one_year"]}
    assert lpr["2025-12"]["one_year_percent"] == "3.00" and lpr["2025-12"]["ref"] == "L6"
    assert "news.cnyes.com" in lpr["2025-12"]["reference"] and "2026-01" not in lpr
    assert all(row["reference"] for row in api["lpr_one_year"])
