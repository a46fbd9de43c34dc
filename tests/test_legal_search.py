"""Laws in the index: article filters (article:, 条:), the article as one paragraph for AND, article
citations resolved to the article's paragraphs (short names, versions, lists, ranges, 本法第N条),
cites: of an article, and article permalinks that hold across amendments that do not change them."""
from __future__ import annotations

import shutil

import pytest

from indexer.indexing.update import update_index
from indexer.search.engine import SearchEngine
from indexer.search.query import QueryError, article_key, parse_query
from tests.law_factory import FUYI_ARTICLES, REGULATION_TEXT, SUSONG_ARTICLES, fuyi_text, seeds_with_laws


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("laws-index")
    corpus = seeds_with_laws(base)
    index = base / "index"
    summary = update_index([corpus], index)
    assert not summary.skipped
    return corpus, index


@pytest.fixture(scope="module")
def eng(built):
    e = SearchEngine(built[1])
    yield e
    e.close()


FUYI, SUSONG, REG, LOCAL, CITING, NOTICE = (f"laws~{n}" for n in ("fuyi", "susong", "regulation", "local", "citing",
                                                                  "notice"))


def texts(eng, q):
    return [h.text for h in eng.search(q, per_page=100).hits]


@pytest.mark.parametrize("typed, key", [
    ("第二十三条", "23"), ("23", "23"), ("二十三", "23"), ("第23条", "23"), ("第十条之一", "10-1"), ("10-1", "10-1"),
    ("第一百零五条", "105"), ("２３", "23"),
])
def test_article_keys_as_typed(typed, key):
    assert article_key(typed) == key


def test_article_filter_holds_every_clause_of_the_article(eng):
    want = ["第二十三条 " + FUYI_ARTICLES[23][0]] + FUYI_ARTICLES[23][1:]
    assert texts(eng, "article:第二十三条 title:行政复议法") == want
    assert texts(eng, "条:23 title:行政复议法") == want
    assert texts(eng, "条：二十三 report:" + FUYI) == want
    # article:23 alone finds article 23 of every legal text in the corpus, and nothing of reports.
    assert {h.report.id for h in eng.search("article:23", per_page=100).hits} == {FUYI}
    assert [h.text for h in eng.search("条:240-1", per_page=100).hits][0].startswith("第二百四十条之一")
    assert eng.search("条:2 title:行政复议法 前款").hits[0].text.startswith("前款所称行政行为")


def test_a_bad_article_value_is_named():
    with pytest.raises(QueryError) as err:
        parse_query("article:总则")
    assert "article:总则" in err.value.message


def test_and_holds_over_the_clauses_of_one_article(eng):
    # 款1 holds 先向行政复议机关, 款4 holds 告知公民: one article, so one source paragraph.
    hits = texts(eng, "申请人应当先向行政复议机关申请行政复议 对前款规定的情形")
    assert sorted(hits) == sorted(["第二十三条 " + FUYI_ARTICLES[23][0], FUYI_ARTICLES[23][3]])
    # Terms of two articles never make an AND.
    assert texts(eng, "对当场作出的行政处罚决定不服 对下一级人民政府作出的行政行为不服") == []


def test_article_citations_link_to_the_article(eng):
    citing = [p for p in eng.report(CITING).paragraphs if "第二十三条" in p.text][0]
    refs = [r for r in eng.references_in(citing.text, CITING) if r.kind == "article"]
    assert [(r.report_id, r.article) for r in refs] == [(FUYI, "23")]
    article = eng.paragraph(refs[0].article_id)
    assert article.text.split("\n") == ["第二十三条 " + FUYI_ARTICLES[23][0]] + FUYI_ARTICLES[23][1:]
    assert article.section[-1] == "第二十三条" and article.report.id == FUYI

    # The full name, with the 款: 《中华人民共和国行政诉讼法》第三条第三款 is article 3 of the law.
    p = [p for p in eng.report(CITING).paragraphs if "第三条第三款" in p.text][0]
    (ref,) = [r for r in eng.references_in(p.text, CITING) if r.kind == "article"]
    assert (ref.report_id, ref.article) == (SUSONG, "3")
    assert eng.paragraph(ref.article_id).text.split("\n")[2] == SUSONG_ARTICLES[3][2]

    # A range, and a list under one title.
    p = [p for p in eng.report(CITING).paragraphs if "至第十二条" in p.text][0]
    assert sorted(r.article for r in eng.references_in(p.text, CITING) if r.kind == "article") == ["11", "12"]
    p = [p for p in eng.report(CITING).paragraphs if "第五条、第六条和第七条" in p.text][0]
    refs = [r for r in eng.references_in(p.text, CITING) if r.kind == "article"]
    assert [(r.report_id, r.article) for r in refs] == [(REG, "5"), (REG, "6"), (REG, "7")]
    assert all(r.article_id for r in refs)


