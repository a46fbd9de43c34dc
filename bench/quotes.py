"""Quote-finding benchmark (issue 14): how well `cite --quote` tells a quote from the corpus from one
that is not, and how right its verdicts are, on quotes made from the corpus as people make them.

    python3 bench/quotes.py [--reports 300] [--per-kind 60] [--seed 7]

The corpus is the bundled seeds plus ``--reports`` generated reports (bench/generate.py). From its
paragraphs the run makes, for each kind, ``--per-kind`` quotes with a known source paragraph:

* cut: a stretch of 15-80 characters, as it is (verdict 完全一致);
* repunct: the same re-punctuated as people retype it (half-width punctuation, spaces between digits
  and Chinese, full-width digits, a comma for a full stop) (完全一致);
* traditional: the same in traditional characters (opencc s2t) (完全一致);
* join: the end of one paragraph and the start of the next (完全一致, found across the break);
* char: one Chinese character changed (有出入);
* number: one digit of a number changed (有出入, and the number named as a changed fact);

and quotes that are not in the corpus (they must be 未找到): ``OTHER`` below, sentences of other
subjects and of other government work written for this benchmark, none of them from the corpus.

For each quote the finder runs with no threshold; its best match's score (the share of the quote
found) is then held against each threshold: a quote is found when its best score reaches it, and
found right when that match is its source. Precision = found right / found; recall = found right /
quotes from the corpus. The table shows both for every threshold, and the verdicts at the chosen
one (``quote.THRESHOLD``). Results: Markdown on stdout and bench/out/quotes.md.
"""
from __future__ import annotations

import argparse
import importlib.util
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from run import conditions, machine, publish  # noqa: E402  (bench/run.py, beside this file)

# Not from the corpus: other subjects, and other kinds of government work the corpus does not cover.
OTHER = [
    "今天天气晴朗，我们一起去公园散步，然后在湖边吃了一顿美味的午餐。",
    "量子计算机利用量子叠加和纠缠原理进行并行计算，有望在药物研发领域取得突破。",
    "本赛季主队在主场连续取得五场胜利，球迷们对下一轮客场比赛充满期待。",
    "将面粉和温水混合揉成光滑的面团，盖上保鲜膜醒发半小时后擀成薄皮。",
    "唐代诗人在长安城中留下了大量描写边塞风光和离别之情的诗篇。",
    "新款手机搭载了更大容量的电池，续航时间比上一代延长了约两个小时。",
    "火星表面的沙尘暴可以持续数周，覆盖整个星球的大部分区域。",
    "小明每天早上六点起床，先跑步三公里，再回家吃早饭准备上学。",
    "这部电影讲述了一位年轻画家在异国他乡追寻艺术梦想的故事。",
    "深海鱼类为了适应高压和黑暗的环境，演化出了发光器官和特殊的骨骼结构。",
    "全市今年新建高标准农田十二万亩，粮食播种面积稳定在三百万亩以上。",
    "县教育局组织开展暑期教师培训，覆盖全县中小学骨干教师八百余人。",
    "今年以来，我县新增城镇就业岗位四千二百个，城镇登记失业率控制在百分之三以内。",
    "区卫生健康委员会推进家庭医生签约服务，重点人群签约率达到百分之七十五。",
    "全省高速公路通车里程突破八千公里，实现所有县城半小时上高速。",
    "市文化和旅游局举办非物质文化遗产展演活动，吸引游客三万余人次。",
    "县林业和草原局完成退化草原修复治理任务十五万亩，森林覆盖率提高零点八个百分点。",
    "镇政府组织志愿者开展河道清洁行动，清理垃圾二十余吨。",
    "市统计局发布数据显示，一季度全市规模以上工业增加值同比增长百分之六点二。",
    "县气象局发布暴雨橙色预警，提醒群众注意防范山洪和地质灾害。",
    "区图书馆新增少儿阅览室，藏书量达到十五万册，全年接待读者二十万人次。",
    "县水利局完成农村饮水安全巩固提升工程，惠及群众三万八千人。",
    "市体育局承办全省青少年游泳锦标赛，来自十四个地市的运动员参加比赛。",
    "县商务局组织企业参加广州进出口商品交易会，签订意向合同金额一点二亿元。",
    "乡村振兴示范村建设稳步推进，村集体经济收入全部超过十万元。",
    "区住房和城乡建设局启动老旧小区改造项目二十三个，惠及居民五千余户。",
    "县医保局将十二种慢性病门诊用药纳入报销范围，减轻群众就医负担。",
    "市公安局交警支队开展夏季道路交通安全整治行动，查处酒驾醉驾违法行为。",
    "省博物馆推出青铜器特展，展出商周时期珍贵文物一百二十余件。",
    "县农业农村局推广节水灌溉技术，建成滴灌示范基地两千亩。",
    "秋天到了，树叶慢慢变黄，一阵风吹过，落叶像蝴蝶一样在空中飞舞。",
    "这家咖啡店的招牌拿铁使用本地烘焙的咖啡豆，口感醇厚带有坚果香气。",
    "程序员在调试代码时发现了一个内存泄漏问题，修复后系统运行更加稳定。",
    "研究人员在高原湖泊中发现了一种新的藻类，其耐寒能力远超同类物种。",
    "古镇的石板路两旁保留着明清时期的民居建筑，吸引了众多摄影爱好者。",
    "县残联为二百名残疾人免费适配辅助器具，开展康复训练服务。",
    "市邮政管理局推进快递进村工程，建制村快递服务通达率达到百分之百。",
    "区市场监管局开展校园周边食品安全专项检查，检查经营户三百余家。",
    "县自然资源局完成第三次国土调查成果更新，建立国土空间基础信息平台。",
    "全市新能源汽车保有量突破五万辆，建成公共充电桩两千八百个。",
    # short ones, where a chance match is likeliest
    "量子计算", "火星探测器", "人工智能芯片", "足球联赛冠军", "咖啡拉花技巧", "深海鱼类", "唐诗宋词", "高铁时刻表",
    "新能源汽车充电桩", "非物质文化遗产展演",
]
KINDS = ("cut", "short", "repunct", "traditional", "join", "char", "number")
EXPECTED = {"cut": "完全一致", "short": "完全一致", "repunct": "完全一致", "traditional": "完全一致", "join": "完全一致",
            "char": "有出入", "number": "有出入"}
