"""Bounded reading: a file's bytes read once within the size limit, parsed from those bytes, and
reports over the inflated-size or paragraph limits skipped with a message naming the limit."""
from __future__ import annotations

import pytest

from indexer.config import Settings
from indexer.model import ReadError, ReadLimits
from indexer.parse import parse_file
from indexer.readers import load_file, read_file

REPORT = "关于2021年法治政府建设工作的报告\n\n一、主要工作\n\n（一）依法行政。我县坚持依法行政。\n"


def test_limits_from_settings():
    settings = Settings(max_file_mb=3, max_inflated_mb=5, max_report_paragraphs=7)
    assert ReadLimits.from_settings(settings) == ReadLimits(3 << 20, 5 << 20, 7)
    assert ReadLimits.from_settings(Settings()) == ReadLimits()


def test_load_file_returns_the_bytes(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(REPORT.encode("gb18030"))
    assert load_file(path) == REPORT.encode("gb18030")


def test_file_over_the_size_limit_is_skipped_naming_the_setting(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(("法治政府建设。" * 100 + "\n").encode("utf-8") * 100)  # 210 KB
    limits = ReadLimits(max_file_bytes=100 << 10)
    for call in (lambda: load_file(path, "corpus/big.txt", limits), lambda: parse_file(path, "corpus/big.txt", limits=limits)):
        with pytest.raises(ReadError) as info:
            call()
        assert info.value.source == "corpus/big.txt"
        assert "file is too large (0.2 MB)" in info.value.reason
        assert "over the limit of 0.1 MB" in info.value.reason
        assert "max_file_mb" in info.value.reason
    # exactly at the limit is fine
    assert len(load_file(path, limits=ReadLimits(max_file_bytes=path.stat().st_size))) == path.stat().st_size


@pytest.mark.parametrize("make, reason", [
    (lambda p: None, "file not found"),
    (lambda p: p.mkdir(), "is a directory, not a file"),
    (lambda p: p.write_bytes(b""), "file is empty"),
])
def test_load_file_errors(tmp_path, make, reason):
    path = tmp_path / "x.txt"
    make(path)
    with pytest.raises(ReadError) as info:
        load_file(path, "corpus/x.txt")
    assert (info.value.source, info.value.reason) == ("corpus/x.txt", reason)


def test_read_file_parses_the_given_bytes_not_the_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("文件里的文字", encoding="utf-8")
    content = "传入的文字".encode("utf-8")
    assert read_file(path, content=content).text == "传入的文字"
    assert parse_file(path, content=content).paragraphs[0].text == "传入的文字"
    # content need not even exist on disk; the file type comes from the suffix
    assert read_file(tmp_path / "gone.md", content=b"# x\n\ny").text == "# x\n\ny"
    with pytest.raises(ReadError, match="file is empty"):
        read_file(path, content=b"")
    with pytest.raises(ReadError, match="max_file_mb"):
        read_file(path, content=b"x" * 11, limits=ReadLimits(max_file_bytes=10))


def test_report_over_the_paragraph_limit_is_skipped(tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("\n\n".join(f"第{i}段。" for i in range(1, 51)), encoding="utf-8")
    assert len(parse_file(path, limits=ReadLimits(max_paragraphs=50)).paragraphs) == 50
    with pytest.raises(ReadError) as info:
        parse_file(path, source="corpus/many.txt", limits=ReadLimits(max_paragraphs=49))
    assert info.value.source == "corpus/many.txt"
    assert "report has too many paragraphs" in info.value.reason
    assert "over the limit of 49" in info.value.reason and "max_report_paragraphs" in info.value.reason


def test_paragraph_limit_counts_split_chunks(tmp_path):
    # one line of 10 sentences split into chunks: the chunks are the paragraphs that count
    path = tmp_path / "long.txt"
    path.write_text("这是一个很长的句子用来测试分段。" * 10, encoding="utf-8")
    chunks = len(parse_file(path, max_chars=50).paragraphs)
    assert chunks == 4  # 16-character sentences, three to a chunk of at most 50
    assert len(parse_file(path, max_chars=50, limits=ReadLimits(max_paragraphs=4)).paragraphs) == 4
    with pytest.raises(ReadError, match="too many paragraphs"):
        parse_file(path, max_chars=50, limits=ReadLimits(max_paragraphs=3))
