"""The fast paths of fold, tidy_spaces, find_counties and heading_level give exactly what the
plain steps give. (Speed itself is measured by benchmarks, never here.)"""
from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import opencc
import pytest

from indexer.reading import gazetteer
from indexer import normalise as n
from indexer.reading.structure import _HEADING_FIRST, _LEVEL_PATTERNS, heading_level

from conftest import SEEDS


def reference_fold(text: str) -> str:
    """fold as plain steps: str.translate, OpenCC t2s on every text, the whitespace regex."""
    s = text.translate(n._TABLE)
    s, _ = n._to_simplified(s)
    return reference_tidy(s)


def reference_tidy(text: str) -> str:
    return n._SPACE_RUN.sub(lambda m: n._run_replacement(m.string, m.start(), m.end(), n._between_word_chars), text)


# Texts for each path: the fast path (common punctuation and spaces only), traditional
# characters, t2s phrases made of characters t2s keeps on their own, full-width letters and
# digits, PDF-style whitespace, astral and compatibility characters.
SAMPLES = [
    "",
    " ",
    "依法行政，推进法治政府建设（2021年）：成效显著；",
    "2021 年，全县 51 个部门提升水平 。",
    "政务 APP 提供 Word   Online 服务",
    "  （2021 — 2025 年） ",
    "行政復議案件 9 件",
    "國務院關於加強法治政府建設的意見",
    "憑藉數據",
    "打坏了",
    "回覆意见，答覆群众",
    "瞭解情况",
    "沈阳市",
    "覆盖全县",
    "ＡＢＣ１２３，（一）【重点】",
    "互政［2022］4号",
    "第一行\n第二行\t第三行\u3000第四行\xa0end",
    "a\u3000\u3000b",
    "Word\u2003Online",
    "全县\x85推进\u2028工作",
    "𠀀 abc",
    "遱鄟",  # TSCharactersExt
    "\uf900\uf9a8",  # CJK compatibility ideographs
    "\ufb00 \u2126 ㈱ ① ½",
    "a\x00b書",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_fold_equals_plain_steps(text):
    assert n.fold(text) == reference_fold(text)
    assert n._fold_full(text) == reference_fold(text)
    folded, origin = n.fold_with_offsets(text)
    assert folded == n.fold(text) and len(origin) == len(folded)


def test_samples_cover_both_paths():
    _, rare = n._gates()
    assert rare is not None
    fast = [t for t in SAMPLES if rare.search(t) is None]
    assert "依法行政，推进法治政府建设（2021年）：成效显著；" in fast and "2021 年，全县 51 个部门提升水平 。" in fast
    assert "行政復議案件 9 件" not in fast and "打坏了" not in fast and "ＡＢＣ１２３，（一）【重点】" not in fast


def test_fold_equals_plain_steps_on_corpus():
    for path in SEEDS:
        text = path.read_text(encoding="utf-8")
        assert n.fold(text) == reference_fold(text)
        for line in text.splitlines():
            assert n.fold(line) == reference_fold(line)


def test_fold_equals_plain_steps_on_every_bmp_character():
    chars = [chr(cp) for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF]
    for ch in chars:
        assert n.fold(ch) == reference_fold(ch), hex(ord(ch))
    for i in range(0, len(chars), 64):
        text = "政府 " + " a".join(chars[i:i + 64]) + "工作"
        assert n.fold(text) == reference_fold(text)


def test_fold_equals_plain_steps_on_random_mixes():
    rnd = random.Random(7)
    alphabet = (list("的是政府工作依法覆盖打坏回覆瞭解沈阳藉口行政復議憑藉乾隆，。（）：；！？、．【】")
                + list("ＡＢＣ１２ａABCxyz09") + [" ", " ", "  ", "\t", "\n", "\u3000", "\xa0", "\u2003", "\x85"]
                + ["\ufb00", "\uf900", "𠀀", "𫐷", "ｶ", "ﾟ"])
    for _ in range(20000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30)))
        assert n.fold(text) == reference_fold(text), repr(text)
        assert n.tidy_spaces(text) == reference_tidy(text), repr(text)


def test_lone_surrogates_still_fail_like_opencc():
    for text in ("a\ud800b", "\udfff"):
        with pytest.raises(UnicodeEncodeError):
            n.fold(text)


def test_translate_fast_path_equals_str_translate():
    # The table is idempotent, so replacing distinct characters one by one is str.translate.
    assert all(n._TABLE.get(ord(c), c) == c for out in n._TABLE.values() for c in out)
    chars = "".join(chr(cp) for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF)
    assert n._translate(chars) == chars.translate(n._TABLE)
    for i in range(0, len(chars), 50):
        text = "依法行政" * 20 + chars[i:i + 50]
        assert n._translate(text) == text.translate(n._TABLE)


def test_whitespace_set_is_regex_whitespace():
    assert n._WHITESPACE_CHARS == "".join(
        chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF and re.fullmatch(r"\s", chr(cp))
    )


def test_plain_space_rule_equals_regex_rule():
    rnd = random.Random(11)
    alphabet = list("aZ09中。,()-") + [" "] * 5
    for _ in range(50000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 16)))
        assert n._tidy_plain_spaces(text) == reference_tidy(text), repr(text)


