/* 在页面绘制前套用已保存的字号和高对比度（适老化），由页面 <head> 同步加载。切换按钮见 zq.js。 */
(function () {
  try {
    var root = document.documentElement;
    var size = localStorage.getItem("zq-text-size");
    if (size === "large" || size === "xlarge") root.classList.add("zq-text-" + size);
    if (localStorage.getItem("zq-contrast") === "on") root.classList.add("zq-contrast");
  } catch (e) { /* 存储不可用（隐私模式等）时保持标准显示 */ }
})();
