"""Deterministic synthetic 法治政府建设 reports built from the five seed reports in corpus/.

    python3 bench/generate.py --reports 1000 --out bench/corpus-1000 [--seed 1]

Each report gets a real county or district (with its city and province, read from the
``cpca`` package's resources/adcodes.csv), a year in 2015–2025, a title line such as
``XX县2021年度法治政府建设工作情况报告``, an intro paragraph, numbered sections drawn from all five
seeds (sections and paragraphs shuffled, dropped and sometimes duplicated, headings renumbered
一、 / （一） / 1. consistently), the seeds' place names replaced by the report's own, digit runs
replaced by random numbers of similar size (years shifted with the report year, months and days
kept plausible, percentages ≤ 100), and an issuer and date line at the end.

Determinism: report i depends only on (seed, i), so corpus-1000 is a prefix of corpus-10000.
The rare seed names (北京中盈律师事务所, 青海智凡律师事务所, 马启兰, 李文斌) survive in ~3% of the
paragraphs that carry them; elsewhere they become synthetic law firms and people.
"""
from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED_DIR = ROOT / "corpus"
TARGET_BYTES = 27_600  # aimed-at size before dropped paragraphs: ~27 KB and ~48 paragraphs per report
KEEP_RARE = 0.03  # probability that a rare seed name survives in a paragraph that carries it
MERGE = 0.5  # probability that a drawn subsection is folded into the previous one (fewer headings)

# Seed place names -> placeholders, longest first. Neighbouring places (定边, 鄂托克前旗, 七里店) stay.
_PLACES = [
    ("互助土族自治县", "{full}"), ("互助县", "{full}"), ("盐池县", "{full}"), ("乐都区", "{full}"),
    ("临猗县", "{full}"), ("互助", "{short}"), ("盐池", "{short}"), ("乐都", "{short}"), ("临猗", "{short}"),
    ("海东市", "{city}"), ("运城市", "{city}"), ("吴忠市", "{city}"), ("海东", "{city_short}"),
    ("运城", "{city_short}"), ("吴忠", "{city_short}"),
    ("宁夏回族自治区", "{province}"), ("青海省", "{province}"), ("山西省", "{province}"),
    ("宁夏", "{prov_short}"), ("青海", "{prov_short}"), ("山西", "{prov_short}"),
]
_RARE = ["北京中盈律师事务所", "青海智凡律师事务所", "马启兰", "李文斌"]
_RARE_KIND = {"北京中盈律师事务所": "firm", "青海智凡律师事务所": "firm", "马启兰": "person", "李文斌": "person"}

_CN_DIGITS = "一二三四五六七八九"
_FIRM_CHARS = "正信德和诚明天衡金元恒泰博远兴华鼎睿嘉瑞坤宏立达昌君安汇宁浩然志新"
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文斌建国志红海燕鹏飞晓东"

_L1 = re.compile(rf"^[{_CN_DIGITS}十]{{1,3}}\s*[、.．]\s*")
_L2 = re.compile(rf"^[(（]?\s*[{_CN_DIGITS}十]{{1,3}}\s*[)）]\s*")
_L3 = re.compile(r"^\d{1,2}\s*[.．、]\s*")
_NUM = re.compile(r"\d+")
_COUNTY_WORD = re.compile(r"(?<=[我全本该])县|县(?=[委政直人级乡司法检市信财公教卫民农水交住自应统审医文])")
_DISTRICT_WORD = re.compile(r"(?<=[我全本该])区|区(?=[委政直人级乡司法检信财公教卫民农水交住自应统审医文])")


@dataclass
class Node:
    title: str
    bodies: list[tuple[str, int]] = field(default_factory=list)  # (text, seed index)
    children: list["Node"] = field(default_factory=list)
    seed: int = 0

    def size(self) -> int:
        return len(self.title.encode()) + sum(len(b.encode()) for b, _ in self.bodies) + sum(c.size() for c in self.children)


@dataclass
class Seed:
    year: int
    suffix: str  # 县 / 区
    intro: list[str]
    sections: list[Node]


