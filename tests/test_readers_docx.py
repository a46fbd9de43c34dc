"""DOCX reader: a report built with python-docx (title, headings, body, table, footer)."""
from __future__ import annotations

import docx
import pytest
from docx.shared import Pt

from indexer.model import ReadError
from indexer.reading.readers import read_file
from indexer.reading.report import read_report

TITLE = "盐池县2021年度法治政府建设工作情况总结"
INTRO = (
    "2021年，我县以习近平新时代中国特色社会主义思想为指导，全面贯彻落实党的十九大、十九届历次全会和"
    "习近平总书记视察宁夏重要讲话精神，全面推进法治政府建设工作取得了明显成效，现将全县2021年度法治政府建设情况报告如下。"
)
H1 = "一、主要举措和成效"
H2 = "（一）深化习近平法治思想学习，筑牢法治思想根基。"
BODY = (
    "坚持把深入学习宣传贯彻习近平法治思想作为一项长期的重大政治任务，在学习宣传针对性、覆盖面和学深悟透上下功夫。"
    "一是加强领导干部的学习培训。将习近平法治思想纳入各级党委、政府（党组）理论中心组学习计划。"
)
AFTER = "我县法治政府建设工作虽然取得一定成效，但与区市党委、政府的要求还有一定差距。"


def build(path, *, with_title_property: bool = True) -> None:
    document = docx.Document()
    if with_title_property:
        document.core_properties.title = TITLE
    document.sections[0].footer.paragraphs[0].text = "— 1 —"
    document.sections[0].header.paragraphs[0].text = "盐池县人民政府"
    document.add_paragraph(TITLE, style="Title")
    intro = document.add_paragraph()
    intro.paragraph_format.first_line_indent = Pt(32)
    intro.add_run("\u3000\u3000" + INTRO[:20])
    intro.add_run(INTRO[20:]).bold = True
    document.add_paragraph("")
    document.add_paragraph("   ")
    document.add_heading(H1, level=1)
    document.add_heading(H2, level=2)
    document.add_paragraph(BODY)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "指标"
    table.cell(0, 1).text = "完成情况"
    table.cell(1, 0).text = "行政复议案件"
    table.cell(1, 1).text = "办结1件"
    document.add_paragraph(AFTER)
    document.save(str(path))


def test_docx_paragraphs_headings_and_table(tmp_path):
    path = tmp_path / "report.docx"
    build(path)
    raw = read_file(path)
    assert raw.format == "docx"
    assert raw.text.split("\n\n") == [
        f"# {TITLE}",
        INTRO,
        f"# {H1}",
        f"## {H2}",
        BODY,
        "指标",
        "完成情况",
        "行政复议案件",
        "办结1件",
        AFTER,
    ]
    assert raw.fields == {"标题": TITLE}
    assert "— 1 —" not in raw.text and "盐池县人民政府\n" not in raw.text


def test_docx_without_title_property(tmp_path):
    path = tmp_path / "report.docx"
    build(path, with_title_property=False)
    # python-docx's default template carries no title either.
    assert "标题" not in read_file(path).fields


def test_merged_cells_are_read_once(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    merged = table.cell(0, 0).merge(table.cell(1, 0))
    merged.text = "合并单元格"
    table.cell(0, 1).text = "甲"
    table.cell(1, 1).text = "乙"
    path = tmp_path / "merged.docx"
    document.save(str(path))
    assert read_file(path).text.split("\n\n") == ["合并单元格", "甲", "乙"]


def test_soft_line_break_inside_paragraph(tmp_path):
    document = docx.Document()
    paragraph = document.add_paragraph("互助土族自治县人民政府")
    paragraph.add_run().add_break()
    paragraph.add_run("关于2021年度法治政府建设工作的报告")
    path = tmp_path / "br.docx"
    document.save(str(path))
    assert read_file(path).text == "互助土族自治县人民政府关于2021年度法治政府建设工作的报告"


def test_corrupt_docx(tmp_path):
    good = tmp_path / "good.docx"
    build(good)
    data = good.read_bytes()
    bad = tmp_path / "bad.docx"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReadError) as info:
        read_file(bad)
    assert info.value.reason.startswith("DOCX is corrupt or not a Word document")
    assert str(bad) in str(info.value)


def test_not_a_zip(tmp_path):
    bad = tmp_path / "notes.docx"
    bad.write_text("这不是一个Word文档", encoding="utf-8")
    with pytest.raises(ReadError) as info:
        read_file(bad)
    assert info.value.reason.startswith("DOCX is corrupt or not a Word document")


def test_docx_without_text(tmp_path):
    document = docx.Document()
    document.add_paragraph("  ")
    path = tmp_path / "blank.docx"
    document.save(str(path))
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "DOCX has no text"


def test_empty_docx_file(tmp_path):
    path = tmp_path / "empty.docx"
    path.write_bytes(b"")
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "file is empty"


def _numbered_docx(path, items):
    """A .docx whose headings are numbered by Word's list numbering, not typed: 一、 （一） 1."""
    from docx.oxml import parse_xml

    document = docx.Document()
    numbering = document.part.numbering_part.element
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    numbering.append(parse_xml(
        f'<w:abstractNum {w} w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>'
        '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%3."/></w:lvl>'
        '<w:lvl w:ilvl="3"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/></w:lvl>'
        '</w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {w} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    for level, text in items:
        paragraph = document.add_paragraph(text)
        if level is not None:
            paragraph._p.get_or_add_pPr().append(parse_xml(
                f'<w:numPr {w}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'))
    document.save(path)


def test_word_list_numbering_is_written_into_the_text(tmp_path):
    """Issue 15: 一、 （一） 1. written by Word's numbering (not typed) were lost, and with them the
    sections; counters restart below a higher level, bullets add nothing."""
    path = tmp_path / "numbered.docx"
    _numbered_docx(path, [
        (None, "互助县2021年度法治政府建设工作情况报告"),
        (0, "总体情况"), (1, "加强组织领导"), (2, "压实工作责任。"), (None, "年内，县政府听取专题汇报2次。"),
        (2, "完善工作机制。"), (1, "依法履行职责"), (2, "深化放管服改革。"), (3, "一项要点"),
        (0, "存在的问题"), (1, "推进不均衡"),
    ])
    assert read_file(path).text.split("\n\n") == [
        "互助县2021年度法治政府建设工作情况报告", "一、总体情况", "（一）加强组织领导", "1.压实工作责任。",
        "年内，县政府听取专题汇报2次。", "2.完善工作机制。", "（二）依法履行职责", "1.深化放管服改革。", "一项要点",
        "二、存在的问题", "（一）推进不均衡"]
    report = read_report(path)
    body = next(p for p in report.paragraphs if p.text.startswith("年内"))
    assert list(body.section)[:2] == ["一、总体情况", "（一）加强组织领导"]
