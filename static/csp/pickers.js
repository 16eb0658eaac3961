// Searchable pickers (Tom Select, served from node_modules): every multi-select becomes a type-to-filter control
// with removable chips, and a select marked data-account-picker="<url>" searches accounts on the server as you
// type (a select of every account would not scale). Applied on page load and to content htmx swaps in.
(function () {
  function accountPicker(el) {
    var url = el.getAttribute("data-account-picker");
    return new TomSelect(el, {
      valueField: "id",
      labelField: "name",
      searchField: ["name", "domain"],
      allowEmptyOption: true,
      maxOptions: 20,
      loadThrottle: 200,
      shouldLoad: function (query) { return query.length >= 1; },
      load: function (query, callback) {
        fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(query), {
          headers: { Accept: "application/json" }, credentials: "same-origin",
        }).then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) { callback(data.results); })
          .catch(function () { callback(); });
      },
      render: {
        option: function (item, escape) {
          return "<div><div>" + escape(item.name) + "</div>" +
            (item.domain ? "<div class=\"small text-muted\">" + escape(item.domain) + "</div>" : "") + "</div>";
        },
        no_results: function () { return "<div class=\"no-results small text-muted p-2\">No account matches</div>"; },
      },
    });
  }

  function enhance(root) {
    if (typeof TomSelect === "undefined") return;
    root.querySelectorAll("select[data-account-picker]").forEach(function (el) {
      if (!el.tomselect) accountPicker(el);
    });
    root.querySelectorAll("select[multiple]:not([data-no-picker])").forEach(function (el) {
      if (!el.tomselect) new TomSelect(el, { plugins: ["remove_button"], hidePlaceholder: true, maxOptions: null });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (e) { enhance(e.target); });
})();
