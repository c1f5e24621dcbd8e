/* callscan dashboard: filter, sort and page the calls table; filters also come from the URL
   hash (#agent=A17&team=T1&type=complaint&flag=review&from=2024-11-01&to=2024-11-07&sort=tone
   &dir=asc&page=2). Filters and sort apply to every call, then the table shows one page of the
   calls that match: only that page's rows are in the document, so 10,000 calls stay quick. */
(function () {
  "use strict";
  var table = document.getElementById("calls-table");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var perPage = parseInt(table.getAttribute("data-page-rows"), 10) || 100;
  var matched = rows, page = 1;
  var fields = ["agent", "team", "type", "flag", "from", "to"];
  var controls = {};
  fields.forEach(function (f) { controls[f] = document.getElementById("f-" + f); });
  var pager = {
    prev: document.getElementById("p-prev"), next: document.getElementById("p-next"),
    page: document.getElementById("p-page"), pages: document.getElementById("p-pages")
  };

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

  function pages() { return Math.max(1, Math.ceil(matched.length / perPage)); }

  function show(n) {  /* put page n (from 1) of the matching calls in the table */
    page = Math.min(Math.max(1, n || 1), pages());
    var frag = document.createDocumentFragment();
    matched.slice((page - 1) * perPage, page * perPage).forEach(function (tr) { frag.appendChild(tr); });
    body.textContent = "";
    body.appendChild(frag);
    pager.page.textContent = String(page);
    pager.pages.textContent = String(pages());
    pager.prev.disabled = page <= 1;
    pager.next.disabled = page >= pages();
    document.documentElement.setAttribute("data-page", String(page));
    document.documentElement.setAttribute("data-pages", String(pages()));
  }

  function apply(n) {  /* filter every call (in the current order), then show page n */
    var v = {};
    fields.forEach(function (f) { v[f] = controls[f].value; });
    matched = rows.filter(function (tr) {
      var d = tr.dataset;
      if (v.agent && d.agent !== v.agent) return false;
      if (v.team && d.team !== v.team) return false;
      if (v.type && d.type !== v.type) return false;
      if (v.flag && (" " + d.flags + " ").indexOf(" " + v.flag + " ") < 0) return false;
      if (v.from && (!d.date || d.date < v.from)) return false;
      if (v.to && (!d.date || d.date > v.to)) return false;
      return true;
    });
    document.getElementById("shown").textContent = String(matched.length);
    document.documentElement.setAttribute("data-shown", String(matched.length));
    show(n);
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
    if (page > 1) parts.push("page=" + page);
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
  fields.forEach(function (f) { controls[f].addEventListener("change", function () { apply(1); toHash(); }); });
  table.tHead.addEventListener("click", function (ev) {
    var th = ev.target.closest ? ev.target.closest("th[data-key]") : null;
    if (!th) return;
    var dir = th.getAttribute("aria-sort") === "ascending" ? "desc" : "asc";
    sortBy(th.getAttribute("data-key"), dir);
    apply(1); toHash();
  });
  document.getElementById("f-clear").addEventListener("click", function () {
    fields.forEach(function (f) { controls[f].value = ""; });
    apply(1); toHash();
  });
  pager.prev.addEventListener("click", function () { show(page - 1); toHash(); });
  pager.next.addEventListener("click", function () { show(page + 1); toHash(); });
  if (p.sort) sortBy(p.sort, p.dir === "desc" ? "desc" : "asc");
  apply(parseInt(p.page, 10) || 1);
  document.documentElement.setAttribute("data-ready", "1");
  document.documentElement.setAttribute("data-ready-ms", String(Math.round(performance.now())));
})();
