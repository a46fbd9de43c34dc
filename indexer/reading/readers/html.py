"""HTML article pages (county-government 信息公开 pages): the article title and body as text, the
信息公开 metadata table as fields, and none of the site around them (navigation, breadcrumbs,
share and print links, footers).
"""
from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction

from indexer.model import SOURCE_URL_FIELD, RawText, ReadError, ReadLimits, over_limit
from indexer.normalise import collapse_spaces, without_spaces
from indexer.reading.readers.plain import decode_bytes

# Never text, wherever they are.
_DROP_TAGS = {
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "button", "input", "select", "textarea", "option", "nav", "head", "link", "meta", "map",
}
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "div", "dl",
    "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "html", "li", "main", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul",
}
# Some CMSs wrap the whole page in one <form>; only small forms (search boxes) are dropped.
_SMALL_FORM_CJK = 100

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# id/class names content management systems give the article body.
_CONTENT_NAME = re.compile(
    r"zoom|trs_?editor|ueditor|ucap|content|article|detail|zhengwen|zwnr|neirong|^con$|^text$|"
    r"^nr$|^zw$|^view$|^main$|^body$|maintext|newstext|news_text|news-text|bodytext",
    re.IGNORECASE,
)
# Names only ever given to the article body itself, never to a wrapper around it.
_BODY_NAME = re.compile(
    r"^(?:zoom|fontzoom|trs_?editor|.*ueditor.*|ucap-content|zhengwen|zwnr|neirong|"
    r"(?:article|news|info|pages?|detail|wz|xl)[-_]?(?:con|content|text|body|zw)|bodytext|maintext)$",
    re.IGNORECASE,
)
_BOILERPLATE_NAME = re.compile(
    r"^(?:share|bdshare.*|.*-share|share-.*|print|breadcrumbs?|crumbs?|position|location|"
    r"footer|foot|copyright|banquan|toolbar|tools|sidebar|qrcode|erweima|ewm|pager|"
    r"prev-next|prevnext|related)$",
    re.IGNORECASE,
)
_TITLE_NAME = re.compile(r"title|biaoti|^bt$|headline", re.IGNORECASE)

_BOILERPLATE_SHORT = re.compile(
    r"打印本页|打印此页|打印文章|关闭窗口|关闭本页|分享到|【打印】|【关闭】|\[打印\]|\[关闭\]|"
    r"字号[:：]?[大中小]|字体[:：]?[大中小]|【大中小】|扫一扫|返回顶部|收藏本页|加入收藏|上一篇|下一篇|"
    r"浏览次数|访问量|阅读次数|浏览[:：]|点击数|保护视力色"
)
_BOILERPLATE_FOOTER = re.compile(r"版权所有|主办单位|承办单位|网站标识码|ICP备|公网安备|技术支持[:：]|网站地图|联系我们")
_BREADCRUMB = re.compile(r"^(?:当前位置|您现在的位置|您当前的位置|您的位置|所在位置|现在位置|当前页面)[:：]")

