"""The structure stage on the five real seed reports: metadata, section paths, joins, chunks."""
from __future__ import annotations

import pytest

from indexer.model import RawText
from indexer.reading.report import read_report
from indexer.reading.structure import build_report, heading_level

from conftest import CORPUS


def seed(name: str):
    return read_report(CORPUS / name)


EXPECTED_META = {
    "000_0d8bbccb02c01f0a.txt": dict(
        title="互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告",
        issuers=["互助土族自治县人民政府"], doc_number="互政〔2022〕4号", date="2022-01-17",
        region="互助土族自治县", city="海东市", province="青海省", year=2021, doc_type="报告",
        recipient="海东市人民政府", signer="杨生辉"),
    "001_623fe7deefd3bc57.txt": dict(
        title="盐池县2021年度法治政府建设工作情况总结", issuers=[], doc_number="", date="",
        region="盐池县", city="吴忠市", province="宁夏回族自治区", year=2021, doc_type="总结",
        recipient="", signer=""),
    "002_6785f9f2da4cfcb2.txt": dict(
        title="关于印发互助县2024年法治政府建设工作要点的通知", issuers=["互助土族自治县人民政府办公室"],
        doc_number="互政办〔2024〕18号", date="2024-04-22", region="互助土族自治县", city="海东市",
        province="青海省", year=2024, doc_type="工作要点", signer=""),
    "003_08e8b4a7741f3a58.txt": dict(
        title="", issuers=[], doc_number="", date="", region="乐都区", city="海东市", province="青海省",
        year=2020, doc_type="报告", recipient="", signer=""),
    "004_34069464076b4f45.txt": dict(
        title="关于2021年度法治政府建设工作的情况报告", issuers=["中共临猗县委", "临猗县人民政府"],
        doc_number="临字〔2022〕6号", date="2022-01-19", region="临猗县", city="运城市", province="山西省",
        year=2021, doc_type="报告", recipient="市委", signer="于鹏飞"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_META))
def test_seed_metadata_exact(name):
    meta = seed(name).meta.to_dict()
    for key, value in EXPECTED_META[name].items():
        assert meta[key] == value, f"{name}: {key}"


def test_web_header_becomes_fields_not_paragraphs():
    report = seed("002_6785f9f2da4cfcb2.txt")
    fields = report.meta.fields
    assert fields["索引号"] == "hzxrmzfbgs/2024-00018"
    assert fields["发布机构"] == "互助县人民政府办公室"
    assert fields["主题分类"] == "其他"
    assert fields["发布日期"] == "2024-04-24"
    assert not any("索 引 号" in p.text or p.text.startswith("浏览") for p in report.paragraphs)


def _find(report, needle):
    found = [p for p in report.paragraphs if needle in p.text]
    assert found, needle
    return found[0]


def test_section_path_of_run_in_heading_body_seed_000():
    report = seed("000_0d8bbccb02c01f0a.txt")
    p = _find(report, "行政机关负责人出庭应诉率为 89%")
    assert p.kind == "body"
    assert p.section == ("一、2021年度法治政府建设工作开展情况", "（五）加强权力约束，自觉接受监督。")
    heading = _find(report, "（二）依法履行职责，提升服务效能。")
    assert heading.kind == "heading" and heading.text == "（二）依法履行职责，提升服务效能。"
    body = report.paragraphs[heading.ordinal]  # the run-in body follows its heading
    assert body.text.startswith("一是加强行政审批") and body.section[-1] == heading.text
    assert "**" not in "".join(p.text for p in report.paragraphs)
    assert not any(p.text.startswith("#") for p in report.paragraphs)


def test_broken_paren_heading_seed_003():
    report = seed("003_08e8b4a7741f3a58.txt")
    p = _find(report, "要求领导干部学法笔记达15000字以上")
    assert p.section == ("一、工作开展情况", "七)不断加强宣传教育,着力强化依法行政意识", "1.认真落实学法制度。")


def test_plain_run_in_heading_without_bold_seed_001():
    report = seed("001_623fe7deefd3bc57.txt")
    heading = _find(report, "（二）统筹推进法治政府建设，压紧压实法治责任。")
    assert heading.kind == "heading" and heading.text == "（二）统筹推进法治政府建设，压紧压实法治责任。"
    body = report.paragraphs[heading.ordinal]
    assert body.text.startswith("严格落实法治政府建设职责")
    # the page break inside 领导干部履职评定 / 挂钩 is joined
    assert "领导干部履职评定挂钩" in body.text


def test_page_break_join_seed_000():
    report = seed("000_0d8bbccb02c01f0a.txt")
    p = _find(report, "一次办")
    assert "“网上办、马上办、就近办、一次办”工作" in p.text
    assert p.section[-1] == "（二）依法履行职责，提升服务效能。"
    assert "2021 年，各部门开展行政执法业务培训" in _find(report, "各部门开展行政执法业务培训").text
    # never merged across a real paragraph end
    assert _find(report, "一是压实工作责任").text == "一是压实工作责任。"


