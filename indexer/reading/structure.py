"""RawText -> Report: paragraphs with kinds and section paths, plus report metadata.

Heading levels come from numbering, never from markdown levels:
    一、  >  （一） (一) 七)  >  1. 1、  >  （1） (1)
Legal texts (laws, regulations, 办法 in 第X条 form) number 编 > 分编 > 章 > 节 > 条; the 条 (article) is
the citable unit: its 款 (the lines after ``第二十三条　…``), 项 (（一）…) and 目 (1.…) are body paragraphs
whose section path ends with the article (``第一章 总则 › 第一节 … › 第二十三条``) and that share one
source paragraph, so that the terms of an AND hold of the whole article (同段 is 同条). Inside an
article, report numbering is its 项 and 目, never a heading. A document may mix both: a 通知 in
report style with an attached 办法 in articles. A law's 目录 (its chapters listed before the text)
is front matter.
Markdown ``#`` and ``**bold**`` are removed from the text; a leading bold run marks where a run-in
heading ends (``**（二）依法履行职责，提升服务效能。**一是…``).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from indexer.model import Paragraph, RawText, ReadError, Report, over_limit
from indexer.reading.legal import NUMERALS, is_title_note_start, legal_meta, title_note_closed
from indexer.reading.metadata import DOCNO_RE, WebHeader, extract_meta, is_back_matter_line
from indexer.reading.readers.ocr import unsure_spans

DEFAULT_MAX_CHARS = 1000

_CN_NUM = "一二三四五六七八九十百零〇"
_LEVEL_PATTERNS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(rf"^[{_CN_NUM}]{{1,3}}\s*[、.．]")),
    (2, re.compile(rf"^[(（]\s*[{_CN_NUM}]{{1,3}}\s*[)）]")),
    (2, re.compile(rf"^[{_CN_NUM}]{{1,3}}[)）]")),  # a heading that lost its opening paren
    (3, re.compile(r"^\d{1,2}\s*[.．、](?!\d)")),
    (4, re.compile(r"^[(（]\s*\d{1,2}\s*[)）]")),
]
# Legal numbering: its levels sit below an attached document's title (0), like report numbering.
_LEGAL_LEVELS = {"编": 1, "分编": 2, "章": 3, "节": 4}
_LEGAL_HEADING = re.compile(rf"^第[{NUMERALS}]{{1,6}}(分编|编|章|节)(?:\s|$|(?=[\u4e00-\u9fff]))")
_ARTICLE = re.compile(rf"^(第[{NUMERALS}]{{1,8}}条(?:之[{NUMERALS}]{{1,3}})?)(\s+|$|(?=[\u4e00-\u9fff“\"《（(]))")
_TOC = re.compile(r"^目\s*录$")


def legal_heading_level(text: str) -> int | None:
    """The level of a 编, 分编, 章 or 节 heading line (第一章 总则), else None."""
    m = _LEGAL_HEADING.match(text)
    if not m or len(text) > 40 or any(ch in text for ch in _SENTENCE_END + "，,；;："):
        return None
    return _LEGAL_LEVELS[m.group(1)]


def _legal_heading_text(text: str) -> str:
    """第一章　总　　则 -> 第一章 总则: its number, one space, its name (spread out on the page)."""
    m = _LEGAL_HEADING.match(text)
    name = text[m.end():].replace(" ", "") if m else ""
    return f"{text[:m.end()].strip()} {name}" if m and name else text


def article_start(text: str, in_legal: bool) -> str | None:
    """The article label (第二十三条, 第十条之一) a line opens with, else None. Outside a legal text
    (no 章 or 条 seen yet) the label must stand apart (第一条　为了…) or run straight into 为:
    a report's sentence may begin with 第三条规定."""
    m = _ARTICLE.match(text)
    if not m:
        return None
    rest = text[m.end(1):]
    if in_legal or not rest or rest[0].isspace() or rest.startswith("为"):
        return m.group(1)
    return None


