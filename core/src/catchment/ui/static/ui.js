// catchment ui: pan and zoom of the server-drawn graph (drag, wheel, Fit). No build step.
(function () {
  "use strict";
  function setup() {
    var view = document.getElementById("graph-view");
    var svg = document.getElementById("graph-svg");
    if (!view || !svg || svg.dataset.ready) return;
    svg.dataset.ready = "1";
    var W = +svg.dataset.width, H = +svg.dataset.height;
    var box = { x: 0, y: 0, w: W, h: H };
    var big = svg.classList.contains("far");
    function apply() {
      svg.setAttribute("viewBox", box.x + " " + box.y + " " + box.w + " " + box.h);
      if (big) {   // labels of a big graph only once they are readable
        var r = view.getBoundingClientRect();
        svg.classList.toggle("far", box.w / Math.max(r.width, 1) > 3);
      }
    }
    function fit() {
      var r = view.getBoundingClientRect(), aspect = r.width / Math.max(r.height, 1);
      box = { x: 0, y: 0, w: Math.max(W, H * aspect), h: Math.max(H, W / aspect) };
      var focus = svg.querySelector("a.focus");
      var at = focus && /translate\(([-\d.]+),([-\d.]+)\)/.exec(focus.getAttribute("transform"));
      if (at && W * H > 4 * r.width * r.height) {   // a big neighbourhood: start on its centre
        var fx = +at[1], fy = +at[2];
        box = { x: fx - r.width, y: fy - r.height, w: 2 * r.width, h: 2 * r.height };
      }
      apply();
    }
    var drag = null;
    view.addEventListener("mousedown", function (e) { drag = { x: e.clientX, y: e.clientY, bx: box.x, by: box.y, moved: false }; });
    window.addEventListener("mouseup", function () { setTimeout(function () { drag = null; }, 0); });
    window.addEventListener("mousemove", function (e) {
      if (!drag) return;
      var r = view.getBoundingClientRect(), s = box.w / r.width;
      if (Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) > 3) drag.moved = true;
      box.x = drag.bx - (e.clientX - drag.x) * s; box.y = drag.by - (e.clientY - drag.y) * s; apply();
    });
    view.addEventListener("click", function (e) { if (drag && drag.moved) e.preventDefault(); }, true);
    view.addEventListener("wheel", function (e) {
      e.preventDefault();
      var r = view.getBoundingClientRect(), k = e.deltaY > 0 ? 1.15 : 1 / 1.15;
      var px = box.x + (e.clientX - r.left) / r.width * box.w, py = box.y + (e.clientY - r.top) / r.height * box.h;
      box = { x: px - (px - box.x) * k, y: py - (py - box.y) * k, w: box.w * k, h: box.h * k }; apply();
    }, { passive: false });
    var button = document.getElementById("fit");
    if (button) button.addEventListener("click", fit);
    fit();
  }
  document.addEventListener("DOMContentLoaded", setup);
  document.addEventListener("htmx:afterSettle", setup);
})();
