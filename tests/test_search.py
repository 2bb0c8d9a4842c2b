"""generator/engine/search.py: the Lexicon cuts new runs of Chinese text into exactly the
words jieba.cut gives, from a small dictionary of the words found in them (jieba's own
dictionary is not loaded), with an index of jieba's dict.txt in the build folder that a
damaged or foreign file never fools."""

from __future__ import annotations

import marshal
import os
import random
import re
import tempfile
from pathlib import Path

import jieba
import pytest

from generator.engine import reuse, search
from generator.tools.synth import generate

REPO = Path(__file__).resolve().parent.parent
HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def jieba_words(run: str) -> str:
    return "\u200b" + "\u200b".join(jieba.cut(run)) + "\u200b"


def cut_a_new_run_with_jieba() -> None:
    """What a build does with a run no entry had when the Lexicon declines: search._words
    (jieba.cut, its dictionary loaded), on a run its cache cannot hold yet."""
    run = "".join(chr(0x4E00 + random.randrange(20000)) for _ in range(16))
    search.segment(run)


@pytest.fixture(scope="module")
def index_path(tmp_path_factory) -> Path:
    """An index made by a build that loaded jieba's dictionary (as a full build does)."""
    path = tmp_path_factory.mktemp("build") / ".cache" / "words.marshal"
    lexicon = search.Lexicon(path)
    cut_a_new_run_with_jieba()
    lexicon.keep()
    assert path.is_file()
    return path


def fresh_lexicon(path: Path) -> search.Lexicon:
    """A Lexicon as in a process where jieba.cut has not run (it defers to jieba's dictionary
    once that is loaded): the lru_cache's statistics start again."""
    search._words.cache_clear()
    return search.Lexicon(path)


def cut_all(path: Path, runs: list[str], batch: int = 40) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(runs), batch):
        part = runs[start:start + batch]
        words = fresh_lexicon(path).cut(part)
        assert sorted(words) == sorted(set(part))
        found.update(words)
    return found


def runs_in(*folders: Path) -> list[str]:
    runs: set[str] = set()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                try:
                    runs.update(HAN.findall(path.read_text(encoding="utf-8")))
                except UnicodeDecodeError:
                    continue
    return sorted(runs)


def test_every_run_of_the_demo_site_and_of_2000_records_is_cut_as_jieba_cuts_it(index_path, tmp_path):
    data = tmp_path / "data"
    generate(data, 2000, seed=3)
    runs = runs_in(REPO / "data", REPO / "content", REPO / "site_templates", REPO / "generator" / "templates", data)
    assert len(runs) > 3000
    found = cut_all(index_path, runs)
    assert [run for run in runs if found[run] != jieba_words(run)] == []


HARD = [
    "王小明在韦家坝镇见到了李晓燕和欧阳娜娜",  # names and places jieba's dictionary lacks: the HMM cuts them
    "特朗普说蔡英文和柯文哲都是好朋友哈哈哈",
    "中华人民共和",  # a prefix of a dictionary word, not a word
    "中华人民共和国国务院",
    "南京市长江大桥",
    "结婚的和尚未结婚的",
    "一",
    "的的的的的的的的的",
    "\u3400\u3401\u4e00\u4e01\u4dbf",  # extension A: outside jieba's own run of Chinese
    "\u9fd6\u9fea\u4e2d\u6587\u9fff",  # after U+9FD5: outside it too
    "\uf900\uf901\u4e2d\u56fd\ufa6d",  # compatibility ideographs
    "鎏鍪黉黻黼龃龉龌龊齑",  # rare characters
]


def test_hard_runs_are_cut_as_jieba_cuts_them(index_path):
    rng = random.Random(11)
    common = "".join(sorted(set("".join(HARD[:7]) + "政府承诺兑现拖欠账款中小企业发展和改革局已办结的工作日内")))
    long_runs = ["".join(rng.choice(common) for _ in range(n)) for n in (200, 1000, 3000)]
    runs = HARD + long_runs
    found = cut_all(index_path, runs, batch=3)
    assert [run for run in runs if found[run] != jieba_words(run)] == []
    # The HMM was needed: a name that is in no dictionary comes out as one word.
    assert "\u200b王小明\u200b" in found[HARD[0]]


def test_the_small_dictionary_has_the_full_dictionarys_total(index_path):
    """The route's scores take log(total): _make counts every line of dict.txt, as jieba does."""
    data, _ = search._dictionary()
    total = sum(int(line.split(b" ")[1]) for line in data.splitlines())
    assert search._make(data)["total"] == total


def test_an_index_is_made_of_dict_txt_as_jieba_reads_it():
    index = search._make("中国 10 ns\n中 5\n国 3 n\n中国 7 ns\n你好 2\n".encode("utf-8"))
    assert index["total"] == 27
    assert index["blocks"] == {"中": "中国 10 ns\n中 5\n中国 7 ns".encode(), "国": b"\xe5\x9b\xbd 3 n",
                               "你": "你好 2".encode()}
    # Lines jieba would strip, drop or fail on: no index (jieba.cut is used).
    for odd in (" 中 5\n", "中 5 \n", "中 5\r\n", "中\t5\n", "中 5\n\n国 3\n", "中\n", "中  5\n", "中 x\n",
                "\xff 5\n".encode("latin-1").decode("utf-8", "surrogateescape")):
        assert search._make(odd.encode("utf-8", "surrogateescape")) is None, odd