def test_a_law_citing_its_own_articles(eng):
    p = [p for p in eng.report(REG).paragraphs if "本条例第五条" in p.text][0]
    refs = [r for r in eng.references_in(p.text, REG) if r.kind == "article"]
    assert [(r.report_id, r.article) for r in refs] == [(REG, "5"), (REG, "6")]
    assert eng.paragraph(refs[0].article_id).text.startswith("第五条 国家加快建立")


def test_cites_an_article_under_any_name(eng):
    assert texts(eng, "cites:行政复议法第二十三条") == ["严格落实《行政复议法》第二十三条，行政复议前置案件全部告知到位。"]
    assert texts(eng, "cites:中华人民共和国行政复议法第二十三条") == texts(eng, "cites:行政复议法第二十三条")
    assert texts(eng, "cites:《行政诉讼法》第3条") == [
        "依照《中华人民共和国行政诉讼法》第三条第三款，行政机关负责人出庭应诉率达到100%。"]
    assert len(texts(eng, "cites:行政复议法第十二条")) == 2  # the report's range and the notice's article
    assert texts(eng, "cites:行政复议法第九十条") == []
    # The law itself: every paragraph citing it by its short name or its full one.
    cited = texts(eng, "cites:行政复议法")
    assert len(cited) == 4 and all("行政复议法》" in t for t in cited)  # a seed report's too


def test_the_law_page_counts_citations_per_article(eng):
    cited = eng.citations().articles_cited(FUYI)
    assert sorted(cited) == ["11", "12", "23"]
    assert sum(e.count for e in cited["12"]) == 2 and {r for e in cited["12"] for r in e.reports} == {CITING, NOTICE}
    # 本条例第五条 inside the regulation is linked, never counted as a citation of it.
    assert sorted(eng.citations().articles_cited(REG)) == ["5", "6", "7"]
    assert {r for e in eng.citations().articles_cited(REG)["5"] for r in e.reports} == {CITING}


def test_a_short_name_shared_by_two_laws_links_only_the_exact_title(eng):
    p = [p for p in eng.report(LOCAL).paragraphs if "国务院《优化营商环境条例》" in p.text][0]
    (ref,) = [r for r in eng.references_in(p.text, LOCAL) if r.kind == "title"]
    assert ref.report_id == REG


def test_article_permalinks_hold_across_amendments_that_do_not_change_them(built, tmp_path):
    corpus, index = built
    work = tmp_path / "corpus"
    shutil.copytree(corpus, work)
    ix = tmp_path / "index"
    update_index([work], ix)
    before = SearchEngine(ix)
    a23, a24, a1 = (before.article(FUYI, k) for k in ("23", "24", "1"))
    before.close()
    # Amend article 23's last 款: the other articles keep their links, article 23 gets a new one.
    amended = fuyi_text().replace(FUYI_ARTICLES[23][3], "对前款规定的情形，行政机关应当书面告知先申请行政复议。")
    (work / "laws" / "fuyi.txt").write_text(amended, encoding="utf-8")
    update_index([work], ix)
    after = SearchEngine(ix)
    try:
        assert after.paragraph(a24.id).text == a24.text  # unchanged: its link holds
        assert after.paragraph(a1.id).text == a1.text
        new23 = after.article(FUYI, "23")
        assert new23.id != a23.id and "书面告知" in new23.text
        # The old link: 410 with the old text, the article as it now reads beside it.
        history = after.paragraph_history(a23.id)
        assert history is not None and history.text == a23.text
        assert history.closest[0][0].id == new23.id and history.closest[0][0].text == new23.text
        # An unchanged 款 of the amended article keeps its own paragraph link.
        assert after.paragraph(a23.paragraphs[0].id).text == a23.paragraphs[0].text
    finally:
        after.close()


def test_reports_are_untouched(eng):
    # The seed reports have no articles; their hits are as before.
    assert eng.articles("000_0d8bbccb02c01f0a") == []
    assert eng.search("出庭应诉率").total >= 1


def test_a_regulation_reads_as_the_factory_wrote_it(eng):
    body = [p.text for p in eng.report(REG).paragraphs]
    assert body[0] == "优化营商环境条例"
    assert [t for t in body if "条" in t[:6]] == [line.replace("　", " ") for line in REGULATION_TEXT.splitlines()
                                                 if "条" in line[:6]]
