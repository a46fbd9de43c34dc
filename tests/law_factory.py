"""Legal texts the tests write: laws with 编/分编/章/节/条/款/项/目, 题注 with several amendments, a
regulation published by 令, a local regulation with its validity stated, a 通知 with an attached
办法 in 第X条 form, and a report citing their articles in every form the reports use.

Each text is built from its articles, so that a test knows each article's text and number."""
from __future__ import annotations

import shutil
from pathlib import Path

from indexer.citations.references import article_label

def cn(n: int) -> str:
    """Article numbers as laws write them: 十, 十二, 二十, 一百零五, 一百一十."""
    return article_label(str(n))[1:-1]


FUYI_NOTE = ("（1999年4月29日第九届全国人民代表大会常务委员会第九次会议通过　根据2009年8月27日第十一届全国人民代表大会"
             "常务委员会第十次会议《关于修改部分法律的决定》第一次修正\n根据2017年9月1日第十二届全国人民代表大会常务委员会"
             "第二十九次会议《关于修改〈中华人民共和国法官法〉等八部法律的决定》第二次修正　2023年9月1日第十四届全国人民代表"
             "大会常务委员会第五次会议修订）")

# article number -> its 款 (the first without its label); a 款 that is a list holds its 项 after it.
FUYI_ARTICLES = {
    1: ["为了防止和纠正违法的或者不当的行政行为，保护公民、法人和其他组织的合法权益，监督和保障行政机关依法行使职权，"
        "发挥行政复议化解行政争议的主渠道作用，推进法治政府建设，根据宪法，制定本法。"],
    2: ["公民、法人或者其他组织认为行政机关的行政行为侵犯其合法权益，向行政复议机关提出行政复议申请，行政复议机关办理"
        "行政复议案件，适用本法。", "前款所称行政行为，包括法律、法规、规章授权的组织的行政行为。"],
    11: ["有下列情形之一的，公民、法人或者其他组织可以依照本法申请行政复议：", "（一）对行政机关作出的行政处罚决定不服；",
         "（二）对行政机关作出的行政强制措施、行政强制执行决定不服；", "（三）申请行政许可，行政机关拒绝或者在法定期限内不予答复，"
         "或者对行政机关作出的有关行政许可的其他决定不服。"],
    12: ["下列事项不属于行政复议范围：", "（一）国防、外交等国家行为；", "（二）行政法规、规章或者行政机关制定、发布的具有普遍约束力的决定、命令等规范性文件。"],
    23: ["有下列情形之一的，申请人应当先向行政复议机关申请行政复议，对行政复议决定不服的，可以再依法向人民法院提起行政诉讼：",
         "（一）对当场作出的行政处罚决定不服；", "（二）行政行为未告知申请人有权申请行政复议。",
         "对前款规定的情形，行政机关在作出行政行为时应当告知公民、法人或者其他组织先向行政复议机关申请行政复议。"],
    24: ["县级以上地方各级人民政府管辖下列行政复议案件：", "（一）对本级人民政府工作部门作出的行政行为不服的；",
         "（二）对下一级人民政府作出的行政行为不服的。", "除前款规定外，省、自治区、直辖市人民政府同时管辖对本机关作出的行政行为不服的行政复议案件。"],
    90: ["本法自2024年1月1日起施行。"],
}
FUYI_CHAPTERS = [  # (heading, section headings with their articles, or articles)
    ("第一章　总　　则", [(None, [1, 2])]),
    ("第二章　行政复议申请", [("第一节　行政复议范围", [11, 12]), ("第二节　行政复议参加人", [23, 24])]),
    ("第七章　附　　则", [(None, [90])]),
]


def _articles_text(articles: dict[int, list[str]], numbers: list[int], *, suffix: dict[int, str] = {}) -> list[str]:
    lines = []
    for n in numbers:
        first, *rest = articles[n]
        lines.append(f"第{cn(n)}条{suffix.get(n, '')}　{first}")
        lines.extend(rest)
    return lines


def fuyi_text() -> str:
    lines = ["中华人民共和国行政复议法", "", FUYI_NOTE, "", "目　　录", ""]
    for chapter, sections in FUYI_CHAPTERS:
        lines.append(chapter)
        lines += ["　" + s for s, _ in sections if s]
    lines.append("")
    for chapter, sections in FUYI_CHAPTERS:
        lines += ["", chapter, ""]
        for section, numbers in sections:
            if section:
                lines.append(section)
            lines += _articles_text(FUYI_ARTICLES, numbers)
    return "\n".join(lines) + "\n"


SUSONG_ARTICLES = {
    1: ["为保证人民法院公正、及时审理行政案件，解决行政争议，保护公民、法人和其他组织的合法权益，监督行政机关依法行使职权，"
        "根据宪法，制定本法。"],
    3: ["人民法院应当保障公民、法人和其他组织的起诉权利，对应当受理的行政案件依法受理。",
        "行政机关及其工作人员不得干预、阻碍人民法院受理行政案件。",
        "被诉行政机关负责人应当出庭应诉。不能出庭的，应当委托行政机关相应的工作人员出庭。"],
    10: ["当事人在行政诉讼中有权进行辩论。"],
}
SUSONG_TEXT = (
    "中华人民共和国行政诉讼法\n\n"
    "（1989年4月4日第七届全国人民代表大会第二次会议通过　根据2014年11月1日第十二届全国人民代表大会常务委员会第十一次会议"
    "《关于修改〈中华人民共和国行政诉讼法〉的决定》第一次修正　根据2017年6月27日第十二届全国人民代表大会常务委员会第二十八次"
    "会议《关于修改〈中华人民共和国民事诉讼法〉和〈中华人民共和国行政诉讼法〉的决定》第二次修正）\n\n"
    "第一章　总　　则\n" + "\n".join(_articles_text(SUSONG_ARTICLES, [1, 3, 10])) + "\n"
)