def test_a_later_line_of_a_word_wins_as_in_jieba(tmp_path, index_path):
    """Within a block, found words follow dict.txt's order: the last frequency is taken."""
    index = marshal.loads(index_path.read_bytes())
    path = tmp_path / "words.marshal"
    # The same dictionary digest, with a word's frequency given twice (the last one is the real one).
    block = index["blocks"]["南"]
    index["blocks"]["南"] = "南京市 1\n".encode() + block
    path.write_bytes(marshal.dumps(index))
    assert fresh_lexicon(path).cut(["南京市长江大桥"]) == {"南京市长江大桥": jieba_words("南京市长江大桥")}


def test_a_damaged_or_foreign_index_is_not_used_and_is_made_again(tmp_path, index_path):
    good = index_path.read_bytes()
    index = marshal.loads(good)
    path = tmp_path / "build" / "words.marshal"
    path.parent.mkdir()
    foreign = [b"", b"not marshal", good[:1000], marshal.dumps([1, 2]),
               marshal.dumps(dict(index, digest="0" * 64)), marshal.dumps(dict(index, jieba="0.0")),
               marshal.dumps(dict(index, format=0)), marshal.dumps(dict(index, total="1")),
               marshal.dumps(dict(index, blocks={"中": "中 5"})),
               marshal.dumps(dict(index, blocks=dict(index["blocks"], 中=b"\xff\xfe"))),
               marshal.dumps(dict(index, blocks=dict(index["blocks"], 中="中 x".encode())))]
    for data in foreign:
        path.write_bytes(data)
        lexicon = fresh_lexicon(path)
        assert lexicon.cut(["中国政府"]) == {}, data[:40]
        entry = search.segment("中国政府")  # the way a build goes on: jieba.cut
        assert entry == jieba_words("中国政府").strip("\u200b")
        lexicon.keep()  # jieba's dictionary was loaded: the index is made again
        assert marshal.loads(path.read_bytes()) == index
        assert sorted(os.listdir(path.parent)) == ["words.marshal"]


def test_a_build_that_did_not_load_jiebas_dictionary_does_not_make_the_index(tmp_path):
    path = tmp_path / "words.marshal"
    lexicon = fresh_lexicon(path)
    lexicon.keep()
    assert not path.exists()


def test_no_file_is_left_outside_the_build_folder_nor_in_it(tmp_path, index_path, monkeypatch):
    """The small dictionary and jieba's cache of it go to a folder next to the index, removed."""
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    build = tmp_path / "build"
    build.mkdir()
    path = build / "words.marshal"
    path.write_bytes(index_path.read_bytes())
    before = os.stat(path)
    assert fresh_lexicon(path).cut(["新的一段文字", "另一段"]) != {}
    assert list(system_temp.iterdir()) == []
    assert [p.name for p in build.iterdir()] == ["words.marshal"]
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns


def test_past_the_budget_jiebas_dictionary_is_used(index_path, monkeypatch):
    monkeypatch.setattr(search, "_BUDGET", 1000)
    lexicon = fresh_lexicon(index_path)
    assert lexicon.cut(["中国"]) == {}  # 中's words alone are more than 1,000 bytes
    monkeypatch.setattr(search, "_BUDGET", 10**9)
    lexicon = fresh_lexicon(index_path)
    assert lexicon.cut(["中国"]) == {"中国": jieba_words("中国")}
    cut_a_new_run_with_jieba()
    assert lexicon.cut(["中国"]) == {}


def test_search_entries_cut_a_changed_page_without_jiebas_dictionary(tmp_path, index_path):
    """A rebuild: the changed page's new runs come from the Lexicon, not jieba.cut, and its
    entry is what segment gives."""
    build = tmp_path / "build"
    (build / ".cache").mkdir(parents=True)
    (build / reuse.SEARCH_WORDS).write_bytes(index_path.read_bytes())
    texts = {"a/": "站前区发展和改革局 政府承诺 兑现", "b/": "拖欠账款 中小企业"}
    entries = reuse.SearchEntries(build)
    for url, text in texts.items():
        entries.entry(url, text, text, lambda segment, text=text: segment(text))
    entries.save()
    changed = "站前区发展和改革局 政府承诺 兑现甲 欧阳娜娜的新承诺"
    search._words.cache_clear()
    again = reuse.SearchEntries(build)
    value = again.entry("a/", changed, changed, lambda segment: segment(changed))
    assert search._words.cache_info().misses == 0  # jieba.cut never ran
    assert value == search.segment(changed)
    assert value == HAN.sub(lambda m: jieba_words(m.group(0)), changed).strip("\u200b")


def test_the_site_gives_jieba_no_other_dictionary():
    """The Lexicon reproduces jieba.cut with jieba's own dictionary: Material's search plugin,
    which shares jieba's default tokenizer in the build's process, must not be given another
    (search.jieba_dict) nor a user dictionary (search.jieba_dict_user)."""
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert "jieba_dict" not in config
    assert "jieba_dict" not in (REPO / "generator" / "engine" / "build.py").read_text(encoding="utf-8")
