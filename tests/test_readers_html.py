"""HTML reader: a realistic county-government 信息公开 article page, UTF-8 and GBK."""
from __future__ import annotations

import pytest

from indexer.model import ReadError
from indexer.reading.readers import read_file


TITLE = "互助土族自治县人民政府办公室关于印发互助县2024年法治政府建设工作要点的通知"
BODY = [
    "互政办〔2024〕18号",
    "各乡镇人民政府、高寨街道办事处，县政府各部门，农业示范园区管委会、土族故土园景区管委会，绿色产业园管委会综合部，各科级事业单位：",
    "《互助县2024年法治政府建设工作要点》已经县政府研究同意，现印发给你们，请结合工作实际，抓好贯彻落实。",
    "一、进一步加强党的领导，加快法治政府建设率先突破",
    "1.坚持党对法治政府建设的集中统一领导。加强党对法治政府建设的集中统一领导、统一部署，始终坚持以习近平法治思想武装头脑、指导实践、推动工作，自觉把坚持党的集中统一领导贯穿于法治政府建设全过程和各方面。",
    "2.深入学习贯彻习近平法治思想。把习近平法治思想作为党委（党组）理论学习中心组学习重点内容，列入党校主体班次必修课程。",
    "互助土族自治县人民政府办公室",
    "2024年4月22日",
]


def county_page(charset: str = "utf-8", *, nbsp_labels: bool = True) -> str:
    pad = "&nbsp;&nbsp;" if nbsp_labels else ""
    body = "\n".join(
        f'<p style="text-indent:2em;">&nbsp;&nbsp;&nbsp;&nbsp;{p}</p>' if i not in (6, 7) else f'<p style="text-align:right">{p}</p>'
        for i, p in enumerate(BODY)
    )
    return f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<title>{TITLE}_互助县人民政府</title>
<meta name="keywords" content="互助县人民政府" />
<link rel="stylesheet" href="/css/style.css">
<style>.zoom p {{ line-height: 2em; }} body {{ font-family: 宋体; }}</style>
<script type="text/javascript">var siteName = "互助县人民政府"; document.write("欢迎访问");</script>
</head>
<body>
<div class="header">
  <div class="logo"><img src="/images/logo.png" alt="互助土族自治县人民政府"></div>
  <div class="top-links">今天是：<span id="today"></span> <a href="#">设为首页</a> <a href="#">加入收藏</a></div>
  <form action="/search" method="get"><input type="text" name="q" value="请输入关键字"><button>搜索</button></form>
</div>
<div class="nav">
  <ul>
    <li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li><li><a href="/hdjl/">互动交流</a></li>
    <li><a href="/zwfw/">政务服务</a></li><li><a href="/zjhz/">走进互助</a></li>
  </ul>
</div>
<div class="main">
  <div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="#">法治政府建设</a></div>
  <div class="xxgk-table">
    <table width="100%" border="0" cellspacing="0" cellpadding="0">
      <tr>
        <td class="label">索{pad}引{pad}号：</td><td>hzxrmzfbgs/2024-00018</td>
        <td class="label">发文字号：</td><td>互政办〔2024〕18号</td>
      </tr>
      <tr>
        <td class="label">发布机构：</td><td>互助县人民政府办公室</td>
        <td class="label">公文时效：</td><td>有效</td>
      </tr>
      <tr>
        <td class="label">主题分类：</td><td>其他</td>
        <td class="label">发布日期：</td><td>2024-04-24</td>
      </tr>
    </table>
  </div>
  <div class="article">
    <h1 class="article-title">{TITLE}</h1>
    <div class="article-info">来源：县政府办&nbsp;&nbsp;&nbsp;发布时间：2024-04-24 10:32&nbsp;&nbsp;浏览次数：<span id="hits">1288</span></div>
    <div id="zoom" class="TRS_Editor">
{body}
    </div>
    <div class="share">分享到：<a href="#">微信</a><a href="#">微博</a></div>
    <div class="article-tools"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
  </div>
</div>
<div class="footer">
  <p>版权所有：互助土族自治县人民政府&nbsp;&nbsp;主办单位：互助县人民政府办公室</p>
  <p>网站标识码：6321260001&nbsp;&nbsp;<a href="https://beian.miit.gov.cn">青ICP备05000512号-1</a>&nbsp;&nbsp;青公网安备 63212602000101号</p>
</div>
<script>window.onload = function() {{ console.log("统计代码"); }};</script>
</body>
</html>
"""


EXPECTED_FIELDS = {
    "索引号": "hzxrmzfbgs/2024-00018",
    "发文字号": "互政办〔2024〕18号",
    "发布机构": "互助县人民政府办公室",
    "公文时效": "有效",
    "主题分类": "其他",
    "发布日期": "2024-04-24",
}


def _check(raw) -> None:
    assert raw.format == "html"
    assert raw.text.split("\n\n") == [TITLE, *BODY]
    for label, value in EXPECTED_FIELDS.items():
        assert raw.fields[label] == value
    assert raw.fields["标题"] == TITLE
    for junk in ("当前位置", "首页", "政务公开", "打印", "关闭窗口", "分享到", "版权所有", "ICP备", "网站标识码",
                 "siteName", "统计代码", "搜索", "索引号", "发布机构", "浏览次数", "\xa0", "\u3000"):
        assert junk not in raw.text, junk


def test_county_page_utf8(tmp_path):
    path = tmp_path / "article.html"
    path.write_text(county_page(), encoding="utf-8")
    raw = read_file(path)
    _check(raw)
    assert raw.source == str(path)
    assert "\r" not in raw.text


def test_county_page_gbk(tmp_path):
    path = tmp_path / "article.htm"
    path.write_bytes(county_page("gb2312").encode("gbk"))
    _check(read_file(path, source="county/article.htm"))


def test_gbk_page_without_declared_charset(tmp_path):
    page = county_page().replace('<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />', "")
    path = tmp_path / "article.html"
    path.write_bytes(page.encode("gb18030"))
    _check(read_file(path))


def test_metadata_as_label_value_list_and_info_line(tmp_path):
    page = f"""<html><head><meta charset="utf-8"><title>{TITLE}</title></head><body>
