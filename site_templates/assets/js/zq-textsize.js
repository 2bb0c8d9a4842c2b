/* 在页面绘制前套用已保存的字号（适老化），由页面 <head> 同步加载。切换按钮见 zq.js。 */
(function () {
  try {
    var size = localStorage.getItem("zq-text-size");
    if (size === "large" || size === "xlarge") {
      document.documentElement.classList.add("zq-text-" + size);
    }
  } catch (e) { /* 存储不可用（隐私模式等）时保持标准字号 */ }
})();