# A run-in heading is one short sentence; anything longer is a numbered body paragraph.
HEADING_MAX_CHARS = 60
_SENTENCE_END = "。！？!?"
_CONTINUES_AFTER = set("。！？!?；;：:…”’」』）)】") 
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_BOLD_PREFIX = re.compile(r"^\*\*(.+?)\*\*")
# A run of spaces and tabs becomes one space; a lone space is already one.
_INLINE_SPACE = re.compile("[ \t\u3000\xa0]{2,}|[\t\u3000\xa0]")


@dataclass(slots=True)
class _Line:
    text: str  # markup removed
    bold_prefix: str = ""  # text of a leading **bold** run, if any
    markdown_level: int = 0  # the # count of a markdown heading (a docx heading style, an HTML <hN>), else 0
    gap_before: bool = False  # a blank line preceded it (a page break in these dumps)


# Every pattern above starts with one of these or a decimal digit (``\d``, str.isdecimal).
_HEADING_FIRST = _CN_NUM + "(（"


def heading_level(text: str) -> int | None:
    if not text or not (text[0] in _HEADING_FIRST or text[0].isdecimal()):
        return None
    for level, pattern in _LEVEL_PATTERNS:
        if pattern.match(text):
            return level
    return None


_TITLE_ENDS = ("文件", "报告", "总结", "通知", "要点", "方案", "意见", "规划", "计划", "决定", "办法")


def _title_like(text: str) -> bool:
    """A document's title or red head (关于…的报告, …人民政府文件), not a section heading."""
    t = text.rstrip("。 ")
    return "关于" in t or t.endswith(_TITLE_ENDS)


def _title_continues(first: str, line: str) -> bool:
    """A title printed over two lines (a long title centred on the cover: 关于2021年度法治政府 /
    建设工作情况的报告): ``line`` ends the title ``first`` began. Red heads, 文号, issuers, dates
    and salutations are lines of their own."""
    def own_line(t: str) -> bool:
        return bool(DOCNO_RE.search(t)) or is_back_matter_line(t) or t.endswith("文件") or ":" in t or "：" in t

    a, b = first.rstrip(), line.strip()
    return (
        len(a) >= 6 and len(a) + len(b) <= 80
        and not a.endswith(_TITLE_ENDS + tuple("）)》」”")) and not any(ch in a for ch in _SENTENCE_END + "，,；;")
        and b.rstrip("。 》").endswith(_TITLE_ENDS) and not b.startswith("关于")
        # a whole title of its own below a line (a running header): only the end of one is joined on
        and (len(b) < 15 or "关于" in a)
        and not own_line(a) and not own_line(b)
    )


# An attachment's own heading line (附件 / 附件2：) before its title.
_ATTACHMENT = re.compile(r"^附\s*件\s*\d*\s*[:：]?$")


def _attachment_title(text: str, prev: "_Block | None") -> bool:
    """The title of a document attached after the report's closing lines (its issuer and date, or
    a 附件 line): 互助县2024年法治政府建设工作要点 after 关于印发…的通知. It heads what follows."""
    return (
        prev is not None
        and (prev.kind == "back" or bool(_ATTACHMENT.match(prev.text)))
        and len(text) <= HEADING_MAX_CHARS
        and _title_like(text)
        and not _looks_like_prose(text)
        and not is_back_matter_line(text)
    )


def _plain_heading(text: str) -> bool:
    """Short, not a sentence, not a title: what a marked-up heading without a number looks like."""
    return len(text) <= 30 and text[-1] not in _SENTENCE_END and not _title_like(text)


def _clean_inline(text: str) -> str:
    text = text.replace("**", "")
    # The substitution only has work where one of these occurs (a scan for them is much faster).
    if "\t" in text or "\u3000" in text or "\xa0" in text or "  " in text:
        text = _INLINE_SPACE.sub(" ", text)
    return text.strip()