# A code in 编 and 分编 (the 民法典's layout), a few articles of each.
CODE_TEXT = """中华人民共和国示范法典

（2020年5月28日第十三届全国人民代表大会第三次会议通过）

第一编　总　　则
第一章　基本规定
第一条　为了保护民事主体的合法权益，调整民事关系，制定本法。
第二条　本法调整平等主体的自然人、法人和非法人组织之间的人身关系和财产关系。
第二编　物　　权
第一分编　通　　则
第一章　一般规定
第二百零五条　本编调整因物的归属和利用产生的民事关系。
第二分编　所有权
第四章　一般规定
第二百四十条　所有权人对自己的不动产或者动产，依法享有占有、使用、收益和处分的权利。
第二百四十条之一　示范条文：
（一）第一项；
1.第一目；
2.第二目。
"""

REGULATION_TEXT = """优化营商环境条例

（2019年10月22日中华人民共和国国务院令第722号公布　自2020年1月1日起施行）

第一章　总　　则

第一条　为了持续优化营商环境，不断解放和发展社会生产力，加快建设现代化经济体系，推动高质量发展，制定本条例。
第二条　本条例所称营商环境，是指企业等市场主体在市场经济活动中所涉及的体制机制性因素和条件。
第五条　国家加快建立统一开放、竞争有序的现代市场体系，依法促进各类生产要素自由流动，保障各类市场主体公平参与市场竞争。
第六条　国家鼓励、引导、支持和保护各种所有制经济发展。
第七条　各级人民政府及其部门应当坚持政务公开常态化。依照本条例第五条和第六条的规定，建立健全营商环境工作机制。
"""

LOCAL_TEXT = """青海省优化营商环境条例

（2021年3月31日青海省第十三届人民代表大会常务委员会第二十三次会议通过）

时效性：现行有效

第一条　为了优化营商环境，激发市场主体活力，根据国务院《优化营商环境条例》等法律、行政法规，结合本省实际，制定本条例。
第二条　本省行政区域内优化营商环境工作，适用本条例。
第三条　本条例自2021年5月1日起施行。
"""

NOTICE_TEXT = """互助土族自治县人民政府办公室文件
互政办〔2022〕15号
互助土族自治县人民政府办公室关于印发《互助县行政规范性文件管理办法》的通知
各乡镇人民政府，县政府各部门：
现将《互助县行政规范性文件管理办法》印发给你们，请认真遵照执行。
一、高度重视
各单位要高度重视行政规范性文件管理工作，切实落实合法性审核。
二、抓好落实
各单位要按照《中华人民共和国行政复议法》第十二条的规定，抓好规范性文件清理。
互助土族自治县人民政府办公室
2022年3月1日
附件
互助县行政规范性文件管理办法
第一章　总则
第一条　为加强行政规范性文件管理，推进依法行政，制定本办法。
第二条　本办法所称行政规范性文件，是指除政府规章外，行政机关依照法定权限、程序制定并公开发布的公文。
有下列情形之一的，属于行政规范性文件：
（一）涉及公民、法人和其他组织权利义务的；
（二）在一定期限内反复适用的。
第二章　附则
第三条　本办法自2022年4月1日起施行。
"""

# A county's report citing the laws' articles in every form the reports use.
CITING_REPORT = """湟源县人民政府关于2023年度法治政府建设情况的报告

一、主要工作
（一）推进行政复议体制改革
严格落实《行政复议法》第二十三条，行政复议前置案件全部告知到位。
依照《中华人民共和国行政诉讼法》第三条第三款，行政机关负责人出庭应诉率达到100%。
对《行政复议法》第十一条至第十二条规定的受案范围开展专项培训。
（二）优化营商环境
贯彻《优化营商环境条例》第五条、第六条和第七条，持续推进“放管服”改革。
对照《法治政府建设实施纲要（2021－2025年）》和《行政诉讼法》第十条，开展普法宣传。
湟源县人民政府
2024年1月20日
"""


def write_laws(folder: Path) -> dict[str, Path]:
    """The texts above in ``folder``; the name of each text -> its path."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {"fuyi": fuyi_text(), "susong": SUSONG_TEXT, "code": CODE_TEXT, "regulation": REGULATION_TEXT,
             "local": LOCAL_TEXT, "notice": NOTICE_TEXT, "citing": CITING_REPORT}
    paths = {}
    for name, text in texts.items():
        path = folder / f"{name}.txt"
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    return paths


def seeds_with_laws(base: Path) -> Path:
    """A corpus in ``base``: the seed reports, and the texts above in its folder laws/ (report ids
    laws~fuyi, laws~citing …)."""
    from tests.conftest import CORPUS

    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    write_laws(corpus / "laws")
    return corpus
