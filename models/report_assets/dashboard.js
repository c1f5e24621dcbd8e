/* callscan dashboard: filter and sort the calls table; filters also come from the URL hash
   (#agent=A17&team=T1&type=complaint&flag=review&from=2024-11-01&to=2024-11-07&sort=tone&dir=asc). */
(function () {
  "use strict";
  var table = document.getElementById("calls-table");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var fields = ["agent", "team", "type", "flag", "from", "to"];
  var controls = {};
  fields.forEach(function (f) { controls[f] = document.getElementById("f-" + f); });

  function params() {
    var out = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      if (!part) return;
      var i = part.indexOf("=");
      var k = decodeURIComponent(i < 0 ? part : part.slice(0, i));
      out[k] = i < 0 ? "" : decodeURIComponent(part.slice(i + 1).replace(/\+/g, " "));
    });
    return out;
  }

  function apply() {
    var v = {};
    fields.forEach(function (f) { v[f] = controls[f].value; });
    var shown = 0;
    rows.forEach(function (tr) {
      var d = tr.dataset, ok = true;
      if (v.agent && d.agent !== v.agent) ok = false;
      if (v.team && d.team !== v.team) ok = false;
      if (v.type && d.type !== v.type) ok = false;
      if (v.flag && (" " + d.flags + " ").indexOf(" " + v.flag + " ") < 0) ok = false;
      if (v.from && (!d.date || d.date < v.from)) ok = false;
      if (v.to && (!d.date || d.date > v.to)) ok = false;
      tr.classList.toggle("hidden", !ok);
      if (ok) shown++;
    });
    document.getElementById("shown").textContent = String(shown);
    document.documentElement.setAttribute("data-shown", String(shown));
  }

  function sortBy(key, dir) {
    var th = table.querySelector('th[data-key="' + key + '"]');
    if (!th) return;
    var numeric = th.getAttribute("data-type") === "num";
    var idx = th.cellIndex;
    var sign = dir === "desc" ? -1 : 1;
    rows.sort(function (a, b) {
      var x = a.cells[idx].getAttribute("data-v"), y = b.cells[idx].getAttribute("data-v");
      if (numeric) {
        x = x === "" ? NaN : parseFloat(x); y = y === "" ? NaN : parseFloat(y);
        if (isNaN(x) && isNaN(y)) return 0;
        if (isNaN(x)) return 1;
        if (isNaN(y)) return -1;
        return sign * (x - y);
      }
      return sign * (x < y ? -1 : x > y ? 1 : 0);
    });
    rows.forEach(function (tr) { body.appendChild(tr); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === "desc" ? "descending" : "ascending");
    document.documentElement.setAttribute("data-sort", key + ":" + (dir || "asc"));
  }

  function toHash() {
    var parts = [];
    fields.forEach(function (f) {
      if (controls[f].value) parts.push(f + "=" + encodeURIComponent(controls[f].value));
    });
    var s = document.documentElement.getAttribute("data-sort");
    if (s) { var kd = s.split(":"); parts.push("sort=" + kd[0], "dir=" + kd[1]); }
    history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname);
  }

  var p = params();
  fields.forEach(function (f) {
    if (p[f] === undefined) return;
    var c = controls[f];
    if (c.tagName === "SELECT" && !Array.prototype.some.call(c.options, function (o) { return o.value === p[f]; })) {
      var o = document.createElement("option");
      o.value = p[f]; o.textContent = p[f]; c.appendChild(o);
    }
    c.value = p[f];
  });
  fields.forEach(function (f) { controls[f].addEventListener("change", function () { apply(); toHash(); }); });
  table.tHead.addEventListener("click", function (ev) {
    var th = ev.target.closest ? ev.target.closest("th[data-key]") : null;
    if (!th) return;
    var dir = th.getAttribute("aria-sort") === "ascending" ? "desc" : "asc";
    sortBy(th.getAttribute("data-key"), dir);
    toHash();
  });
  document.getElementById("f-clear").addEventListener("click", function () {
    fields.forEach(function (f) { controls[f].value = ""; });
    apply(); toHash();
  });
  if (p.sort) sortBy(p.sort, p.dir === "desc" ? "desc" : "asc");
  apply();
  document.documentElement.setAttribute("data-ready", "1");
})();
