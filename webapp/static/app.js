/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";

  function isTyping(el) {
    if (modalOpen()) return true;  // the cite dialog is open: no page shortcuts
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  // "/" focuses the query box.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "/" || ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(document.activeElement)) return;
    var box = document.getElementById("q");
    if (box) {
      ev.preventDefault();
      box.focus();
      box.select();
    }
  });

  // 引用: every hit and paragraph links to /cite/<pid> (all formats, works without this file).
  // Here a click opens a small dialog instead: pick a format, copy it, see exactly what was copied.
  var citeDialog = null;

  function make(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  function modalOpen() {
    return !!(citeDialog && citeDialog.el.open);
  }

  function writeClipboard(text) {
    if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () { return false; });
    }
    return Promise.resolve(false);
  }

  // The text of `field` (a <textarea>, or any element) selected for a manual Ctrl+C.
  function selectForManualCopy(field) {
    field.focus();
    if (field.select) {
      field.select();
    } else {
      var range = document.createRange();
      range.selectNodeContents(field);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
  }

  function manualCopyMessage() {
    return "浏览器不允许网页写入剪贴板：文字已选中，请按 Ctrl+C（Mac 上按 ⌘C）复制。";
  }

  function CiteDialog() {
    var d = this;
    d.cache = {};
    d.opener = null;
    d.data = null;
    d.format = "gbt7714";
    d.el = make("dialog", { "class": "cite-pop", "aria-labelledby": "cite-pop-title", "aria-describedby": "cite-pop-src" });
    var head = make("div", { "class": "cite-pop-head" });
    head.appendChild(make("h2", { id: "cite-pop-title" }, "引用这一段"));
    d.closeBtn = make("button", { type: "button", "class": "cite-pop-close", "aria-label": "关闭", title: "关闭（Esc）" }, "×");
    head.appendChild(d.closeBtn);
    d.src = make("p", { id: "cite-pop-src", "class": "cite-pop-src" });
    var row = make("div", { "class": "cite-pop-row" });
    row.appendChild(make("label", { "for": "cite-pop-format" }, "格式"));
    d.select = make("select", { id: "cite-pop-format" });
    row.appendChild(d.select);
    d.copyBtn = make("button", { type: "button", "class": "cite-pop-copy" }, "复制");
    row.appendChild(d.copyBtn);
    d.text = make("textarea", { id: "cite-pop-text", "class": "cite-pop-text", rows: "5", readonly: "",
                                "aria-label": "所选格式的引用文字", spellcheck: "false" });
    d.status = make("div", { "class": "cite-pop-status", role: "status", "aria-live": "polite" });
    d.warning = make("p", { "class": "link-warning", role: "note", hidden: "" });
    var more = make("p", { "class": "cite-pop-more" });
    d.download = make("a", { "class": "cite-pop-download", download: "" }, "下载此格式");
    d.all = make("a", { "class": "cite-pop-all" }, "全部格式");
    more.appendChild(d.download);
    more.appendChild(document.createTextNode(" · "));
    more.appendChild(d.all);
    [head, d.src, row, d.text, d.warning, d.status, more].forEach(function (n) { d.el.appendChild(n); });
    document.body.appendChild(d.el);

    d.closeBtn.addEventListener("click", function () { d.el.close(); });
    d.select.addEventListener("change", function () { d.format = d.select.value; d.show(); });
    d.copyBtn.addEventListener("click", function () { d.copy(); });
    d.el.addEventListener("click", function (ev) {  // a click on the backdrop closes
      if (ev.target !== d.el) return;
      var r = d.el.getBoundingClientRect();
      if (ev.clientX < r.left || ev.clientX > r.right || ev.clientY < r.top || ev.clientY > r.bottom) d.el.close();
    });
    d.el.addEventListener("close", function () {
      if (d.opener && document.contains(d.opener)) d.opener.focus();
      d.opener = null;
    });
  }

  CiteDialog.prototype.open = function (link) {
    var d = this;
    var api = link.getAttribute("data-cite-api");
    d.opener = link;
    d.data = null;
    d.src.textContent = "正在加载引用格式…";
    d.text.value = "";
    d.status.textContent = "";
    d.el.classList.remove("is-copied");
    d.copyBtn.disabled = true;
    d.select.disabled = true;
    d.all.setAttribute("href", link.getAttribute("href"));
    d.download.removeAttribute("href");
    if (!d.el.open) d.el.showModal();
    d.closeBtn.focus();
    var load = d.cache[api] || fetch(api, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (resp) { return resp.ok ? resp.json() : Promise.reject(new Error("HTTP " + resp.status)); });
    d.cache[api] = load;
    load.then(function (data) {
      if (d.opener !== link) return;  // closed, or another paragraph's dialog, meanwhile
      d.data = data;
      var r = data.report || {};
      var where = (data.section || []).join(" › ");
      d.src.textContent = (r.display_title || r.title || "") + (where ? " · " + where : "") + " · 第 " + data.ordinal + " 段";
      d.warning.textContent = data.link_warning || "";
      d.warning.hidden = !data.link_warning;
      d.select.textContent = "";
      (data.entries || []).forEach(function (e) { d.select.appendChild(make("option", { value: e.format }, e.label)); });
      if (!d.entry(d.format)) d.format = "gbt7714";
      d.select.value = d.format;
      d.select.disabled = false;
      d.copyBtn.disabled = false;
      d.show();
      d.select.focus();
    }, function () {
      delete d.cache[api];
      if (d.opener !== link) return;
      d.src.textContent = "无法加载引用格式。可打开“全部格式”页面查看。";
    });
  };

  CiteDialog.prototype.entry = function (fmt) {
    var list = (this.data && this.data.entries) || [];
    for (var i = 0; i < list.length; i++) if (list[i].format === fmt) return list[i];
    return null;
  };

  CiteDialog.prototype.show = function () {
    var e = this.entry(this.format);
    if (!e) return;
    this.text.value = e.citation;
    this.download.setAttribute("href", e.download_url);
    this.status.textContent = "";
    this.el.classList.remove("is-copied");
  };

  CiteDialog.prototype.copy = function () {
    var d = this;
    var e = d.entry(d.format);
    if (!e) return;
    var text = e.citation;
    writeClipboard(text).then(function (ok) {
      if (d.entry(d.format) !== e) return;
      d.status.textContent = "";
      if (ok) {
        d.el.classList.add("is-copied");
        d.status.appendChild(make("p", { "class": "cite-pop-done" }, "已复制 " + e.label + " 格式："));
        d.status.appendChild(make("pre", { "class": "cite-pop-copied" }, text));
      } else {
        d.el.classList.remove("is-copied");
        selectForManualCopy(d.text);
        d.status.appendChild(make("p", { "class": "cite-pop-manual" }, manualCopyMessage()));
      }
    });
  };

  if (window.HTMLDialogElement && window.fetch && window.Promise) {
    document.addEventListener("click", function (ev) {
      if (ev.defaultPrevented || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
      var link = ev.target.closest && ev.target.closest("a.cite[data-cite-api]");
      if (!link) return;
      ev.preventDefault();
      if (!citeDialog) citeDialog = new CiteDialog();
      citeDialog.open(link);
    });
  }

  // The /cite/<pid> page: a copy button on each format.
  Array.prototype.forEach.call(document.querySelectorAll("button.copy-pre[data-copy-for]"), function (btn) {
    var pre = document.getElementById(btn.getAttribute("data-copy-for"));
    if (!pre) return;
    var section = btn.closest(".cite-format");
    var status = section && section.querySelector(".copy-status");
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var text = pre.textContent;
      writeClipboard(text).then(function (ok) {
        if (!ok) selectForManualCopy(pre);
        if (status) status.textContent = ok ? "已复制" : manualCopyMessage();
        btn.classList.toggle("copied", ok);
      });
    });
  });

  // Search page: j/k move between hits, Enter/o opens the current one.
  var hits = document.querySelectorAll("ol.hits > li.hit");
  if (hits.length) {
    var hi = -1;
    var moveHit = function (d) {
      if (hi >= 0) hits[hi].classList.remove("kbd-current");
      hi = Math.max(0, Math.min(hits.length - 1, hi + d));
      hits[hi].classList.add("kbd-current");
      hits[hi].scrollIntoView({ block: "nearest" });
      var link = hits[hi].querySelector("a.hit-title") || hits[hi].querySelector("a.hit-open");
      if (link) link.focus({ preventScroll: true });
    };
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(document.activeElement)) return;
      if (ev.key === "j") { ev.preventDefault(); moveHit(1); }
      else if (ev.key === "k") { ev.preventDefault(); moveHit(-1); }
    });
  }

  // Report page: next/previous hit (buttons, j/n and k/p keys). A long report comes in pages:
  // past the first or last hit of this page, the hit on the page before or after is opened
  // (#hitnav's data-before / data-after); with every hit on this page it wraps around.
  var paras = document.querySelectorAll(".para.is-hit");
  var nav = document.getElementById("hitnav");
  var next = document.getElementById("next-hit");
  var prev = document.getElementById("prev-hit");
  var pos = document.getElementById("hit-pos");
  if (nav && next && prev && (paras.length || nav.hasAttribute("data-after"))) {
    var before = nav.getAttribute("data-before");
    var after = nav.getAttribute("data-after");
    var cur = -1;
    var fromHash = function () {
      var id = decodeURIComponent(location.hash.slice(1));
      for (var i = 0; i < paras.length; i++) if (paras[i].id === id) return i;
      var target = document.querySelector(".para.is-target");
      for (var j = 0; j < paras.length; j++) if (paras[j] === target) return j;
      return -1;
    };
    var hrefOf = function (i) {
      if (i >= paras.length) return after || (paras.length ? "#" + paras[0].id : null);
      if (i < 0) return before || (paras.length ? "#" + paras[paras.length - 1].id : null);
      return "#" + paras[i].id;
    };
    var show = function (i) {
      if (i >= paras.length && after) { location.href = after; return; }
      if (i < 0 && before) { location.href = before; return; }
      if (!paras.length) return;
      cur = (i + paras.length) % paras.length;
      var el = paras[cur];
      Array.prototype.forEach.call(document.querySelectorAll(".para.is-target"), function (p) { p.classList.remove("is-target"); });
      el.classList.add("is-target");
      history.replaceState(null, "", "#" + el.id);
      el.scrollIntoView({ block: "center" });
      if (pos) pos.textContent = "，当前第 " + (Number(el.getAttribute("data-hit")) + 1) + " 处";
      next.setAttribute("href", hrefOf(cur + 1));
      prev.setAttribute("href", hrefOf(cur - 1));
    };
    var forward = function () { show(cur + 1); };
    var backward = function () { show(cur < 0 ? (paras.length ? paras.length - 1 : -1) : cur - 1); };
    cur = fromHash();
    next.addEventListener("click", function (ev) { ev.preventDefault(); forward(); });
    prev.addEventListener("click", function (ev) { ev.preventDefault(); backward(); });
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(document.activeElement)) return;
      if (ev.key === "j" || ev.key === "n") { ev.preventDefault(); forward(); }
      else if (ev.key === "k" || ev.key === "p") { ev.preventDefault(); backward(); }
    });
    Array.prototype.forEach.call(document.querySelectorAll(".para-nav a"), function (a) {
      a.addEventListener("click", function (ev) {
        var href = a.getAttribute("href");
        if (href.charAt(0) !== "#") return;  // a hit on another page: follow the link
        var id = href.slice(1);
        for (var i = 0; i < paras.length; i++) if (paras[i].id === id) { ev.preventDefault(); show(i); return; }
      });
    });
  }

  // What a researcher searched stays in this browser only (no server state): the search a report
  // page's "‹ 返回检索结果" goes back to, with its filters, sort and page; and the recent queries
  // listed on the home page.
  var store = function (kind) { try { return window[kind]; } catch (e) { return null; } };
  var session = store("sessionStorage"), local = store("localStorage");
  var here = new URLSearchParams(location.search);
  if (document.querySelector(".result-head") && here.get("q")) {
    if (session) session.setItem("ps-last-search", location.pathname + location.search);
    if (local) {
      var recent = [];
      try { recent = JSON.parse(local.getItem("ps-recent") || "[]"); } catch (e) { recent = []; }
      recent = [here.get("q")].concat(recent.filter(function (x) { return x !== here.get("q"); })).slice(0, 8);
      local.setItem("ps-recent", JSON.stringify(recent));
    }
  }
  var back = document.querySelector("a.back");
  var last = session && session.getItem("ps-last-search");
  if (back && last && last.charAt(0) === "/" && last.charAt(1) !== "/") {
    var lastQ = new URLSearchParams(last.split("?")[1] || "").get("q");
    if (lastQ === here.get("q")) back.setAttribute("href", last);
  }
  var box = document.getElementById("recent");
  if (box && local) {
    var queries = [];
    try { queries = JSON.parse(local.getItem("ps-recent") || "[]"); } catch (e) { queries = []; }
    queries.forEach(function (q) {
      if (typeof q !== "string") return;
      var a = document.createElement("a");
      a.href = "/?q=" + encodeURIComponent(q);
      a.textContent = q;  // text, never markup
      box.appendChild(a);
    });
    if (queries.length) box.hidden = false;
  }

  // 高级检索: as the boxes are filled in, the query they make is shown and written into the
  // search box above (the server writes it: /api/advanced, the same code as the form's submit).
  var advanced = document.querySelector("form.advanced-form[data-preview]");
  if (advanced && window.fetch && window.URLSearchParams) {
    var previewTimer = null, previewSeq = 0;
    var preview = function () {
      var params = new URLSearchParams(new FormData(advanced));
      params.delete("go");
      var seq = ++previewSeq;
      fetch(advanced.getAttribute("data-preview") + "?" + params.toString(), {headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (d) {
          if (seq !== previewSeq) return;  // a later keystroke's answer is on its way
          document.getElementById("adv-query").textContent = d.query || "（未填写）";
          var box = document.getElementById("q");
          if (box) box.value = d.query || "";
          var err = document.getElementById("adv-error");
          err.textContent = "";
          if (d.error) err.appendChild(make("p", {"class": "error"}, d.error.message));
        })
        .catch(function () { /* the form still submits without the preview */ });
    };
    advanced.addEventListener("input", function () {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(preview, 150);
    });
  }

  // A cited article (《行政复议法》第二十三条) that the corpus holds: hovering, focusing or tapping
  // its link shows the article's text in a side panel (the text is in a <template> of the page);
  // without this file the link opens the article in its law.
  var panel = document.getElementById("article-panel");
  if (panel) {
    var panelBody = panel.querySelector(".article-panel-body");
    var shown = null;
    var show = function (link) {
      var tpl = document.getElementById(link.getAttribute("data-panel"));
      if (!tpl) return false;
      if (shown !== tpl.id) {
        panelBody.textContent = "";
        panelBody.appendChild(tpl.content.cloneNode(true));
        shown = tpl.id;
      }
      panel.hidden = false;
      return true;
    };
    document.querySelectorAll("a.ref[data-panel]").forEach(function (link) {
      // A mouse shows the article on hover and a click opens it; a finger has no hover, so its
      // first tap shows the article and a second opens it.
      var tapped = false, showing = false;
      link.addEventListener("mouseenter", function () { show(link); });
      link.addEventListener("focus", function () { show(link); });
      link.addEventListener("pointerdown", function (ev) {
        tapped = ev.pointerType !== "mouse";
        showing = !panel.hidden && shown === link.getAttribute("data-panel");
      });
      link.addEventListener("click", function (ev) {
        if (tapped && !showing && show(link)) ev.preventDefault();
        tapped = false;
      });
    });
    panel.querySelector(".article-panel-close").addEventListener("click", function () { panel.hidden = true; });
    document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") panel.hidden = true; });
  }
})();