KNOWN_LABELS = frozenset(
    """索引号 信息索引号 索取号 发文字号 文号 发布机构 发文机关 发文单位 发布单位 成文机关 主题分类
    主题词 公文种类 体裁分类 信息分类 组配分类 服务对象 公文时效 时效性 有效性 效力状态 发布日期
    发布时间 发文日期 成文日期 生成日期 公开日期 印发日期 实施日期 公开方式 公开范围 公开形式
    公开时限 信息来源 来源 标题 名称 文件名称 信息名称 关键词 统一编号 所属机构 责任部门 作者
    撰稿 编辑 责任编辑""".split()
)
_SPACE = "[ \t\n\r\xa0\u3000]"
# "索引号：", padded "索  引  号：" (one character between each pad); preceded by nothing,
# whitespace or a separator, so "办公室 公文时效：" yields only 公文时效.
_LABEL = re.compile(
    rf"(?<![^\s|｜丨/【\[])"
    rf"(?P<label>[\u4e00-\u9fff](?:{_SPACE}+[\u4e00-\u9fff])+(?={_SPACE}*[:：])|[\u4e00-\u9fff]{{2,8}})"
    rf"{_SPACE}*[:：]"
)
_WHITESPACE = re.compile(rf"{_SPACE}+")
_TITLE_SEPARATOR = re.compile(r"\s*(?:_|\||｜|——|--|-\s)\s*")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-.]+)""", re.IGNORECASE)

_NOT_TEXT = (Comment, Declaration, Doctype, ProcessingInstruction, CData)


def parse_html(data: bytes, source: str, suffix: str = ".html", limits: ReadLimits = ReadLimits()) -> RawText:
    text = decode_bytes(data, source, declared=_declared_charset(data))
    _check_tag_count(text, source, limits)
    soup = BeautifulSoup(text, "lxml")
    title_hint = _page_title(soup)
    article_title = _meta_content(soup, "ArticleTitle")
    canonical = _canonical_url(soup)
    _drop_non_text(soup)

    root = soup.body or soup
    fields, metadata_owners = _metadata(_lines(root))
    body = _body_container(root)
    title = article_title or _title(root, body, title_hint)

    paragraphs: list[str] = []
    levels: list[int] = []  # the <h1>-<h6> level of each paragraph, 0 for the others
    if body is not None:
        for line, owner in _lines(body, skip=lambda tag: id(tag) in metadata_owners or _is_boilerplate(tag)):
            if not _is_boilerplate_text(line) and not _metadata_pairs(line):
                paragraphs.append(line)
                levels.append(_heading_level(owner))
    if title:
        key = without_spaces(title)
        # The body often repeats the title at its top, on one line or two.
        if paragraphs and without_spaces(paragraphs[0]) == key:
            del paragraphs[0], levels[0]
        elif len(paragraphs) > 1 and without_spaces(paragraphs[0] + paragraphs[1]) == key:
            del paragraphs[:2], levels[:2]
        paragraphs.insert(0, title)
        levels.insert(0, 0)
        fields.setdefault("标题", title)
    # A heading of the article body is marked as the docx reader marks heading styles (a hint to
    # the structure stage, which still takes levels from the numbering where there is one).
    paragraphs = [f"{'#' * level} {text}" if level else text for text, level in zip(paragraphs, levels)]
    if canonical:
        fields[SOURCE_URL_FIELD] = canonical
    if not paragraphs:
        raise ReadError(source, "HTML page has no article text")
    return RawText(source=source, text="\n\n".join(paragraphs), format="html", fields=fields)


# BeautifulSoup builds some 600 bytes of Python objects per element and text node (a 9.5 MB page
# of 500,000 short paragraphs took 630 MB and 27 s), so the elements are bounded before parsing:
# this many per paragraph the report may have is far more than any article page uses.
TAGS_PER_PARAGRAPH = 8


def _check_tag_count(text: str, source: str, limits: ReadLimits) -> None:
    # Opening tags (and comments, doctypes), counted in C without parsing.
    tags = text.count("<") - text.count("</")
    limit = TAGS_PER_PARAGRAPH * limits.max_paragraphs
    if tags > limit:
        raise ReadError(source, over_limit(
            f"HTML page has too many tags ({tags:,})",
            f"{limit:,} ({TAGS_PER_PARAGRAPH} a paragraph of the paragraph limit)", "max_report_paragraphs"))


def _declared_charset(data: bytes) -> str | None:
    head = data[:4096]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return match.group(1).decode("ascii") if match else None


def _meta_content(soup: BeautifulSoup, name: str) -> str:
    tag = soup.find("meta", attrs={"name": re.compile(f"^{name}$", re.IGNORECASE)})
    content = tag.get("content", "") if isinstance(tag, Tag) else ""
    return _clean(content) if isinstance(content, str) else ""


def _heading_level(block: Tag) -> int:
    """1-6 for a line of an <h1>-<h6> (or of a block inside one), else 0."""
    for tag in (block, *block.parents):
        if isinstance(tag, Tag) and re.fullmatch(r"h[1-6]", tag.name or ""):
            return int(tag.name[1])
        if isinstance(tag, Tag) and tag.name in ("body", "article", "main"):
            break
    return 0


def _canonical_url(soup: BeautifulSoup) -> str:
    """The address the page says it lives at: <link rel="canonical">, else og:url; http(s) only."""
    link = soup.find("link", attrs={"rel": lambda v: v and "canonical" in (v if isinstance(v, list) else v.split())})
    url = link.get("href", "") if isinstance(link, Tag) else ""
    if not url:
        tag = soup.find("meta", attrs={"property": "og:url"})
        url = tag.get("content", "") if isinstance(tag, Tag) else ""
    url = _clean(url) if isinstance(url, str) else ""
    return url if re.match(r"https?://[^\s<>\"]+$", url, re.IGNORECASE) else ""


def _page_title(soup: BeautifulSoup) -> str:
    tag = soup.find("title")
    return _clean(tag.get_text()) if tag else ""


def _drop_non_text(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, _NOT_TEXT)):
        comment.extract()
    for form in soup.find_all("form"):
        if _cjk_count(form.get_text()) < _SMALL_FORM_CJK:
            form.decompose()


def _cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def _clean(text: str) -> str:
    """Collapse whitespace like a browser; drop it where only source line-wrapping put it."""
    text = text.replace("\u200b", "").replace("\ufeff", "")
    return collapse_spaces(text, _WHITESPACE, _kept_in_html)


def _kept_in_html(before: str, run: str, after: str) -> bool:
    # Like a browser, one space stays beside any ASCII character, and wherever the run holds a
    # no-break or ideographic space (written on purpose); only a plain line wrap between two
    # Chinese characters disappears.
    return before.isascii() or after.isascii() or bool(run.strip(" \t\r\n"))


def _names(tag: Tag) -> list[str]:
    names = list(tag.get("class") or [])
    if tag.get("id"):
        names.append(str(tag["id"]))
    return names


def _is_boilerplate(tag: Tag) -> bool:
    return tag.name in ("header", "footer", "aside") or any(_BOILERPLATE_NAME.match(n) for n in _names(tag))


def _is_boilerplate_text(line: str) -> bool:
    compact = without_spaces(line)
    return bool(
        _BREADCRUMB.match(compact)
        or (len(compact) <= 60 and _BOILERPLATE_SHORT.search(compact))
        or (len(compact) <= 200 and _BOILERPLATE_FOOTER.search(compact))
    )


_END = object()


def _lines(root: Tag, skip=None) -> list[tuple[str, Tag]]:
    """The text of ``root`` as lines broken at block elements and <br>, each with its block.

    Iterative, because real pages nest deeper than Python's recursion limit allows.
    """
    lines: list[tuple[str, Tag]] = []
    parts: list[str] = []
    blocks: list[Tag] = [root]

    def flush() -> None:
        text = _clean("".join(parts))
        parts.clear()
        if text:
            lines.append((text, blocks[-1]))

    stack: list = list(reversed(root.contents))
    while stack:
        node = stack.pop()
        if node is _END:
            flush()
            blocks.pop()
        elif isinstance(node, NavigableString):
            if not isinstance(node, _NOT_TEXT):
                parts.append(str(node))
        elif isinstance(node, Tag):
            if skip is not None and skip(node):
                continue
            if node.name == "br":
                flush()
            elif node.name in _BLOCK_TAGS:
                flush()
                blocks.append(node)
                stack.append(_END)
                stack.extend(reversed(node.contents))
            else:
                stack.extend(reversed(node.contents))
    flush()
    return lines


def _metadata_pairs(line: str) -> list[tuple[str, str]]:
    """Label/value pairs when the whole line is 信息公开 metadata, else []."""
    stripped = line.strip(" \t\xa0\u3000【[")
    matches = list(_LABEL.finditer(stripped))
    if not matches or matches[0].start() != 0:
        return []
    pairs = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(stripped)
        value = _clean(stripped[match.end():end]).strip(" |｜丨/】]")
        pairs.append((without_spaces(match.group("label")), value))
    if not any(label in KNOWN_LABELS for label, _ in pairs):
        return []
    return pairs


def _metadata(lines: list[tuple[str, Tag]]) -> tuple[dict[str, str], set[int]]:
    """Fields from the page's metadata lines, and the ids of the elements that held them."""
    fields: dict[str, str] = {}
    owners: set[int] = set()

    def owns_only(owner: Tag, text: str) -> bool:
        return without_spaces(owner.get_text()) == without_spaces(text)

    def takes_value(index: int) -> str | None:
        # A label cell with its value in the next cell (<td>索引号：</td><td>...</td>).
        if index + 1 >= len(lines):
            return None
        text, owner = lines[index + 1]
        if _metadata_pairs(text) or without_spaces(text) in KNOWN_LABELS or len(without_spaces(text)) > 100:
            return None
        if owns_only(owner, text):
            owners.add(id(owner))
        return text

    consumed = -1
    for index, (text, owner) in enumerate(lines):
        if index <= consumed:
            continue
        pairs = _metadata_pairs(text)
        if not pairs and without_spaces(text) in KNOWN_LABELS:
            pairs = [(without_spaces(text), "")]
        if not pairs:
            continue
        if owns_only(owner, text):
            owners.add(id(owner))
        if not pairs[-1][1]:
            value = takes_value(index)
            if value is not None:
                pairs[-1] = (pairs[-1][0], value)
                consumed = index + 1
        for label, value in pairs:
            if value and label not in fields:
                fields[label] = value
    return fields, owners


