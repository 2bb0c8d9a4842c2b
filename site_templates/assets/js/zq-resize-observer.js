/*
 * ResizeObserver for browsers that lack it (Safari before 13.1, Chrome before 64,
 * old Android WebViews). Material's bundle loads this file only when
 * window.ResizeObserver is missing; it would otherwise fetch a polyfill from
 * a CDN (generator/offline.py points it here). Written for this site: each
 * observer compares offsetWidth/offsetHeight of its targets after resizes,
 * transitions, DOM changes and every 250 ms, and reports the targets whose size
 * changed (target, contentRect, borderBoxSize, contentBoxSize).
 */
(function () {
  "use strict";
  if (typeof window.ResizeObserver !== "undefined") {
    return;
  }
  var observers = [];
  var scheduled = false;
  var later = window.requestAnimationFrame || function (fn) { return window.setTimeout(fn, 16); };

  function checkAll() {
    scheduled = false;
    var copy = observers.slice();
    for (var i = 0; i < copy.length; i++) {
      copy[i].zqCheck();
    }
  }

  function schedule() {
    if (!scheduled) {
      scheduled = true;
      later(checkAll);
    }
  }

  function ResizeObserver(callback) {
    if (typeof callback !== "function") {
      throw new TypeError("ResizeObserver: the callback must be a function");
    }
    this.zqCallback = callback;
    this.zqTargets = [];
  }

  ResizeObserver.prototype.observe = function (target) {
    for (var i = 0; i < this.zqTargets.length; i++) {
      if (this.zqTargets[i].el === target) {
        return;
      }
    }
    this.zqTargets.push({ el: target, width: -1, height: -1 });
    if (observers.indexOf(this) < 0) {
      observers.push(this);
    }
    schedule();
  };

  ResizeObserver.prototype.unobserve = function (target) {
    var kept = [];
    for (var i = 0; i < this.zqTargets.length; i++) {
      if (this.zqTargets[i].el !== target) {
        kept.push(this.zqTargets[i]);
      }
    }
    this.zqTargets = kept;
  };

  ResizeObserver.prototype.disconnect = function () {
    this.zqTargets = [];
    var i = observers.indexOf(this);
    if (i >= 0) {
      observers.splice(i, 1);
    }
  };

  ResizeObserver.prototype.zqCheck = function () {
    var entries = [];
    for (var i = 0; i < this.zqTargets.length; i++) {
      var t = this.zqTargets[i];
      var width = t.el.offsetWidth || 0;
      var height = t.el.offsetHeight || 0;
      if (width !== t.width || height !== t.height) {
        t.width = width;
        t.height = height;
        var box = [{ inlineSize: width, blockSize: height }];
        entries.push({
          target: t.el,
          contentRect: { x: 0, y: 0, top: 0, left: 0, right: width, bottom: height, width: width, height: height },
          borderBoxSize: box,
          contentBoxSize: box
        });
      }
    }
    if (entries.length) {
      this.zqCallback.call(this, entries, this);
    }
  };

  window.ResizeObserver = ResizeObserver;
  var events = ["resize", "orientationchange", "load", "transitionend", "animationend"];
  for (var k = 0; k < events.length; k++) {
    window.addEventListener(events[k], schedule, true);
  }
  if (window.MutationObserver) {
    new window.MutationObserver(schedule).observe(document.documentElement,
      { attributes: true, childList: true, characterData: true, subtree: true });
  }
  window.setInterval(schedule, 250);
})();
