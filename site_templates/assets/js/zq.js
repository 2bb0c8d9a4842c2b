/*
 * 本站页面增强脚本：字号和高对比度切换、数据过期提示、列表筛选与排序、查找记录、
 * 宽表格的滑动提示、打印时显示链接地址。
 * 无依赖，不向任何主机发请求；没有脚本时页面内容照常可读（筛选表单保持隐藏）。
 */
(function () {
  "use strict";

  var SIZE_KEY = "zq-text-size";
  var CONTRAST_KEY = "zq-contrast";
  var SIZES = ["standard", "large", "xlarge"];

  function store(key, value) {
    try { localStorage.setItem(key, value); } catch (e) { /* 只在本页生效 */ }
  }

  /* ---------- 字号和高对比度（适老化），页首和记录页的【字号】共用 ---------- */
  function applySize(size) {
    var root = document.documentElement;
    SIZES.forEach(function (s) { root.classList.toggle("zq-text-" + s, s === size && s !== "standard"); });
    document.querySelectorAll("[data-zq-textsize] button[data-size], [data-zq-doctools] button[data-size]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.size === size));
    });
    window.dispatchEvent(new Event("resize")); // 宽表格的滑动提示随字号更新
  }

  function applyContrast(on) {
    document.documentElement.classList.toggle("zq-contrast", on);
    document.querySelectorAll("button[data-zq-contrast]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(on));
    });
  }

  function initTextSize() {
    var saved = "standard", contrast = false;
    try {
      saved = localStorage.getItem(SIZE_KEY) || "standard";
      contrast = localStorage.getItem(CONTRAST_KEY) === "on";
    } catch (e) { /* 存储不可用 */ }
    if (SIZES.indexOf(saved) < 0) saved = "standard";
    document.querySelectorAll("[data-zq-textsize], [data-zq-doctools]").forEach(function (group) {
      group.hidden = false;
      group.addEventListener("click", function (event) {
        var button = event.target.closest("button");
        if (!button) return;
        if (button.dataset.size) {
          applySize(button.dataset.size);
          store(SIZE_KEY, button.dataset.size);
        } else if (button.hasAttribute("data-zq-contrast")) {
          var on = !document.documentElement.classList.contains("zq-contrast");
          applyContrast(on);
          store(CONTRAST_KEY, on ? "on" : "off");
        } else if (button.hasAttribute("data-zq-print")) {
          window.print();
        }
      });
    });
    applySize(saved);
    applyContrast(contrast);
  }

  /* ---------- 数据过期提示：北京时间的今天比数据截至日期晚两天以上 ---------- */
  function todayInShanghai() {
    var parts = {};
    new Intl.DateTimeFormat("en-CA", {
      timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit"
    }).formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }

  function initStale() {
    var today = Date.parse(todayInShanghai());
    document.querySelectorAll("[data-zq-stale][data-as-of]").forEach(function (el) {
      var asOf = Date.parse(el.dataset.asOf);
      if (!isNaN(asOf) && (today - asOf) / 86400000 > 2) el.hidden = false;
    });
  }

  /* ---------- 列表：筛选、计数、排序，筛选条件写入网址 ---------- */
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    return cell.hasAttribute("data-value") ? cell.dataset.value : cell.textContent.trim();
  }

  function compare(a, b, type) {
    if (a === "" || b === "") return a === b ? 0 : (a === "" ? 1 : -1); // 空值总排在最后
    if (type === "number") {
      var x = parseFloat(a), y = parseFloat(b);
      if (isNaN(x) || isNaN(y)) return isNaN(x) - isNaN(y);
      return x - y;
    }
    if (type === "date") return a < b ? -1 : (a > b ? 1 : 0);
    return a.localeCompare(b, "zh");
  }

  function initList(list, syncUrl) {
    var table = list.querySelector("table");
    var body = table && table.tBodies[0];
    if (!body) return;
    var rows = Array.prototype.slice.call(body.rows);
    var form = list.querySelector("form.zq-filters");
    var selects = form ? Array.prototype.slice.call(form.querySelectorAll("select[data-filter]")) : [];
    var count = form && form.querySelector(".zq-count");

    function filter() {
      var shown = 0;
      rows.forEach(function (row) {
        var match = selects.every(function (s) {
          return s.value === "" || row.getAttribute("data-" + s.dataset.filter) === s.value;
        });
        row.hidden = !match;
        if (match) shown += 1;
      });
      if (count) count.textContent = "显示 " + shown + " 条，共 " + rows.length + " 条";
    }

    function writeUrl() {
      if (!syncUrl) return;
      var params = new URLSearchParams(location.search);
      selects.forEach(function (s) {
        if (s.value) params.set(s.dataset.filter, s.value); else params.delete(s.dataset.filter);
      });
      var query = params.toString();
      history.replaceState(history.state, "", location.pathname + (query ? "?" + query : "") + location.hash);
    }

    if (form) {
      if (syncUrl) {
        var params = new URLSearchParams(location.search);
        selects.forEach(function (s) {
          var wanted = params.get(s.dataset.filter);
          if (wanted !== null && Array.prototype.some.call(s.options, function (o) { return o.value === wanted; })) {
            s.value = wanted;
          }
        });
      }
      form.hidden = false;
      form.addEventListener("submit", function (event) { event.preventDefault(); });
      form.addEventListener("change", function () { filter(); writeUrl(); });
      form.addEventListener("reset", function () {
        // reset 事件在表单复位之前触发：下一轮再读取选择框的值
        setTimeout(function () { filter(); writeUrl(); }, 0);
      });
      filter();
    }

    var headers = Array.prototype.slice.call(table.querySelectorAll("thead th[data-sort]"));
    headers.forEach(function (th) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "zq-sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var index = th.cellIndex, type = th.dataset.sort;
        var sorted = rows.slice().sort(function (a, b) {
          var va = cellValue(a, index), vb = cellValue(b, index);
          if (va === "" || vb === "") return compare(va, vb, type);
          return ascending ? compare(va, vb, type) : compare(vb, va, type);
        });
        sorted.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  /* Chromium does not repeat a printed table header that holds a button: print plain text. */
  var printed = [];
  function beforePrint() {
    document.querySelectorAll("th > button.zq-sort").forEach(function (button) {
      var span = document.createElement("span");
      while (button.firstChild) span.appendChild(button.firstChild);
      button.replaceWith(span);
      printed.push([span, button]);
    });
  }
  function afterPrint() {
    printed.forEach(function (pair) {
      while (pair[0].firstChild) pair[1].appendChild(pair[0].firstChild);
      pair[0].replaceWith(pair[1]);
    });
    printed = [];
  }

  function initLists() {
    window.addEventListener("beforeprint", beforePrint);
    window.addEventListener("afterprint", afterPrint);
    var lists = document.querySelectorAll("[data-zq-list]");
    // 网址里的筛选条件只对应页面上唯一的可筛选列表，避免多个列表互相干扰。
    var filterable = document.querySelectorAll("[data-zq-list] form.zq-filters").length;
    lists.forEach(function (list) { initList(list, filterable === 1); });
  }

  /* ---------- 打印：正文链接后显示完整网址 ---------- */
  function initPrintLinks() {
    document.querySelectorAll(".md-content a[href]:not([href^='?'])").forEach(function (a) {
      var href = a.getAttribute("href");
      if (href && href.charAt(0) !== "#" && href.indexOf("mailto:") !== 0) a.setAttribute("data-zq-href", a.href);
    });
  }

  /* ---------- 横向滚动的表格和图表：可用键盘聚焦后滚动，并提示“可左右滑动” ---------- */
  function markScrollRegions() {
    document.querySelectorAll(".md-typeset__scrollwrap, .zq-chart-box").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1) el.setAttribute("tabindex", "0");
      else el.removeAttribute("tabindex");
    });
    document.querySelectorAll(".zq-table-wrap, .zq-chart-box").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      wrap.classList.toggle("zq-scrolls", scrolls);
      var hint = wrap.previousElementSibling;
      if (!hint || !hint.classList.contains("zq-scroll-hint")) {
        if (!scrolls) return;
        hint = document.createElement("p");
        hint.className = "zq-scroll-hint";
        wrap.parentNode.insertBefore(hint, wrap);
      }
      hint.textContent = wrap.classList.contains("zq-chart-box") ? "图表较宽，可左右滑动查看 →" : "表格较宽，可左右滑动查看其余各列 →";
      hint.hidden = !scrolls;
    });
  }

  /* ---------- 查找记录：企业名称、统一社会信用代码、合同编号、记录编号 ----------
   * 索引（lookup.json）在读者开始输入时才下载。比较前统一为半角、去空白、大写（与 generator/citizen.py 的
   * normalise_key 相同）。先列完全相同的，再列开头相同的，再列包含查询内容的。 */
  var lookupIndex = null;

  function normalise(text) {
    return (text.normalize ? text.normalize("NFKC") : text).replace(/\s+/g, "").toUpperCase();
  }

  function loadIndex(url) {
    if (!lookupIndex) {
      lookupIndex = fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      }).then(function (doc) {
        doc.r.forEach(function (e) { e.push(normalise(e[2])); });
        return doc;
      });
      lookupIndex.catch(function () { lookupIndex = null; });
    }
    return lookupIndex;
  }

  function lookup(doc, query) {
    var q = normalise(query);
    if (!q) return [];
    var hits = [];
    doc.r.forEach(function (e, order) {
      var rank = 0;
      e[4].forEach(function (k) {
        if (k === q) rank = Math.max(rank, 3);
        else if (k.indexOf(q) === 0) rank = Math.max(rank, 2);
        else if (k.indexOf(q) > 0) rank = Math.max(rank, 1);
      });
      if (!rank && e[5].indexOf(q) >= 0) rank = 1;
      if (rank) hits.push({ rank: rank, order: order, e: e });
    });
    hits.sort(function (a, b) { return b.rank - a.rank || a.order - b.order; });
    return hits;
  }

  var TIERS = { 3: "完全相同", 2: "开头相同", 1: "包含" };
  var MAX_SHOWN = 50;

  function initLookup(form) {
    var input = form.querySelector("input[type=search]");
    var status = form.querySelector(".zq-lookup__status");
    var list = form.querySelector(".zq-lookup__results");
    var root = form.dataset.root, url = form.dataset.index;
    var timer = null;
    form.hidden = false;

    function recordUrl(doc, e) { return root + doc.folders[e[0]] + "/" + e[1] + "/"; }

    function show(go) {
      var query = input.value.trim();
      list.textContent = "";
      if (!query) { status.textContent = ""; return; }
      loadIndex(url).then(function (doc) {
        if (input.value.trim() !== query) return;
        var hits = lookup(doc, query);
        var exact = hits.filter(function (h) { return h.rank === 3; });
        if (go && exact.length === 1) { location.href = recordUrl(doc, exact[0].e); return; }
        list.textContent = "";
        hits.slice(0, MAX_SHOWN).forEach(function (h) {
          var li = document.createElement("li");
          var tier = document.createElement("span");
          tier.className = "zq-badge zq-lookup__tier zq-badge--" + (h.rank === 3 ? "ok" : "muted");
          tier.textContent = TIERS[h.rank];
          var a = document.createElement("a");
          a.href = recordUrl(doc, h.e);
          a.textContent = h.e[2];
          var small = document.createElement("small");
          small.textContent = doc.kinds[h.e[0]] + " · " + h.e[1] + " · " + h.e[3];
          li.appendChild(tier); li.appendChild(a); li.appendChild(small);
          list.appendChild(li);
        });
        var more = document.createElement("a");
        more.href = "?q=" + encodeURIComponent(query);
        more.textContent = "在全文搜索中查找“" + query + "”";
        status.textContent = hits.length
          ? "找到 " + hits.length + " 条记录" + (exact.length ? "，其中 " + exact.length + " 条完全相同" : "") +
            (hits.length > MAX_SHOWN ? "，列出前 " + MAX_SHOWN + " 条" : "") + "。也可以"
          : "没有编号、名称、信用代码或合同编号与“" + query + "”相符的记录。可以";
        status.appendChild(more);
        status.appendChild(document.createTextNode("。"));
      }).catch(function () {
        status.textContent = "查找索引暂时无法载入，请稍后再试，或使用页面顶部的搜索。";
      });
    }

    input.addEventListener("focus", function () { loadIndex(url).catch(function () {}); }, { once: true });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      status.textContent = "";
      timer = setTimeout(function () { show(false); }, 150);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      show(true);
    });
  }

  function init() {
    initTextSize();
    initStale();
    initLists();
    document.querySelectorAll("form[data-zq-lookup]").forEach(initLookup);
    initPrintLinks();
    window.addEventListener("load", markScrollRegions);
    window.addEventListener("resize", markScrollRegions);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