def _cjk_counts(root: Tag) -> dict[int, int]:
    """CJK characters under every element, in one pass over the text nodes."""
    counts: dict[int, int] = {}
    for string in root.find_all(string=True):
        n = _cjk_count(string)
        if not n:
            continue
        parent = string.parent
        while parent is not None:
            counts[id(parent)] = counts.get(id(parent), 0) + n
            if parent is root:
                break
            parent = parent.parent
    return counts


def _body_container(root: Tag) -> Tag | None:
    counts = _cjk_counts(root)
    candidates = [
        tag
        for tag in root.find_all(True)
        if tag.name not in ("a", "span", "font", "b", "strong", "em", "i", "u", "h1", "h2", "h3")
        and counts.get(id(tag), 0) >= 20
        and not _is_boilerplate(tag)
        and any(_CONTENT_NAME.search(name) for name in _names(tag))
    ]
    exact = [tag for tag in candidates if any(_BODY_NAME.match(name) for name in _names(tag))]
    if exact:
        return max(exact, key=lambda tag: (counts[id(tag)], len(list(tag.parents))))
    if candidates:
        best = max(counts[id(tag)] for tag in candidates)
        # The innermost container still holding most of the text: wrappers named "content"
        # also hold the title, the metadata table and the share links.
        strong = [tag for tag in candidates if counts[id(tag)] >= 0.6 * best]
        return max(strong, key=lambda tag: len(list(tag.parents)))
    return _densest_block(root)