<div class="crumbs">您现在的位置：首页 &gt; 信息公开</div>
<ul class="xxgk-info">
  <li><span>索&nbsp;引&nbsp;号:</span>hzxrmzfbgs/2024-00018</li>
  <li><span>发文字号:</span>互政办〔2024〕18号</li>
  <li><span>发布机构：</span>互助县人民政府办公室</li>
  <li><span>主题分类:</span>其他</li>
  <li><span>发布日期：</span>2024-04-24</li>
</ul>
<div class="content">
  <div class="title"><h2>{TITLE}</h2></div>
  <div class="con">
    <p>　　{BODY[2]}</p>
    <div>　　{BODY[4]}<br>　　{BODY[5]}</div>
  </div>
</div>
<div class="foot">Copyright 版权所有 互助县人民政府</div>
</body></html>"""
    path = tmp_path / "list.html"
    path.write_text(page, encoding="utf-8")
    raw = read_file(path)
    assert raw.text.split("\n\n") == [TITLE, BODY[2], BODY[4], BODY[5]]
    assert {k: raw.fields[k] for k in ("索引号", "发文字号", "发布机构", "主题分类", "发布日期")} == {
        "索引号": "hzxrmzfbgs/2024-00018",
        "发文字号": "互政办〔2024〕18号",
        "发布机构": "互助县人民政府办公室",
        "主题分类": "其他",
        "发布日期": "2024-04-24",
    }


def test_body_found_by_chinese_text_when_no_known_container(tmp_path):
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY[2:6])
    page = f"""<html><head><meta charset="utf-8"><title>{TITLE}_互助县人民政府</title></head><body>
<table><tr><td><a href="/">首页</a> | <a href="/a">机构概况</a> | <a href="/b">政务公开</a></td></tr></table>
<table><tr><td class="x1"><b>{TITLE}</b></td></tr><tr><td class="x2">{paragraphs}</td></tr></table>
<div class="x3">主办单位：互助县人民政府办公室 网站标识码：6321260001</div>
</body></html>"""
    path = tmp_path / "plain.html"
    path.write_text(page, encoding="utf-8")
    raw = read_file(path)
    assert raw.text.split("\n\n") == [TITLE, *BODY[2:6]]


def test_page_without_text_is_an_error(tmp_path):
    path = tmp_path / "empty.html"
    path.write_text("<html><head><title></title><script>var a = 1;</script></head><body><div></div></body></html>", encoding="utf-8")
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "HTML page has no article text"


def test_empty_html_file(tmp_path):
    path = tmp_path / "empty.htm"
    path.write_bytes(b"")
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "file is empty"


def test_short_body_in_named_container_beats_wrappers(tmp_path):
    # The metadata table and title outweigh this short notice; the body's own name decides.
    page = county_page().replace("\n".join(
        f'<p style="text-indent:2em;">&nbsp;&nbsp;&nbsp;&nbsp;{p}</p>' if i not in (6, 7) else f'<p style="text-align:right">{p}</p>'
        for i, p in enumerate(BODY)
    ), f"<p>{BODY[2]}</p>")
    path = tmp_path / "short.html"
    path.write_text(page, encoding="utf-8")
    raw = read_file(path)
    assert raw.text.split("\n\n") == [TITLE, BODY[2]]
    assert raw.fields["索引号"] == "hzxrmzfbgs/2024-00018"


def test_headings_of_the_article_body_are_headings(tmp_path):
    """Issue 15: <h1>-<h6> inside the article were read as body text."""
    from indexer.reading.report import read_report

    page = tmp_path / "article.html"
    page.write_text(
        "<html><head><title>互助县2021年度法治政府建设工作情况报告</title></head><body><div class='article'>"
        "<h1>互助县2021年度法治政府建设工作情况报告</h1>"
        "<h2>主要工作措施</h2><p>" + "县政府坚持依法行政，全面推进法治政府建设。" * 3 + "</p>"
        "<h3>强化组织保障</h3><p>" + "成立领导小组，定期研究法治政府建设工作。" * 3 + "</p>"
        "<h2>存在的问题</h2><p>" + "法治宣传教育的针对性还需加强。" * 3 + "</p></div></body></html>",
        encoding="utf-8")
    raw = read_file(page)
    assert raw.text.split("\n\n")[:3] == ["互助县2021年度法治政府建设工作情况报告", "## 主要工作措施",
                                          "县政府坚持依法行政，全面推进法治政府建设。" * 3]
    report = read_report(page)
    kinds = [(p.kind, p.text[:6]) for p in report.paragraphs]
    assert ("heading", "主要工作措施") in kinds and ("heading", "强化组织保障") in kinds
    body = next(p for p in report.paragraphs if p.text.startswith("成立领导小组"))
    assert list(body.section) == ["主要工作措施", "强化组织保障"]
    problem = next(p for p in report.paragraphs if p.text.startswith("法治宣传"))
    assert list(problem.section) == ["存在的问题"]