def test_levels_and_front_back_matter_seed_004():
    report = seed("004_34069464076b4f45.txt")
    heads = [p for p in report.paragraphs if p.kind == "heading"]
    assert heads[0].text.startswith("一、法治政府建设及党政主要负责人")
    p = _find(report, "对203项行政许可和59项相关联事项")
    assert len(p.section) == 3 and p.section[1].startswith("（一）提高政治站位") and p.section[2].startswith("3.全力营造")
    last = report.paragraphs[-1]
    assert last.text == "2022年1月19日" and last.section == ()
    assert report.paragraphs[0].section == ()


def test_heading_levels():
    assert heading_level("一、总体情况") == 1
    assert heading_level("（三）严格") == heading_level("(三)严格") == heading_level("七)不断") == 2
    assert heading_level("1.健全") == heading_level("12、加强") == 3
    assert heading_level("（1）细化") == 4
    assert heading_level("2021年，我县") is None and heading_level("2.36万件") is None
    assert heading_level("一是加强") is None


def test_long_paragraph_split_at_sentence_ends():
    sentence = "全面推进依法行政，加快建设法治政府。"
    text = "一、总体情况\n\n" + sentence * 200
    report = build_report(RawText("long.txt", text, "txt"), max_chars=300)
    bodies = [p for p in report.paragraphs if p.kind == "body"]
    assert len(bodies) > 10
    assert all(len(p.text) <= 300 for p in bodies)
    assert all(p.text.endswith("。") for p in bodies)
    assert "".join(p.text for p in bodies) == sentence * 200
    assert all(p.section == ("一、总体情况",) for p in bodies)


def test_single_line_without_punctuation_is_hard_split():
    report = build_report(RawText("x.txt", "法" * 5000, "txt"), max_chars=1000)
    assert [len(p.text) for p in report.paragraphs] == [1000] * 5


def test_large_single_line_file_is_chunked_with_bounded_memory(tmp_path):
    import tracemalloc

    seed_text = (CORPUS / "001_623fe7deefd3bc57.txt").read_text(encoding="utf-8").replace("\n", "")
    big = tmp_path / "one-line.txt"
    big.write_text(seed_text * (4_000_000 // len(seed_text.encode("utf-8")) + 1), encoding="utf-8")
    size = big.stat().st_size
    tracemalloc.start()
    report = read_report(big, max_chars=1000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(report.paragraphs) > size // 3 // 1000
    assert max(len(p.text) for p in report.paragraphs) <= 1000
    # markdown bold markers are structure hints, not text; compare without pytest's (huge) diff
    reassembled = "".join(p.text for p in report.paragraphs) == big.read_text(encoding="utf-8").replace("**", "").strip()
    assert reassembled, "the chunks do not reassemble the file's text"
    assert peak < 12 * size, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"


def test_attachment_title_after_the_closing_lines_heads_its_sections_seed_002():
    report = read_report(CORPUS / "002_6785f9f2da4cfcb2.txt")
    title = "互助县2024年法治政府建设工作要点"
    heading = next(p for p in report.paragraphs if p.text == title)
    assert heading.kind == "heading" and heading.section == (title,)
    first = next(p for p in report.paragraphs if p.text.startswith("一、进一步加强党的领导"))
    assert first.section == (title, first.text)
    intro = next(p for p in report.paragraphs if p.text.startswith("2024年是实现"))
    assert intro.section == (title,)
    # The notice before it, its issuer and its date stay outside any section.
    assert all(p.section == () for p in report.paragraphs[:heading.ordinal - 1])
    # A title after a 附件 line too; an issuer line after the closing lines is no title.
    raw = RawText("a.txt", "关于印发某某方案的通知\n\n各单位：现将方案印发给你们，请认真贯彻执行。\n\n某某县人民政府办公室\n\n"
                           "2024年3月1日\n\n附件\n\n某某县2024年普法工作方案\n\n一、总体要求\n\n坚持依法治县，全面推进各项工作。",
                  "txt")
    paragraphs = build_report(raw).paragraphs
    plan = next(p for p in paragraphs if p.text == "某某县2024年普法工作方案")
    assert plan.kind == "heading"
    assert next(p for p in paragraphs if p.text == "一、总体要求").section == ("某某县2024年普法工作方案", "一、总体要求")
    assert next(p for p in paragraphs if p.text == "某某县人民政府办公室").kind == "body"


def test_a_title_over_two_lines_is_one_title_and_red_heads_stay_apart():
    raw = RawText("t.txt", "互助土族自治县人民政府文件\n\n互政〔2022〕4号\n\n签发人：杨生辉\n\n"
                           "互助县人民政府关于2021年度法治政府\n\n建设工作情况的报告\n\n海东市人民政府：\n\n"
                           "2021年，全县法治政府建设取得新进展，各项工作有序推进。", "txt")
    report = build_report(raw)
    assert report.meta.title == "互助县人民政府关于2021年度法治政府建设工作情况的报告"
    texts = [p.text for p in report.paragraphs]
    assert texts[:5] == ["互助土族自治县人民政府文件", "互政〔2022〕4号", "签发人：杨生辉",
                         "互助县人民政府关于2021年度法治政府建设工作情况的报告", "海东市人民政府："]
    assert report.meta.signer == "杨生辉" and report.meta.doc_number == "互政〔2022〕4号"