_INLINE_FOR_DENSITY = {"p", "span", "font", "b", "strong", "em", "i", "u", "br", "center", "h1", "h2",
                       "h3", "h4", "h5", "h6", "sup", "sub", "label", "small", "big"}


def _densest_block(root: Tag) -> Tag | None:
    """The element whose own paragraphs hold the most Chinese text (links do not count)."""
    scores: dict[int, int] = {}
    tags: dict[int, Tag] = {}
    for string in root.find_all(string=True):
        n = _cjk_count(string)
        if not n or string.find_parent("a") is not None:
            continue
        block = string.parent
        while block is not root and block.name in _INLINE_FOR_DENSITY:
            block = block.parent
        scores[id(block)] = scores.get(id(block), 0) + n
        tags[id(block)] = block
    if not scores:
        return None
    return tags[max(scores, key=scores.__getitem__)]


def _title(root: Tag, body: Tag | None, hint: str) -> str:
    """The article title: a heading-like element before the body, checked against <title>."""
    hint_key = without_spaces(hint)
    candidates: list[str] = []
    around_body = {id(tag) for tag in body.parents} if body is not None else set()
    for tag in root.find_all(True):
        if tag is body:
            break  # document order: everything after this is inside or after the body
        if id(tag) in around_body:
            continue
        heading = tag.name in ("h1", "h2", "h3") or any(_TITLE_NAME.search(n) for n in _names(tag))
        if not heading or _is_boilerplate(tag):
            continue
        text = _clean(tag.get_text(" "))
        if 4 <= _cjk_count(text) and len(text) <= 200 and not _is_boilerplate_text(text):
            candidates.append(text)
    for text in reversed(candidates):
        if hint_key and without_spaces(text) in hint_key:
            return text
    if candidates:
        return candidates[-1]
    if hint:
        parts = [p for p in _TITLE_SEPARATOR.split(hint) if p]
        return max(parts, key=_cjk_count) if parts else hint
    return ""