# --- The t2s skip: every t2s dictionary key whose value differs from it is caught by the gate.

def _t2s_dictionaries() -> list[Path]:
    config = Path(n._T2S.config)
    names = sorted(set(re.findall(r'"file"\s*:\s*"([^"]+)"', config.read_text(encoding="utf-8"))))
    return [config.parent / name for name in names]


def _fingerprinted_opencc() -> None:
    # Another OpenCC release may change its dictionaries: fold then always converts (correct,
    # slower) until normalise._T2S_PHRASE_CHARS and _T2S_FINGERPRINT are regenerated for it, as
    # test_t2s_gate_catches_every_changing_dictionary_key describes.
    if n.t2s_fingerprint() != n._T2S_FINGERPRINT:
        pytest.skip(f"OpenCC {opencc.__version__}: dictionaries differ from the fingerprinted ones; the skip is off")


def test_t2s_skip_is_active():
    _fingerprinted_opencc()
    assert n._gates()[0] is not None


def test_t2s_gate_catches_every_changing_dictionary_key(tmp_path):
    binary = Path(opencc.__file__).parent / "clib" / "bin" / "opencc_dict"
    if not binary.exists():
        binary = Path(shutil.which("opencc_dict") or "")
    if not binary.is_file():
        pytest.skip("opencc_dict (ships with the OpenCC wheel) is not installed")
    _fingerprinted_opencc()
    t2s, _ = n._gates()
    assert t2s is not None
    changing = []
    for ocd2 in _t2s_dictionaries():
        out = tmp_path / (ocd2.name + ".txt")
        subprocess.run([str(binary), "-i", str(ocd2), "-o", str(out), "-f", "ocd2", "-t", "text"], check=True,
                       capture_output=True)
        for line in out.read_text(encoding="utf-8").splitlines():
            key, values = line.split("\t")
            if values.split(" ")[0] != key:
                changing.append(key)
    assert len(changing) > 5000
    # OpenCC writes a value only in place of a key found in the text; if the gate finds nothing,
    # no changing key is in the text and t2s returns it unchanged.
    missed = [key for key in changing if t2s.search(key) is None]
    assert not missed, f"add one character of each to normalise._T2S_PHRASE_CHARS: {missed}"


def test_t2s_gate_keys_in_context():
    for text in ("我们打坏了", "回覆", "瞭解到", "沈默", "藉口", "甦醒", "衹得", "英哩", "覆墓", "函覆", "拜覆", "呈覆"):
        assert n.fold(text) == reference_fold(text)
        assert n._needs_t2s(text)


# --- find_counties: only the windows that can hold a name are scanned.

def find_counties_by_windows(text: str) -> list[gazetteer.Place]:
    """``find_counties`` scanning every window of the text: the reference it must agree with."""
    names, _ = gazetteer._index()
    found: list[gazetteer.Place] = []
    seen: set[str] = set()
    for m in re.finditer(rf"[\u4e00-\u9fff]{{2,{gazetteer.WINDOW}}}", text):
        gazetteer.scan_window(m.group(), names, found, seen)
    return found


def test_find_counties_equals_scanning_every_window():
    full, alias = gazetteer._tables()
    names = sorted(set(full) | set(alias))
    assert names, "cpca's adcode table is missing"
    rnd = random.Random(3)
    filler = list("的是在和了有我县区市旗工作推进依法行政") + ["，", "。", " ", "a", "1"]
    for _ in range(20000):
        parts = []
        for _ in range(rnd.randint(1, 8)):
            if rnd.random() < 0.5:
                parts.append(rnd.choice(names))
            else:
                parts.append("".join(rnd.choice(filler) for _ in range(rnd.randint(0, 14))))
        text = "".join(parts)
        assert gazetteer.find_counties(text) == find_counties_by_windows(text), text
    for path in SEEDS:
        text = path.read_text(encoding="utf-8")
        assert gazetteer.find_counties(text) == find_counties_by_windows(text)


def test_find_counties_windows_cut_long_runs():
    # 12-character windows: a name across the cut is not found, the same name inside one is.
    assert [p.county for p in gazetteer.find_counties("依法行政推进法治政府建设盐池县")] == ["盐池县"]
    assert gazetteer.find_counties("依法行政推进法治政府建设盐池县"[1:]) == []  # 盐池|县 across the cut
    assert find_counties_by_windows("依法行政推进法治政府建设盐池县"[1:]) == []


def test_heading_first_character_check():
    # heading_level returns None at once unless the first character is in _HEADING_FIRST or a
    # decimal digit: check that no pattern's first item matches any other character.
    firsts = [re.match(r"\^(\[[^\]]*\]|\\d)", p.pattern) for _, p in _LEVEL_PATTERNS]
    assert all(firsts)
    first = re.compile("|".join(m.group(1) for m in firsts))
    for cp in range(0x110000):
        ch = chr(cp)
        if first.fullmatch(ch):
            assert ch in _HEADING_FIRST or ch.isdecimal(), hex(cp)
    for path in SEEDS:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            plain = next((level for level, p in _LEVEL_PATTERNS if p.match(line)), None)
            assert heading_level(line) == plain
