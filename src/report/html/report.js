// fundtrail report: sorting, pan and zoom, details. No network, no
// innerHTML: every string from the data is set as text.
"use strict";
(function () {
  var data = JSON.parse(document.getElementById("data").textContent);

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  // --- sortable tables -------------------------------------------------
  function cmp(type, a, b) {
    if (type === "int") {
      var x = BigInt(a || "0"), y = BigInt(b || "0");
      return x < y ? -1 : x > y ? 1 : 0;
    }
    if (type === "num") return (parseFloat(a) || 0) - (parseFloat(b) || 0);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      function sort() {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var type = th.getAttribute("data-type") || "text";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.forEach(function (r, i) { r._i = i; });
        rows.sort(function (r1, r2) {
          var a = r1.cells[col].getAttribute("data-v") || r1.cells[col].textContent;
          var b = r2.cells[col].getAttribute("data-v") || r2.cells[col].textContent;
          var c = cmp(type, a, b);
          return (asc ? c : -c) || r1._i - r2._i;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (ev) { if (ev.key === "Enter") sort(); });
    });
  });

  // --- the flow graph: pan and zoom ---------------------------------------
  var svg = document.getElementById("flow");
  if (!svg) return;
  var full = [0, 0, parseFloat(svg.getAttribute("data-width")), parseFloat(svg.getAttribute("data-height"))];
  var vb = full.slice();
  function show() { svg.setAttribute("viewBox", vb.map(function (v) { return v.toFixed(1); }).join(" ")); }
  // a graph too big to read whole starts at the seeds, readable; "fit"
  // shows it all
  (function () {
    var r = svg.getBoundingClientRect();
    if (!r.width || !r.height) return;
    if (Math.min(r.width / full[2], r.height / full[3]) < 0.4) {
      vb = [0, 0, r.width / 0.6, r.height / 0.6];
      show();
    } else {
      // it fits: no taller than the graph needs at this width
      var h = Math.max(280, Math.min(r.height, r.width * full[3] / full[2]));
      if (h < r.height) svg.style.height = h + "px";
    }
  })();
  function point(ev) {
    var r = svg.getBoundingClientRect();
    var fx = r.width ? (ev.clientX - r.left) / r.width : 0.5;
    var fy = r.height ? (ev.clientY - r.top) / r.height : 0.5;
    return [vb[0] + fx * vb[2], vb[1] + fy * vb[3]];
  }
  function zoom(f, at) {
    var w = Math.min(Math.max(vb[2] * f, 40), full[2] * 8);
    var h = vb[3] * (w / vb[2]);
    at = at || [vb[0] + vb[2] / 2, vb[1] + vb[3] / 2];
    vb = [at[0] - (at[0] - vb[0]) * (w / vb[2]), at[1] - (at[1] - vb[1]) * (h / vb[3]), w, h];
    show();
  }
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    zoom(ev.deltaY > 0 ? 1.2 : 1 / 1.2, point(ev));
  }, { passive: false });
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(1 / 1.4); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(1.4); });
  document.getElementById("zoom-fit").addEventListener("click", function () { vb = full.slice(); show(); });
  var drag = null;
  svg.addEventListener("pointerdown", function (ev) {
    drag = { x: ev.clientX, y: ev.clientY, vb: vb.slice(), moved: false };
  });
  svg.addEventListener("pointermove", function (ev) {
    if (!drag) return;
    var r = svg.getBoundingClientRect();
    var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; svg.classList.add("dragging"); }
    if (!drag.moved) return;
    var sx = r.width ? drag.vb[2] / r.width : 1, sy = r.height ? drag.vb[3] / r.height : 1;
    vb = [drag.vb[0] - dx * sx, drag.vb[1] - dy * sy, vb[2], vb[3]];
    show();
  });
  function endDrag() { svg.classList.remove("dragging"); setTimeout(function () { drag = null; }, 0); }
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointerleave", endDrag);

  // --- details of an address ------------------------------------------------
  var detail = document.getElementById("detail");
  function select(i) {
    var n = data.nodes[i];
    if (!n) return;
    Array.prototype.forEach.call(svg.querySelectorAll(".node.selected"), function (g) { g.classList.remove("selected"); });
    var g = svg.querySelector('.node[data-node="' + i + '"]');
    if (g) g.classList.add("selected");
    Array.prototype.forEach.call(svg.querySelectorAll(".edge"), function (p) {
      var k = p.getAttribute("data-flow");
      var f = k === null ? null : data.flows[+k];
      p.classList.toggle("hot", !!f && (f.from === n.address || f.to === n.address));
    });
    Array.prototype.forEach.call(document.querySelectorAll("#endpoint-table tbody tr"), function (tr) {
      tr.classList.toggle("selected", tr.getAttribute("data-address") === n.address);
    });
    detail.textContent = "";
    detail.appendChild(el("h3", n.role));
    detail.appendChild(el("code", n.address, "addr"));
    if (n.labels) detail.appendChild(el("p", n.labels));
    else if (n.categories) detail.appendChild(el("p", n.categories));
    var eps = data.endpoints.filter(function (e) { return e.address === n.address; });
    if (eps.length) {
      detail.appendChild(el("h3", "As an endpoint"));
      var ul = el("ul");
      eps.forEach(function (e) {
        ul.appendChild(el("li", "#" + e.rank + " " + e.kind + ": " + e.amount + " (score " + e.score.toFixed(4) + ")"));
      });
      detail.appendChild(ul);
    }
    [["Taint in", function (f) { return f.to === n.address; }, "from"],
     ["Taint out", function (f) { return f.from === n.address; }, "to"]].forEach(function (side) {
      var fs = data.flows.filter(side[1]);
      detail.appendChild(el("h3", side[0] + " (" + fs.length + ")"));
      var ul = el("ul", null, "movements");
      fs.slice(0, 200).forEach(function (f) {
        var li = el("li");
        li.appendChild(el("span", f.amount + " " + side[2] + " "));
        li.appendChild(el("code", f[side[2]]));
        li.appendChild(el("span", " (" + f.transfers + " transfer" + (f.transfers === 1 ? "" : "s") +
          ", blocks " + f.first_block + "-" + f.last_block + ")", "tx"));
        ul.appendChild(li);
      });
      if (fs.length > 200) ul.appendChild(el("li", "... and " + (fs.length - 200) + " more"));
      detail.appendChild(ul);
    });
  }
  Array.prototype.forEach.call(svg.querySelectorAll(".node"), function (g) {
    var i = +g.getAttribute("data-node");
    g.addEventListener("click", function () { if (!(drag && drag.moved)) select(i); });
    g.addEventListener("keydown", function (ev) { if (ev.key === "Enter") select(i); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("#endpoint-table tbody tr"), function (tr) {
    tr.addEventListener("click", function () {
      var a = tr.getAttribute("data-address");
      for (var i = 0; i < data.nodes.length; i++) if (data.nodes[i].address === a) { select(i); break; }
    });
  });
})();
