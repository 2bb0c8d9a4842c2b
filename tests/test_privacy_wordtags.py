"""find_titled_names keeps jieba's part-of-speech tags of the windows it looked at in a file
(privacy.WordTags): a later run reads them instead of loading jieba, with the same result."""

from __future__ import annotations

import hashlib
import json
import random

from generator import privacy
from generator.privacy import WordTags, find_titled_names


def _windows(rng: random.Random, n: int) -> list[str]:
    """Title + surname + random Chinese: the windows find_titled_names hands to the tagger."""
    titles = ["副主任", "联系人：", "局长", "经办人", "负责人", "主任科员", "法定代表人"]
    surnames = list("王李张刘陈杨和黄赵吴周") + ["欧阳", "司马"]
    tail = list("德华伟强芳敏静丽军直接责任人和已核实处理表示同意某国明")
    return [rng.choice(titles) + rng.choice(surnames) + "".join(rng.choice(tail) for _ in range(rng.randint(1, 4)))
            for _ in range(n)]


def test_the_cached_tags_are_jiebas_tags(tmp_path):
    posseg = privacy._jieba_posseg()
    first = WordTags(tmp_path)
    windows = _windows(random.Random(15), 300)
    fresh = {w: tuple((p.word, p.flag) for p in posseg.cut(w)) for w in windows}
    assert all(first.cut(w) == fresh[w] for w in windows)
    [file] = tmp_path.iterdir()
    assert "jieba-tags-" in file.name and len(file.read_text(encoding="utf-8").splitlines()) == len(set(windows))

    again = WordTags(tmp_path)  # a later run: every window from the file, jieba never loaded
    assert all(again.cut(w) == fresh[w] for w in windows)
    assert again._posseg is None


def test_a_damaged_or_foreign_cache_line_is_tagged_again(tmp_path):
    window = "负责人和直接责任"
    key = hashlib.sha256(window.encode("utf-8")).hexdigest()
    tags = WordTags(tmp_path)
    right = tags.cut(window)
    [file] = tmp_path.iterdir()
    # lengths that do not add up to the window's, a cut-off line, not [length, flag] pairs, not JSON
    file.write_text("\n".join([json.dumps([key, [[3, "n"], [2, "nr"]]]), json.dumps([key, [[8, "nr"]]])[:-3],
                               json.dumps([key, [["负责人", "n"]]], ensure_ascii=False), json.dumps([key, "x"]),
                               json.dumps([key, [[0, "n"], [8, "n"]]]), "[1, 2]", "not json"]) + "\n",
                    encoding="utf-8")
    later = WordTags(tmp_path)
    assert later.cut(window) == right and later._posseg is not None


def test_the_cache_holds_no_text_of_the_windows(tmp_path):
    """The windows are where a person's name may be: the file keeps hashes, lengths and flags."""
    tags = WordTags(tmp_path)
    assert tags.cut("经办人刘德华已核实")
    [file] = tmp_path.iterdir()
    text = file.read_text(encoding="utf-8")
    assert text.isascii() and "刘" not in text and "\\u" not in text


def test_an_unwritable_cache_folder_only_costs_the_load(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    tags = WordTags(blocked / "sub")  # a folder under a file: cannot be created
    assert tags.cut("负责人和直接责任") == (("负责人", "n"), ("和", "c"), ("直接", "ad"), ("责任", "n"))


def test_find_titled_names_gives_what_the_tagger_says(tmp_path, monkeypatch):
    monkeypatch.setattr(privacy, "WORD_TAGS", WordTags(tmp_path))
    assert find_titled_names("经办人刘德华已核实") == ["刘德华"]
    assert find_titled_names("对主要负责人和直接责任人依规依纪依法处理") == []
    assert find_titled_names("联系人王某") == []