def _lines(raw: str) -> Iterator[_Line]:
    # One line at a time (no split list): a report is stopped at its paragraph limit long before
    # the lines of a huge file would all exist.
    gap = False
    start = 0
    while start <= len(raw):
        end = raw.find("\n", start)
        if end == -1:
            end = len(raw)
        line = raw[start:end]
        start = end + 1
        stripped = line.strip().strip("\u3000\xa0")
        if not stripped:
            gap = True
            continue
        md_match = _MD_HEADING.match(stripped)
        md = len(md_match.group().strip()) if md_match else 0
        if md:
            stripped = _MD_HEADING.sub("", stripped)
        bold_prefix = ""
        m = _BOLD_PREFIX.match(stripped) if stripped.startswith("**") else None
        if m:
            bold_prefix = _clean_inline(m.group(1))
        text = _clean_inline(stripped)
        if text:
            yield _Line(text, bold_prefix, md, gap)
        gap = False


def _after_web_header(lines: Iterator[_Line], fields: dict[str, str]) -> Iterator[_Line]:
    """The lines after a web-page dump's 信息公开 header, whose fields go into ``fields``. Lazy,
    so that a report is stopped at its paragraph limit before all its lines exist."""
    header = WebHeader(fields)
    for line in lines:
        if not header.take(line.text):
            yield line
            break
    yield from lines


def _split_run_in(line: _Line) -> tuple[str, str] | None:
    """(heading, body) when a numbered line is a heading, with or without a body run in after it."""
    text = line.text
    if line.bold_prefix and heading_level(line.bold_prefix) is not None and text.startswith(line.bold_prefix):
        return line.bold_prefix, text[len(line.bold_prefix):].strip()
    end = next((i for i, ch in enumerate(text) if ch in _SENTENCE_END), None)
    if end is None:
        return (text, "") if len(text) <= HEADING_MAX_CHARS else None
    if end + 1 > HEADING_MAX_CHARS:
        return None
    return text[: end + 1], text[end + 1:].strip()


def _is_unfinished(text: str) -> bool:
    return bool(text) and text[-1] not in _CONTINUES_AFTER