_REPUNCT = {"，": ",", "。": ".", "；": ";", "：": ":", "、": ",", "（": "(", "）": ")"}
_FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def _generate(n: int, out: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.generate(n, out)


def _cut(rng: random.Random, text: str, shortest: int = 15, longest: int = 80) -> tuple[int, int]:
    length = rng.randint(shortest, min(longest, len(text)))
    start = rng.randint(0, len(text) - length)
    return start, start + length


def make_quotes(eng, per_kind: int, rng: random.Random) -> list[dict]:
    """Quotes with their kind and source paragraph id (None for quotes not in the corpus)."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    rows = []
    for ref in eng.reports():
        view = eng.report(ref.id)
        for p, nxt in zip(view.paragraphs, view.paragraphs[1:] + [None]):
            if p.kind == "body" and len(p.text) >= 40:
                rows.append((p, nxt if nxt is not None and nxt.kind == "body" and len(nxt.text) >= 20 else None))
    quotes = []
    for kind in KINDS:
        made = 0
        tries = 0
        while made < per_kind and tries < per_kind * 50:
            tries += 1
            p, nxt = rng.choice(rows)
            a, b = _cut(rng, p.text, *((6, 12) if kind == "short" else (15, 80)))
            text = original = p.text[a:b]
            if kind == "repunct":
                text = "".join(_REPUNCT.get(c, c) for c in text)
                text = re.sub(r"(\d)([\u4e00-\u9fff])", r"\1 \2", text).translate(_FULL)
            elif kind == "traditional":
                text = s2t.convert(text)
                if text == p.text[a:b]:
                    continue
            elif kind == "join":
                if nxt is None:
                    continue
                text = original = p.text[-rng.randint(12, 30):] + nxt.text[:rng.randint(12, 30)]
            elif kind == "char":
                spots = [i for i, c in enumerate(text) if "\u4e00" <= c <= "\u9fff"]
                i = rng.choice(spots)
                other = rng.choice("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严" .replace(text[i], ""))
                text = text[:i] + other + text[i + 1:]
            elif kind == "number":
                digits = [i for i, c in enumerate(text) if c.isdigit()]
                if not digits:
                    continue
                i = rng.choice(digits)
                text = text[:i] + rng.choice("0123456789".replace(text[i], "")) + text[i + 1:]
            quotes.append({"kind": kind, "text": text, "source": p.id, "original": original})
            made += 1
    quotes += [{"kind": "other", "text": t, "source": None, "original": ""} for t in OTHER]
    return quotes


def evaluate(eng, quotes: list[dict]) -> tuple[list[dict], float]:
    """Each quote with its best match (score, whether it is right, the verdict); the seconds taken. A
    match is right when it is the quote's source paragraph or holds the same text (the generated
    reports share paragraphs, as real ones do)."""
    from indexer.citations.quote import find_quote
    from indexer.normalise import fold

    started = time.perf_counter()
    for q in quotes:
        matches = find_quote(eng.store, q["text"], limit=1, threshold=0.0)
        best = matches[0] if matches else None
        q["score"] = best.score if best else 0.0
        held = "".join(fold(eng.paragraph(pid).text) for pid in best.pids) if best and q["source"] else ""
        q["right"] = bool(best and q["source"] and (q["source"] in best.pids or fold(q["original"]).replace(
            "\n", "") in held.replace("\n", "")))
        q["verdict"] = best.verification["verdict"] if best else "未找到"
        # The quote as it is, word for word, in another paragraph (the reports reuse each other's
        # paragraphs with numbers changed): that paragraph is a right source too.
        q["right"] = q["right"] or bool(q["source"] and q["verdict"] == "完全一致")
        q["matched"] = best.matched_text if best else ""
        q["facts"] = [f["kind"] for f in best.verification["facts"]] if best else []
    return quotes, time.perf_counter() - started


def table(quotes: list[dict], chosen: float) -> list[str]:
    positives = [q for q in quotes if q["source"]]
    others = sorted(q["score"] for q in quotes if not q["source"])
    lines = [f"Best scores of the quotes not from the corpus: max {others[-1]:.3f}, median {others[len(others) // 2]:.3f}.",
             "", "| threshold | found | found right | precision | recall | not-from-corpus found |",
             "|---:|---:|---:|---:|---:|---:|"]
    for t in [x / 100 for x in range(30, 100, 5)]:
        found = [q for q in quotes if q["score"] >= t]
        right = [q for q in found if q["right"]]
        wrong_other = [q for q in found if not q["source"]]
        precision = len(right) / len(found) if found else 1.0
        recall = len(right) / len(positives)
        mark = " **(chosen)**" if abs(t - chosen) < 1e-9 else ""
        lines.append(f"| {t:.2f}{mark} | {len(found)} | {len(right)} | {precision:.3f} | {recall:.3f} | "
                     f"{len(wrong_other)} of {len(quotes) - len(positives)} |")
    return lines


def verdicts(quotes: list[dict], chosen: float) -> list[str]:
    lines = ["| kind | quotes | found right | verdict as expected | changed number named | best score min / median |",
             "|---|---:|---:|---:|---:|---:|"]
    for kind in KINDS + ("other",):
        qs = [q for q in quotes if q["kind"] == kind]
        if not qs:
            continue
        found = [q for q in qs if q["score"] >= chosen]
        right = [q for q in found if q["right"]]
        expected = EXPECTED.get(kind, "未找到")
        as_expected = [q for q in qs if (q["verdict"] if q["score"] >= chosen else "未找到") == expected
                       and (kind == "other" or q["right"])]
        named = sum(1 for q in right if "数字" in q["facts"]) if kind == "number" else None
        scores = sorted(q["score"] for q in qs)
        lines.append(f"| {kind} | {len(qs)} | {len(right)} | {len(as_expected)} ({expected}) | "
                     f"{'' if named is None else named} | {scores[0]:.3f} / {scores[len(scores) // 2]:.3f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=300, help="generated reports beside the seeds")
    parser.add_argument("--per-kind", type=int, default=60, help="quotes of each kind made from the corpus")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show-wrong", action="store_true", help="print each quote found wrong (stderr)")
    args = parser.parse_args()

    from indexer.citations.quote import THRESHOLD
    from indexer.indexing.update import update_index
    from indexer.search.engine import SearchEngine

    load_before = machine()
    work = Path(tempfile.mkdtemp(prefix="quotes-bench-"))
    try:
        corpus = work / "corpus"
        _generate(args.reports, corpus)
        for seed in sorted((ROOT / "corpus").glob("*.txt")):
            shutil.copy(seed, corpus / seed.name)
        update_index([corpus], work / "index")
        eng = SearchEngine(work / "index")
        quotes, seconds = evaluate(eng, make_quotes(eng, args.per_kind, random.Random(args.seed)))
        paragraphs = eng.stats()["paragraphs"]
        eng.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.show_wrong:
        for q in quotes:
            if q["source"] and not q["right"]:
                print(q["kind"], q["score"], repr(q["text"]), "->", repr(q["matched"][:80]), file=sys.stderr)
    out = [f"## Quote finding: {len(quotes)} quotes on {args.reports} generated reports + the 5 seeds "
           f"({paragraphs:,} paragraphs)", "", conditions(load_before, f"{seconds / len(quotes) * 1000:.0f} ms a quote"),
           "", *table(quotes, THRESHOLD), "", f"Verdicts at the threshold {THRESHOLD}:", "", *verdicts(quotes, THRESHOLD)]
    publish("quotes", out)


if __name__ == "__main__":
    main()