def template_id(template: str) -> str:
    """The id of a seed paragraph (as templatised): what the reuse truth says a paragraph came from."""
    import hashlib

    return hashlib.sha1(template.encode("utf-8")).hexdigest()[:12]


def _strip_number(title: str) -> str:
    for pat in (_L1, _L2, _L3):
        m = pat.match(title)
        if m:
            return title[m.end():].strip()
    return title.strip()


def _templatise(text: str) -> str:
    for i, name in enumerate(_RARE):
        text = text.replace(name, f"\x01{chr(65 + i)}\x02")
    for name, ph in _PLACES:
        text = text.replace(name, ph.replace("{", "\x03").replace("}", "\x04"))
    return text


def load_seeds(seed_dir: Path = SEED_DIR) -> list[Seed]:
    from indexer.reading.report import read_report

    seeds = []
    for k, path in enumerate(sorted(seed_dir.glob("*.txt"))):
        report = read_report(path, source=path.name)
        intro: list[str] = []
        roots: list[Node] = []
        stack: list[Node] = []
        for p in report.paragraphs:
            depth = len(p.section)
            if p.kind == "heading":
                node = Node(_templatise(_strip_number(p.text)), seed=k)
                stack = stack[: depth - 1]
                if stack:
                    stack[-1].children.append(node)
                else:
                    roots.append(node)
                stack.append(node)
            elif depth == 0:
                if len(p.text) > 80:
                    intro.append(_templatise(p.text))
            elif stack:
                stack[min(depth, len(stack)) - 1].bodies.append((_templatise(p.text), k))
        region = report.meta.region or ""
        seeds.append(Seed(report.meta.year or 2021, "区" if region.endswith("区") else "县", intro, roots))
    return seeds


def _classify(title: str) -> str:
    if "存在" in title or "问题" in title or "不足" in title:
        return "problem"
    if re.search("下一步|思路|打算|计划|措施|安排", title):
        return "next"
    return "main"


@dataclass
class County:
    full: str
    short: str
    city: str
    city_short: str
    province: str
    prov_short: str


def _short(name: str) -> str:
    m = re.match(r"^(.+?)(?:(?:[\u4e00-\u9fff]{1,4}?族)+自治[县旗]|自治[县旗]|县|区|旗|市)$", name)
    s = m.group(1) if m else name
    return s if len(s) >= 2 else name


def _prov_short(name: str) -> str:
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _city_short(name: str) -> str:
    m = re.match(r"^(.+?)(?:(?:[\u4e00-\u9fff]{1,4}?族)+自治州|自治州|地区|盟|市)$", name)
    return m.group(1) if m else name


def load_counties(n: int = 200, seed: int = 1) -> list[County]:
    import cpca

    path = Path(cpca.__file__).parent / "resources" / "adcodes.csv"
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = {r["adcode"]: r["name"] for r in rows}
    pool = []
    for r in rows:
        code, name = r["adcode"], r["name"]
        if code[6:] != "000000" or code[4:6] == "00" or name[-1] not in "县区旗":
            continue
        city = names.get(code[:4] + "00000000", "")
        province = names.get(code[:2] + "0000000000", "")
        if not province or city in ("", "市辖区", "县", "省直辖县级行政单位", "自治区直辖县级行政区划"):
            continue
        pool.append(County(name, _short(name), city, _city_short(city), province, _prov_short(province)))
    pool.sort(key=lambda c: (c.province, c.city, c.full))
    rng = random.Random(seed)
    chosen = rng.sample(pool, min(n, len(pool)))
    return chosen


def _cn_number(n: int) -> str:
    if n <= 10:
        return " 一二三四五六七八九十"[n]
    if n < 20:
        return "十" + _cn_number(n - 10)
    tens, ones = divmod(n, 10)
    return _cn_number(tens) + "十" + (_cn_number(ones) if ones else "")


def _walk(node: Node):
    yield node
    for child in node.children:
        yield from _walk(child)


