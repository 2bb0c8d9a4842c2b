/*
 * 本站页面增强脚本：字号切换、数据过期提示、列表筛选与排序、打印时显示链接地址。
 * 无依赖，不向任何主机发请求；没有脚本时页面内容照常可读（筛选表单保持隐藏）。
 */
(function () {
  "use strict";

  var SIZE_KEY = "zq-text-size";
  var SIZES = ["standard", "large", "xlarge"];

  /* ---------- 字号（适老化） ---------- */
  function applySize(size) {
    var root = document.documentElement;
    SIZES.forEach(function (s) { root.classList.toggle("zq-text-" + s, s === size && s !== "standard"); });
    document.querySelectorAll("[data-zq-textsize] button[data-size]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.size === size));
    });
  }

  function initTextSize() {
    var saved = "standard";
    try { saved = localStorage.getItem(SIZE_KEY) || "standard"; } catch (e) { /* 存储不可用 */ }
    if (SIZES.indexOf(saved) < 0) saved = "standard";
    document.querySelectorAll("[data-zq-textsize]").forEach(function (group) {
      group.hidden = false;
      group.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-size]");
        if (!button) return;
        applySize(button.dataset.size);
        try { localStorage.setItem(SIZE_KEY, button.dataset.size); } catch (e) { /* 只在本页生效 */ }
      });
    });
    applySize(saved);
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

  function initLists() {
    var lists = document.querySelectorAll("[data-zq-list]");
    // 网址里的筛选条件只对应页面上唯一的可筛选列表，避免多个列表互相干扰。
    var filterable = document.querySelectorAll("[data-zq-list] form.zq-filters").length;
    lists.forEach(function (list) { initList(list, filterable === 1); });
  }

  /* ---------- 打印：正文链接后显示完整网址 ---------- */
  function initPrintLinks() {
    document.querySelectorAll(".md-content a[href]").forEach(function (a) {
      var href = a.getAttribute("href");
      if (href && href.charAt(0) !== "#" && href.indexOf("mailto:") !== 0) a.setAttribute("data-zq-href", a.href);
    });
  }

  /* ---------- 横向滚动的表格可用键盘聚焦后滚动（Material 给 Markdown 表格加的外框） ---------- */
  function markScrollRegions() {
    document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth) el.setAttribute("tabindex", "0");
      else el.removeAttribute("tabindex");
    });
  }

  function init() {
    initTextSize();
    initStale();
    initLists();
    initPrintLinks();
    window.addEventListener("load", markScrollRegions);
    window.addEventListener("resize", markScrollRegions);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
