/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";

  function isTyping(el) {
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

  // Cite buttons: copy "title，section，第N段。permalink" with a visible confirmation.
  function fallbackCopy(text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.className = "visually-hidden";
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () { return fallbackCopy(text); });
    }
    return Promise.resolve(fallbackCopy(text));
  }
  var live = document.createElement("div");
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");
  document.body.appendChild(live);

  Array.prototype.forEach.call(document.querySelectorAll("button.cite[data-cite]"), function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var text = btn.getAttribute("data-cite");
      copy(text).then(function (ok) {
        btn.textContent = ok ? "已复制 ✓" : "复制失败";
        btn.classList.toggle("copied", ok);
        btn.setAttribute("data-copied", ok ? "1" : "0");
        live.textContent = ok ? "引用已复制：" + text : "无法复制，请手动复制段落链接";
        setTimeout(function () {
          btn.textContent = "引用";
          btn.classList.remove("copied");
        }, 2500);
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
      var link = hits[hi].querySelector("a.hit-title");
      if (link) link.focus({ preventScroll: true });
    };
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(document.activeElement)) return;
      if (ev.key === "j") { ev.preventDefault(); moveHit(1); }
      else if (ev.key === "k") { ev.preventDefault(); moveHit(-1); }
    });
  }

  // Report page: next/previous hit (buttons, j/n and k/p keys).
  var paras = document.querySelectorAll(".para.is-hit");
  var next = document.getElementById("next-hit");
  var prev = document.getElementById("prev-hit");
  var pos = document.getElementById("hit-pos");
  if (paras.length && next && prev) {
    var cur = -1;
    var fromHash = function () {
      var id = decodeURIComponent(location.hash.slice(1));
      for (var i = 0; i < paras.length; i++) if (paras[i].id === id) return i;
      var target = document.querySelector(".para.is-target");
      for (var j = 0; j < paras.length; j++) if (paras[j] === target) return j;
      return -1;
    };
    var show = function (i, push) {
      cur = (i + paras.length) % paras.length;
      var el = paras[cur];
      Array.prototype.forEach.call(document.querySelectorAll(".para.is-target"), function (p) { p.classList.remove("is-target"); });
      el.classList.add("is-target");
      if (push) history.replaceState(null, "", "#" + el.id);
      el.scrollIntoView({ block: "center" });
      if (pos) pos.textContent = "，当前第 " + (cur + 1) + " 处";
      next.setAttribute("href", "#" + paras[(cur + 1) % paras.length].id);
      prev.setAttribute("href", "#" + paras[(cur - 1 + paras.length) % paras.length].id);
    };
    cur = fromHash();
    next.addEventListener("click", function (ev) { ev.preventDefault(); show(cur + 1, true); });
    prev.addEventListener("click", function (ev) { ev.preventDefault(); show(cur < 0 ? paras.length - 1 : cur - 1, true); });
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(document.activeElement)) return;
      if (ev.key === "j" || ev.key === "n") { ev.preventDefault(); show(cur + 1, true); }
      else if (ev.key === "k" || ev.key === "p") { ev.preventDefault(); show(cur < 0 ? paras.length - 1 : cur - 1, true); }
    });
    Array.prototype.forEach.call(document.querySelectorAll(".para-nav a"), function (a) {
      a.addEventListener("click", function (ev) {
        var id = a.getAttribute("href").slice(1);
        for (var i = 0; i < paras.length; i++) if (paras[i].id === id) { ev.preventDefault(); show(i, true); return; }
      });
    });
  }
})();
