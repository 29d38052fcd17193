// 搜索建议: titles from /api/suggest under the search box. Text only (textContent), never HTML.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var box = document.getElementById("suggestions");
  if (!input || !box || !window.fetch) return;
  var timer = null, seq = 0;

  function clear() { box.textContent = ""; input.setAttribute("aria-expanded", "false"); }

  function show(items) {
    clear();
    if (!items.length) return;
    var ul = document.createElement("ul");
    ul.setAttribute("aria-label", "搜索建议");
    items.forEach(function (s) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "/?q=" + encodeURIComponent(s.title);
      a.textContent = s.title;
      li.appendChild(a);
      ul.appendChild(li);
    });
    box.appendChild(ul);
    input.setAttribute("aria-expanded", "true");
  }

  function selectedSites() {
    var select = document.getElementById("site");
    return select && select.value ? "&site=" + encodeURIComponent(select.value) : "";
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var prefix = input.value.trim();
    if (!prefix) { clear(); return; }
    timer = setTimeout(function () {
      var mine = ++seq;
      fetch("/api/suggest?size=8&prefix=" + encodeURIComponent(prefix.slice(0, 100)) + selectedSites())
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) { if (mine === seq) show(data.suggestions || []); })
        .catch(clear);
    }, 200);
  });

  input.addEventListener("keydown", function (e) {
    var first = box.querySelector("a");
    if (e.key === "ArrowDown" && first) { e.preventDefault(); first.focus(); }
    if (e.key === "Escape") clear();
  });
  box.addEventListener("keydown", function (e) {
    var links = Array.prototype.slice.call(box.querySelectorAll("a"));
    var i = links.indexOf(document.activeElement);
    if (e.key === "ArrowDown" && i < links.length - 1) { e.preventDefault(); links[i + 1].focus(); }
    if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? links[i - 1] : input).focus(); }
    if (e.key === "Escape") { clear(); input.focus(); }
  });
})();
