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

// catchment ui: the run page's live event log over server-sent events. New events are
// appended to the log as they are recorded; a step or the run ending refreshes the summary
// and timeline (one htmx GET); the stream's "end" closes it. Without EventSource the page's
// htmx polling (every 1 s) stays in charge.
(function () {
  "use strict";
  var source = null;
  function lastSeq() {
    var rows = document.querySelectorAll("#events tr[data-seq]");
    return rows.length ? +rows[rows.length - 1].dataset.seq : 0;
  }
  var timer = null;
  function refresh() {   // the summary and timeline, debounced
    if (timer || !window.htmx) return;
    timer = setTimeout(function () {
      timer = null;
      var live = document.getElementById("run-live");
      if (live) htmx.ajax("GET", "/runs/" + live.dataset.run, { target: "#run-live", swap: "outerHTML" });
    }, 300);
  }
  function cell(row, text) { var td = row.insertCell(); td.textContent = text == null ? "" : text; return td; }
  function append(e) {
    var body = document.querySelector("#events tbody");
    if (!body || e.seq <= lastSeq()) return;
    var empty = body.querySelector("tr.no-event");
    if (empty) empty.remove();
    var row = body.insertRow();
    row.className = "ev-" + e.type; row.dataset.seq = e.seq;
    cell(row, e.seq); cell(row, e.at); cell(row, e.type); cell(row, e.step).className = "mono";
    var td = row.insertCell();
    if (e.asset) {
      var a = document.createElement("a");
      a.href = "/assets/" + encodeURIComponent(e.asset).replace(/%2F/g, "/"); a.textContent = e.asset; td.appendChild(a);
    }
    if (e.partition) td.appendChild(document.createTextNode(" [" + e.partition + "]"));
    cell(row, e.message);
  }
  function start() {
    var live = document.getElementById("run-live");
    if (!live || source || live.dataset.active !== "1" || !window.EventSource) return;
    window.catchmentLive = true;   // the htmx polling stands down
    source = new EventSource("/api/runs/" + live.dataset.run + "/events?after=" + lastSeq());
    source.addEventListener("log", function (m) {
      var e = JSON.parse(m.data);
      append(e);
      if (/^step_|^run_/.test(e.type)) refresh();
    });
    source.addEventListener("end", function () { source.close(); refresh(); });
    source.onerror = function () {   // server gone: fall back to polling until it answers
      if (source.readyState === EventSource.CLOSED) { window.catchmentLive = false; }
    };
  }
  document.addEventListener("DOMContentLoaded", start);
})();
