// Global search: "/" (outside a text field) or Ctrl-K / Cmd-K focuses the navbar box; arrows move through the
// htmx dropdown, Enter opens the highlighted hit (or the full results page), Escape closes.
(function () {
  function box() { return document.getElementById("global-search"); }
  function dropdown() { return document.getElementById("search-dropdown"); }
  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  function links() { return Array.prototype.slice.call(dropdown().querySelectorAll("a.search-hit")); }
  function close() { var d = dropdown(); if (d) d.innerHTML = ""; }

  document.addEventListener("keydown", function (e) {
    var input = box();
    if (!input) return;
    var ctrlK = (e.ctrlKey || e.metaKey) && (e.key === "k" || e.key === "K");
    if (ctrlK || (e.key === "/" && !typing(document.activeElement) && !e.ctrlKey && !e.metaKey && !e.altKey)) {
      e.preventDefault();
      input.focus();
      input.select();
      return;
    }
    if (document.activeElement !== input && !dropdown().contains(document.activeElement)) return;
    var items = links();
    var current = items.indexOf(document.activeElement);
    if (e.key === "ArrowDown" && items.length) {
      e.preventDefault();
      items[Math.min(current + 1, items.length - 1)].focus();
    } else if (e.key === "ArrowUp" && items.length) {
      e.preventDefault();
      if (current <= 0) input.focus(); else items[current - 1].focus();
    } else if (e.key === "Escape") {
      close();
      input.blur();
    }
  });
  document.addEventListener("click", function (e) {
    var form = document.querySelector(".global-search");
    if (form && !form.contains(e.target)) close();
  });
})();
