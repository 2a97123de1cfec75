"use strict";
(function () {
  function rowsOf(table) { return Array.prototype.slice.call(table.tBodies[0].rows); }
  function count(out, shown, all) { if (out) { out.textContent = shown + " of " + all + " shown"; } }

  // Copy buttons next to digests and pull commands.
  document.querySelectorAll("[data-copy]").forEach(function (el) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "copy";
    b.textContent = "Copy";
    b.setAttribute("aria-label", "Copy " + el.getAttribute("data-copy"));
    b.addEventListener("click", function () {
      var text = el.getAttribute("data-copy");
      var done = function () { b.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { b.textContent = "Select and copy"; });
      } else {
        var r = document.createRange();
        r.selectNodeContents(el);
        var s = window.getSelection();
        s.removeAllRanges();
        s.addRange(r);
        b.textContent = "Selected";
      }
    });
    el.insertAdjacentElement("afterend", b);
  });

  // Index: search by name, filter by OS and platform.
  var form = document.getElementById("filters");
  var images = document.getElementById("images");
  if (form && images) {
    form.hidden = false;
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    var q = document.getElementById("q"), os = document.getElementById("os"), arch = document.getElementById("arch");
    var platform = document.getElementById("platform");
    var out = document.getElementById("shown");
    var apply = function () {
      var needle = q.value.trim().toLowerCase(), shown = 0, rows = rowsOf(images);
      rows.forEach(function (r) {
        var ok = (!needle || (r.getAttribute("data-name") || "").toLowerCase().indexOf(needle) >= 0) &&
          (!os.value || r.getAttribute("data-os") === os.value) &&
          (!platform.value || r.getAttribute("data-platform") === platform.value) &&
          (!arch.value || (r.getAttribute("data-arch") || "").split(" ").indexOf(arch.value) >= 0);
        r.hidden = !ok;
        if (ok) { shown += 1; }
      });
      count(out, shown, rows.length);
    };
    [q, os, platform, arch].forEach(function (el) { el.addEventListener("input", apply); el.addEventListener("change", apply); });
    apply();
  }

  // Image pages: package search.
  document.querySelectorAll("form.pkg-filter").forEach(function (f) {
    f.hidden = false;
    f.addEventListener("submit", function (e) { e.preventDefault(); });
    var input = f.querySelector("input"), out = f.querySelector("output");
    var table = document.getElementById(input.getAttribute("data-filter"));
    var apply = function () {
      var needle = input.value.trim().toLowerCase(), shown = 0, rows = rowsOf(table);
      rows.forEach(function (r) {
        var ok = !needle || r.cells[0].textContent.toLowerCase().indexOf(needle) >= 0;
        r.hidden = !ok;
        if (ok) { shown += 1; }
      });
      count(out, shown, rows.length);
    };
    input.addEventListener("input", apply);
    apply();
  });

  // Sortable tables: a heading sorts by its column (numbers numerically).
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      var sort = function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        var key = function (r) {
          var c = r.cells[col];
          return c ? (c.hasAttribute("data-sort") ? c.getAttribute("data-sort") : c.textContent) : "";
        };
        var rows = rowsOf(table);
        rows.sort(function (a, b) {
          var x = key(a).trim(), y = key(b).trim(), num = /^-?[0-9]+(\.[0-9]+)?$/;
          var r = (num.test(x) && num.test(y)) ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
          return r * dir;
        });
        var body = table.tBodies[0];
        rows.forEach(function (r) { body.appendChild(r); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  });
}());