def _split_long(text: str, max_chars: int) -> list[str]:
    """Splits at sentence ends so that no chunk is longer than max_chars (hard cut if it must)."""
    if len(text) <= max_chars:
        return [text]
    chunks: list[str] = []
    start = 0
    n = len(text)
    while n - start > max_chars:
        window_end = start + max_chars
        cut = -1
        for i in range(window_end - 1, start + max_chars // 4, -1):
            if text[i] in "。！？!?；;":
                cut = i + 1
                break
        if cut == -1:
            cut = window_end
        chunks.append(text[start:cut])
        start = cut
    if start < n:
        chunks.append(text[start:])
    return chunks


@dataclass(slots=True)  # one per paragraph, up to the paragraph limit
class _Block:
    text: str
    kind: str  # heading | body | front | back | header
    level: int | None = None
    gap_before: bool = False
    source: int = 0  # the source paragraph (see Paragraph.block): a run-in heading's and its body's are one
    article: str = ""  # the article (第二十三条) a legal text's paragraph belongs to
    parts: list[str] = field(default_factory=list)  # lines joined on, until close()
    length: int = -1  # of text and parts

    def __post_init__(self) -> None:
        self.length = len(self.text)

    @property
    def last(self) -> str:
        """The last line joined on (the text itself when none)."""
        return self.parts[-1] if self.parts else self.text

    def join(self, line: str) -> None:
        # Joined once at the end: ``text += line`` per line is quadratic on a long run of lines.
        self.parts.append(line)
        self.length += len(line)

    def close(self) -> None:
        if self.parts:
            self.text = self.text + "".join(self.parts)
            self.parts = []


def build_report(raw: RawText, max_chars: int = DEFAULT_MAX_CHARS, max_paragraphs: int | None = None) -> Report:
    """ReadError when the report would have more than ``max_paragraphs`` paragraphs."""
    fields = dict(raw.fields)
    lines = _after_web_header(_lines(raw.text), fields)
    limit = max_paragraphs if max_paragraphs is not None else float("inf")

    blocks: list[_Block] = []
    # Front matter runs until the first numbered heading or the first real prose paragraph.
    front: list[str] = []
    in_front = True
    legal = _LegalState()
    for line in lines:
        # Every block becomes at least one paragraph: too many blocks is too many paragraphs.
        if len(blocks) > limit:
            raise _too_many_paragraphs(raw.source, f"more than {limit:,}", limit)
        if legal.take(line, blocks, in_front):
            in_front = in_front and not legal.in_legal
            continue
        level = heading_level(line.text)
        # A heading marked up but not numbered (an HTML <h2>, a docx heading style) is a heading
        # at its markup's depth, once the document's title is behind it.
        marked = min(line.markdown_level, 4) if level is None and line.markdown_level and _plain_heading(line.text) \
            and (not in_front or any(_title_like(t) for t in front)) else None
        if in_front:
            if level is None and marked is None and not _looks_like_prose(line.text):
                if blocks and blocks[-1].kind == "front" and _title_continues(front[-1], line.text):
                    front[-1] += line.text
                    blocks[-1].join(line.text)
                else:
                    front.append(line.text)
                    blocks.append(_Block(line.text, "front"))
                continue
            in_front = False
        if marked is not None:
            blocks.append(_Block(line.text, "heading", marked, line.gap_before))
            continue
        if level is not None:
            split = _split_run_in(line)
            if split is not None:
                heading, body = split
                blocks.append(_Block(heading, "heading", level, line.gap_before, source=len(blocks) + 1))
                if body:
                    blocks.append(_Block(body, "body", source=len(blocks)))
                continue
        if is_back_matter_line(line.text):
            blocks.append(_Block(line.text, "back", gap_before=line.gap_before))
            continue
        prev = blocks[-1] if blocks else None
        if level is None and _attachment_title(line.text, prev):
            blocks.append(_Block(line.text, "heading", 0, line.gap_before))
            legal.in_legal = False  # an attached document numbers itself afresh
            continue
        if _joins_page_break(prev, line, level):
            prev.join(line.text)
            continue
        blocks.append(_Block(line.text, "body", gap_before=line.gap_before))
    if len(blocks) > limit:
        raise _too_many_paragraphs(raw.source, f"more than {limit:,}", limit)
    for block in blocks:
        block.close()

    meta = extract_meta(
        front,
        [b.text for b in blocks if b.kind == "back"],
        [b.text for b in blocks if b.kind in ("body", "heading")],
        fields,
    )
    meta = legal_meta(meta, front, legal.notes, legal.articles, [b.text for b in blocks if b.article])
    if raw.ocr_confidence is not None:
        meta.ocr, meta.ocr_confidence = True, raw.ocr_confidence

    # Source paragraphs numbered 1, 2, … in reading order; a run-in body shares its heading's.
    sources: dict[int, int] = {}
    numbers: dict[int, int] = {}
    for i, block in enumerate(blocks):
        key = block.source or -(i + 1)
        sources[id(block)] = numbers.setdefault(key, len(numbers) + 1)
    paragraphs: list[Paragraph] = []
    stack: list[tuple[int, str]] = []
    current: tuple[str, ...] = ()  # the section path of the stack
    for block in blocks:
        if block.kind == "heading":
            assert block.level is not None
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            stack.append((block.level, block.text))
            current = section = tuple(t for _, t in stack)
            paragraphs.append(Paragraph(len(paragraphs) + 1, "heading", section, block.text, sources[id(block)]))
            continue
        section = current if block.kind == "body" else ()
        if block.article:
            section = current + (block.article,)
        for chunk in _split_long(block.text, max_chars):
            paragraphs.append(Paragraph(len(paragraphs) + 1, "body", section, chunk, sources[id(block)]))
        if len(paragraphs) > limit:
            raise _too_many_paragraphs(raw.source, f"more than {limit:,}", limit)
    if raw.ocr_unsure:
        meta.ocr_unsure = [[k + 1, start, end] for k, start, end in
                           unsure_spans([p.text for p in paragraphs], list(raw.ocr_unsure))]
    return Report(source=raw.source, format=raw.format, meta=meta, paragraphs=paragraphs)


def _joins_page_break(prev: "_Block | None", line: _Line, level: int | None) -> bool:
    """A page break inside a sentence: the dump shows it as a blank line before the rest."""
    return (
        prev is not None
        and prev.kind == "body"
        and line.gap_before
        and _is_unfinished(prev.last)
        and (prev.length >= 30 or prev.last[-1] in "，,、")
        and level is None
    )


class _LegalState:
    """The legal numbering met so far: whether the text is in 第X条 form, the article open, the
    题注 lines and the 目录. ``take`` adds the blocks of the lines that are legal numbering."""

    def __init__(self) -> None:
        self.in_legal = False  # a 章 or 条 has been seen (since the last attached document's title)
        self.article = ""  # the open article's label
        self.article_source = 0
        self.articles = 0
        self.notes: list[str] = []  # the 题注, each over one or more lines
        self._note_open = False
        self._toc: str | None = None  # the 目录's first entry, while in the 目录
        self._in_toc = False

    def take(self, line: _Line, blocks: list[_Block], in_front: bool) -> bool:
        text = line.text
        if self._note_open:
            self.notes[-1] += text
            blocks[-1].join(text)
            self._note_open = not title_note_closed(text)
            return True
        if in_front and not self.in_legal and is_title_note_start(text):
            self.notes.append(text)
            blocks.append(_Block(text, "front"))
            self._note_open = not title_note_closed(text)
            return True
        level = legal_heading_level(text)
        if in_front and _TOC.match(text.replace(" ", "")):
            self._in_toc = True
            blocks.append(_Block(text, "front"))
            return True
        if self._in_toc:
            if level is not None and text.replace(" ", "") != self._toc:
                self._toc = self._toc or text.replace(" ", "")
                blocks.append(_Block(text, "front"))
                return True
            self._in_toc = False  # the text begins: its first chapter again, or anything else
        if level is not None:
            self.in_legal, self.article = True, ""
            blocks.append(_Block(_legal_heading_text(text), "heading", level, line.gap_before))
            return True
        label = article_start(text, self.in_legal)
        if label is not None:
            self.in_legal, self.article = True, label
            self.article_source = len(blocks) + 1
            self.articles += 1
            blocks.append(_Block(text, "body", gap_before=line.gap_before, source=self.article_source,
                                 article=label))
            return True
        if not self.article:
            return False
        prev = blocks[-1] if blocks else None
        if is_back_matter_line(text) or _ATTACHMENT.match(text) or line.markdown_level:
            self.article = ""  # the article ends: its closing lines, an attachment, a marked-up heading
            return False
        if _joins_page_break(prev, line, None):
            prev.join(text)
            return True
        # A 款, or a 项 (（一）…) or 目 (1.…) of the article: never a heading.
        blocks.append(_Block(text, "body", gap_before=line.gap_before, source=self.article_source,
                             article=self.article))
        return True


def _too_many_paragraphs(source: str, count: str, limit: int) -> ReadError:
    return ReadError(source, over_limit(f"report has too many paragraphs ({count})", f"{limit:,}", "max_report_paragraphs"))


def _looks_like_prose(text: str) -> bool:
    """A sentence of running text, as opposed to a red head, title, 文号 or 主送 line."""
    if any(ch in text for ch in "。！？"):
        return True
    return len(text) > HEADING_MAX_CHARS and not text.rstrip().endswith((":", "："))