class ReportMaker:
    def __init__(self, seeds: list[Seed], counties: list[County]):
        self.seeds = seeds
        self.counties = counties
        self.intros = [(k, t) for k, s in enumerate(seeds) for t in s.intro]
        self.by_class: dict[str, list[Node]] = {"main": [], "problem": [], "next": []}
        for s in seeds:
            for sec in s.sections:
                self.by_class[_classify(sec.title)].append(sec)
        # (sub)sections below the main sections, the material the reports are mostly made of
        self.main_children = [c for sec in self.by_class["main"] for c in sec.children]
        # titles as (text, seed index); -1: a template in the report's own year
        self.main_titles = [(sec.title, sec.seed) for sec in self.by_class["main"]] + [(t, -1) for t in [
            "主要举措和成效", "{year}年度法治政府建设工作开展情况", "工作开展情况", "主要工作及成效",
            "法治政府建设主要举措", "党政主要负责人履行推进法治建设第一责任人职责情况"]]
        self.problem_titles = [(sec.title, sec.seed) for sec in self.by_class["problem"]] + [
            ("存在的不足", -1), ("存在的问题和不足", -1)]
        self.next_titles = [(sec.title, sec.seed) for sec in self.by_class["next"]] + [(t, -1) for t in [
            "{next_year}年工作打算", "下一步工作计划", "下一步工作安排"]]
        self.templates = {b for s in seeds for sec in s.sections for n in _walk(sec) for b, _ in n.bodies}
        self.truth: dict[str, set[str]] = {}

    # -- text ----------------------------------------------------------------------------------
    def _fill(self, text: str, rng: random.Random, ctx: dict, k: int) -> str:
        """Numbers, rare names and places of seed k's text made the report's own (k=-1: a template)."""
        seed = self.seeds[k] if k >= 0 else None
        delta = ctx["year"] - seed.year if seed else 0

        def number(m: re.Match) -> str:
            s = m.string
            a, b = m.start(), m.end()
            digits = m.group()
            before = s[a - 1] if a > 0 else ""
            after = s[b] if b < len(s) else ""
            j = b
            while j < len(s) and s[j] == " ":
                j += 1
            nxt = s[j] if j < len(s) else ""
            v = int(digits)
            if before == "·" or after == "·":
                return digits  # 12·4 宪法宣传日
            if len(digits) == 4 and 1990 <= v <= 2035:
                if (before and before in "—-~～") or (after and after in "—-~～" and b + 1 < len(s) and s[b + 1].isdigit()):
                    return digits  # a plan period such as 2021—2025
                return str(v + delta)
            if before == "." and a > 1 and s[a - 2].isdigit():
                return "".join(str(rng.randint(0, 9)) for _ in digits)
            if nxt == "月":
                return str(rng.randint(1, 12))
            if nxt and nxt in "日号" and "月" in s[max(0, a - 4):a]:
                return str(rng.randint(1, 28))
            if nxt == "%":
                return str(rng.randint(max(1, v // 2), 100) if v <= 100 else rng.randint(101, 999))
            if len(digits) == 1:
                return str(rng.randint(1, 9)) if v else "0"
            if digits[0] == "0":
                return "".join(str(rng.randint(0, 9)) for _ in digits)
            return str(rng.randint(10 ** (len(digits) - 1), 10 ** len(digits) - 1))

        text = _NUM.sub(number, text)
        if "\x01" in text:
            text = re.sub("\x01([A-Z])\x02", lambda m: self._rare(ord(m.group(1)) - 65, rng, ctx), text)
        if "\x03" in text:
            text = re.sub("\x03(\\w+)\x04", lambda m: ctx[m.group(1)], text)
        if seed is not None and seed.suffix != ctx["suffix"]:
            text = (_COUNTY_WORD if seed.suffix == "县" else _DISTRICT_WORD).sub(ctx["suffix"], text)
        return text

    def _rare(self, i: int, rng: random.Random, ctx: dict) -> str:
        original = _RARE[i]
        if rng.random() < KEEP_RARE:
            return original
        while True:
            if _RARE_KIND[original] == "firm":
                name = ctx["prov_short"] + "".join(rng.sample(_FIRM_CHARS, 2)) + "律师事务所"
            else:
                name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))
            if name not in _RARE:
                return name

    # -- structure -----------------------------------------------------------------------------
    def _emit_node(self, node: Node, depth: int, number: int, out: list[str], rng, ctx, style: dict) -> None:
        title = self._fill(node.title, rng, ctx, node.seed)
        if depth == 2:
            prefix = style["l2"].format(_cn_number(number))
        else:
            prefix = style["l3"].format(number)
        out.append(prefix + title)
        bodies = list(node.bodies)
        if len(bodies) > 2 and rng.random() < 0.3:
            bodies.pop(rng.randrange(len(bodies)))
        children = list(node.children)
        if len(children) > 2 and rng.random() < 0.3:
            children.pop(rng.randrange(len(children)))
        if depth == 2 and children and style["flat"]:
            # items told in running text (一是…二是…) instead of numbered 1. 2. headings
            for k, child in enumerate(children, 1):
                lead = _cn_number(k) + "是" + child.title.rstrip("。") + "。"
                if child.bodies:
                    bodies.append((lead + child.bodies[0][0], child.bodies[0][1]))
                    bodies.extend(child.bodies[1:])
                else:
                    bodies.append((lead, child.seed))
            children = []
        merged: list[str] = []
        sources: list[set[str]] = []
        for text, k in bodies:
            ids = self._sources_of(text)
            text = self._fill(text, rng, ctx, k)
            # join short neighbours now and then: fewer, longer paragraphs, as in PDF dumps
            if merged and len(merged[-1]) + len(text) < 950 and rng.random() < 0.7:
                merged[-1] += text
                sources[-1] |= ids
            else:
                merged.append(text)
                sources.append(set(ids))
        out.extend(merged)
        for text, ids in zip(merged, sources):
            self.truth.setdefault(text, set()).update(ids)
        for k, child in enumerate(children, 1):
            self._emit_node(child, 3, k, out, rng, ctx, style)

    def _sources_of(self, text: str) -> set[str]:
        """The seed paragraphs a body text is made of: itself, or for a run-in lead made of a
        title and a seed paragraph (see make), that paragraph."""
        if text in self.templates:
            return {template_id(text)}
        return {template_id(t) for t in self.templates if len(t) >= 20 and t in text}

    def make(self, index: int, seed: int) -> tuple[str, str]:
        """(file name, text); ``self.truth`` then maps each body paragraph's text to the ids of the
        seed paragraphs it was made from (``template_id``)."""
        self.truth: dict[str, set[str]] = {}
        rng = random.Random(seed * 1_000_003 + index)
        county = rng.choice(self.counties)
        year = rng.randint(2015, 2025)
        suffix = "区" if county.full.endswith("区") else "县"
        ctx = {"full": county.full, "short": county.short, "city": county.city, "city_short": county.city_short,
               "province": county.province, "prov_short": county.prov_short, "year": year, "suffix": suffix}
        style = {"l2": rng.choice(["（{}）", "（{}）", "({})"]), "l3": rng.choice(["{}.", "{}．", "{}、"]),
                 "flat": rng.random() < 0.7}
        target = max(9_000, int(rng.gauss(TARGET_BYTES, 6_000)))

        out: list[str] = []
        title = rng.choice([
            "{full}{year}年度法治政府建设工作情况报告",
            "{full}人民政府关于{year}年度法治政府建设工作情况的报告",
            "{full}{year}年度法治政府建设工作情况总结",
            "{full}{year}年法治政府建设工作报告",
            "关于{full}{year}年度法治政府建设情况的报告",
        ]).format(full=county.full, year=year)
        if rng.random() < 0.4:
            out.append(f"{county.short[0]}政〔{year + 1}〕{rng.randint(1, 60)}号")
        out.append(title)
        if rng.random() < 0.5:
            out.append(f"{county.city}人民政府：")
        k, intro = rng.choice(self.intros)
        out.append(self._fill(intro, rng, ctx, k))
        self.truth.setdefault(out[-1], set()).add(template_id(intro))

        # the closing sections first, so the main sections can fill up to the target size
        tail: list[tuple[str, Node | None, list[Node]]] = []
        if rng.random() < 0.85:
            src = rng.choice(self.by_class["problem"])
            tail.append((rng.choice(self.problem_titles), src, []))
        if rng.random() < 0.85:
            src = rng.choice(self.by_class["next"])
            kids = list(src.children)
            rng.shuffle(kids)
            tail.append((rng.choice(self.next_titles), src, kids))
        size = sum(len(x.encode()) for x in out) + sum(s.size() for _, s, _ in tail if s)
        n_main = 1 if rng.random() < 0.7 else 2
        mains: list[list[Node]] = [[] for _ in range(n_main)]
        pool = list(self.main_children)
        rng.shuffle(pool)
        j = 0
        while size < target:
            if j >= len(pool):
                rng.shuffle(pool)
                j = 0
            node = pool[j]
            j += 1
            if rng.random() < 0.15:
                continue  # dropped
            target_list = mains[rng.randrange(n_main)]
            if target_list and rng.random() < MERGE:
                # told under the previous heading: its title becomes a run-in lead of its text
                prev = target_list[-1]
                extra = [(node.title.rstrip("。") + "。" + (node.bodies[0][0] if node.bodies else ""), node.seed)]
                extra += node.bodies[1:] + [b for c in node.children for b in c.bodies]
                target_list[-1] = Node(prev.title, prev.bodies + extra, prev.children, prev.seed)
            else:
                target_list.append(node)
            size += node.size()
            if rng.random() < 0.03:  # an occasional duplicated subsection
                mains[rng.randrange(n_main)].append(node)
                size += node.size()
        sections = [(rng.choice(self.main_titles), None, kids) for kids in mains if kids] + tail

        next_year = year + 1
        for n, (sec_title, src, kids) in enumerate(sections, 1):
            sec_title, k = sec_title
            sec_title = sec_title.replace("{year}", str(year)).replace("{next_year}", str(next_year))
            out.append(f"{_cn_number(n)}、" + self._fill(sec_title, rng, ctx, k))
            if src is not None:
                for b, k in src.bodies:
                    out.append(self._fill(b, rng, ctx, k))
                    self.truth.setdefault(out[-1], set()).add(template_id(b))
            for k2, kid in enumerate(kids, 1):
                self._emit_node(kid, 2, k2, out, rng, ctx, style)

        out.append(f"{county.full}人民政府")
        out.append(f"{next_year}年{rng.randint(1, 3)}月{rng.randint(1, 28)}日")
        name = f"{index:05d}_{year}.txt"
        return name, "\n\n".join(out) + "\n"


def generate(n: int, out_dir: Path, seed: int = 1, truth: Path | None = None) -> dict:
    """Writes the reports; with ``truth``, a JSON line per report there: its file name and, per body
    paragraph, its text and the seed paragraphs it was made from (the truth of text reuse: two
    paragraphs share a passage when they share a seed paragraph)."""
    import json

    out_dir.mkdir(parents=True, exist_ok=True)
    maker = ReportMaker(load_seeds(), load_counties(200, seed))
    total = 0
    lines = truth.open("w", encoding="utf-8") if truth is not None else None
    try:
        for i in range(n):
            name, text = maker.make(i, seed)
            data = text.encode("utf-8")
            (out_dir / name).write_bytes(data)
            total += len(data)
            if lines is not None:
                lines.write(json.dumps({"file": name, "paragraphs": [[t, sorted(ids)] for t, ids in maker.truth.items()]},
                                       ensure_ascii=False) + "\n")
    finally:
        if lines is not None:
            lines.close()
    return {"reports": n, "bytes": total}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--truth", type=Path, default=None,
                    help="Also write the reuse truth (which seed paragraphs each paragraph came from) as JSON lines here.")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    info = generate(args.reports, args.out, args.seed, args.truth)
    took = time.perf_counter() - started
    print(f"wrote {info['reports']} reports, {info['bytes'] / 1e6:.1f} MB "
          f"({info['bytes'] / max(1, info['reports']) / 1000:.1f} KB each) to {args.out} in {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
