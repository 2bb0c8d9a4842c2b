// 异议申请书：按读者选择的提交日期重新计算答复期限。
// 工作日表（window.ZQ_WORKDAYS）由网站生成器导出；表外的年份按周一至周五估算，与生成器的算法相同。
(function () {
  "use strict";
  var WEEK = "日一二三四五六";
  function parse(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
    return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])) : null;
  }
  function isWorkday(day, table) {
    var start = parse(table.start);
    var offset = start ? Math.round((day - start) / 86400000) : -1;
    if (offset >= 0 && offset < table.days.length) return [table.days.charAt(offset) === "1", false];
    var weekday = day.getUTCDay();
    return [weekday !== 0 && weekday !== 6, true];
  }
  function addWorkdays(start, n, table) {
    var day = new Date(start.getTime()), counted = 0, estimated = false;
    while (counted < n) {
      day = new Date(day.getTime() + 86400000);
      var r = isWorkday(day, table);
      if (r[1]) estimated = true;
      if (r[0]) counted += 1;
    }
    return [day, estimated];
  }
  function show(day) {
    return day.getUTCFullYear() + "年" + (day.getUTCMonth() + 1) + "月" + day.getUTCDate() + "日（星期" + WEEK.charAt(day.getUTCDay()) + "）";
  }
  function update() {
    var input = document.getElementById("zq-filed"), output = document.getElementById("zq-due");
    var table = window.ZQ_WORKDAYS || { start: "", days: "" };
    var filed = parse(input.value);
    if (!filed) { output.textContent = "请选择提交日期"; return; }
    var r = addWorkdays(filed, parseInt(input.getAttribute("data-workdays"), 10), table);
    output.textContent = show(r[0]) + (r[1] ? "（估算：该年节假日安排尚未公布，按周一至周五计算）" : "");
  }
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("zq-filed");
    if (!input) return;
    input.addEventListener("input", update);
    input.addEventListener("change", update);
    update();
  });
})();
