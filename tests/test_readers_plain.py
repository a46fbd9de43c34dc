"""Plain text and markdown: encodings, line endings, empty and binary files, dispatch."""
from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest

from indexer.model import ReadError
from indexer.reading.readers import SUPPORTED_SUFFIXES, read_file


CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def seed_text(paragraphs: int = 6) -> str:
    """The opening paragraphs of a real report, one per blank-line-separated block."""
    text = (CORPUS / "001_623fe7deefd3bc57.txt").read_text(encoding="utf-8")
    blocks = [block.strip() for block in text.split("\n\n") if block.strip()]
    return "\n\n".join(blocks[:paragraphs])


# Traditional text, every character in Big5.
TRADITIONAL = (
    "鹽池縣2021年度法治政府建設工作情況總結\n\n"
    "2021年，我縣以習近平新時代中國特色社會主義思想為指導，全面貫徹落實黨的十九大、"
    "十九屆歷次全會精神，深入貫徹落實《法治政府建設實施綱要（2021—2025年）》，"
    "現將全縣法治政府建設情況報告如下。\n\n"
    "一、主要舉措和成效\n\n"
    "（一）深化法治思想學習，築牢法治思想根基。堅持把學習宣傳貫徹法治思想作為一項長期的重大政治任務。"
)


def _encode(text: str, encoding: str) -> bytes:
    crlf = text.replace("\n", "\r\n")
    if encoding == "utf-16-le":
        return codecs.BOM_UTF16_LE + crlf.encode("utf-16-le")
    if encoding == "utf-16-be":
        return codecs.BOM_UTF16_BE + crlf.encode("utf-16-be")
    return crlf.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "gb18030", "gbk"])
def test_encodings_read_back_identical(tmp_path, encoding):
    source = seed_text()
    path = tmp_path / "report.txt"
    path.write_bytes(_encode(source, encoding))
    raw = read_file(path)
    assert raw.text == source
    assert raw.format == "txt"
    assert raw.fields == {}
    assert "\r" not in raw.text and "\ufeff" not in raw.text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark(tmp_path, encoding):
    """Issue 15: Windows' 'Unicode' text saved without a BOM was 'binary data'."""
    source = seed_text()
    path = tmp_path / "report.txt"
    path.write_bytes(source.replace("\n", "\r\n").encode(encoding))
    assert read_file(path).text == source
    path.write_bytes("法治政府建设工作要点".encode(encoding))  # no ASCII at all
    assert read_file(path).text == "法治政府建设工作要点"


def test_short_gbk_text(tmp_path):
    path = tmp_path / "short.txt"
    path.write_bytes("法治政府建设工作要点".encode("gbk"))
    assert read_file(path).text == "法治政府建设工作要点"


def test_big5_traditional(tmp_path):
    path = tmp_path / "big5.txt"
    path.write_bytes(_encode(TRADITIONAL, "big5"))
    assert read_file(path).text == TRADITIONAL


def test_gb18030_beyond_gbk(tmp_path):
    text = seed_text(2) + "\n\n吉祥的𠮷字与䶮字。"
    path = tmp_path / "gb18030.txt"
    path.write_bytes(text.encode("gb18030"))
    assert read_file(path).text == text


def test_cr_only_line_endings(tmp_path):
    source = seed_text(3)
    path = tmp_path / "mac.txt"
    path.write_bytes(source.replace("\n", "\r").encode("utf-8"))
    assert read_file(path).text == source


def test_markdown_markup_is_kept(tmp_path):
    source = "# 互助土族自治县人民政府文件\n\n## 关于2021年度法治政府建设工作开展情况的报告\n\n**（一）加强组织领导，强化依法行政。**一是压实工作责任。\n\n- 列表项\n  - 子项"
    path = tmp_path / "report.md"
    path.write_bytes(source.replace("\n", "\r\n").encode("utf-8-sig"))
    raw = read_file(path)
    assert raw.format == "md"
    assert raw.text == source


def test_txt_with_one_paragraph_per_line(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("\u3000\u3000第一段。\n\u3000\u3000第二段。\n第三段。\n", encoding="utf-8")
    assert read_file(path).text == "第一段。\n\n第二段。\n\n第三段。"


def test_blank_line_runs_collapse_and_indents_strip(tmp_path):
    path = tmp_path / "gaps.txt"
    path.write_text("\n\n  标题  \n\n\n \u3000\n\u3000\u3000正文第一行\n续行\n\n\n", encoding="utf-8")
    assert read_file(path).text == "标题\n\n正文第一行\n续行"


@pytest.mark.parametrize("content", [b"", b"   \r\n\t\n", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, "\u3000\u3000\n".encode("utf-8")])
def test_empty_files(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "file is empty"
    assert str(path) in str(info.value)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_bytes_are_binary(tmp_path, seed):
    rng = random.Random(seed)
    path = tmp_path / "junk.txt"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "binary data in an unknown encoding"


def test_random_bytes_without_nul_are_binary(tmp_path):
    rng = random.Random(7)
    path = tmp_path / "junk.md"
    path.write_bytes(bytes(rng.randrange(1, 256) for _ in range(4096)))
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "binary data in an unknown encoding"


def test_text_with_embedded_nul_is_binary(tmp_path):
    path = tmp_path / "nul.txt"
    path.write_bytes("法治政府".encode("utf-8") + b"\x00\x01\x02" * 10)
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "binary data in an unknown encoding"


def test_unsupported_extension(tmp_path):
    path = tmp_path / "table.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ReadError) as info:
        read_file(path, source="corpus/table.xls")
    assert info.value.reason == "unsupported file type '.xls' (supported: .txt .md .pdf .html .htm .docx .ofd .doc .wps .png .jpg .jpeg .tif .tiff)"
    assert info.value.source == "corpus/table.xls"
    assert str(info.value).startswith("corpus/table.xls: ")


def test_no_extension(tmp_path):
    path = tmp_path / "README"
    path.write_text("说明", encoding="utf-8")
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason.startswith("unsupported file type (no extension)")


def test_suffix_is_case_insensitive(tmp_path):
    path = tmp_path / "REPORT.TXT"
    path.write_text("法治政府建设", encoding="utf-8")
    raw = read_file(path)
    assert raw.text == "法治政府建设" and raw.format == "txt"


def test_missing_file(tmp_path):
    with pytest.raises(ReadError) as info:
        read_file(tmp_path / "missing.txt")
    assert info.value.reason == "file not found"


def test_directory_with_supported_suffix(tmp_path):
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    with pytest.raises(ReadError) as info:
        read_file(folder)
    assert info.value.reason == "is a directory, not a file"


def test_source_defaults_to_path_and_can_be_given(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("正文", encoding="utf-8")
    assert read_file(path).source == str(path)
    assert read_file(str(path), source="corpus/a.txt").source == "corpus/a.txt"


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".pdf", ".html", ".htm", ".docx", ".ofd", ".doc", ".wps", ".png", ".jpg",
                                  ".jpeg", ".tif", ".tiff")


def test_twenty_megabyte_single_line(tmp_path):
    unit = "法治政府建设2021年度报告，"  # 14 characters
    line = unit * (20 * 1024 * 1024 // len(unit.encode("utf-8")))
    path = tmp_path / "huge.txt"
    path.write_bytes(line.encode("utf-8"))
    assert path.stat().st_size >= 19 * 1024 * 1024
    raw = read_file(path)
    assert len(raw.text) == len(line)
    assert raw.text == line
