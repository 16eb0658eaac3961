// Dashboards: draw every <canvas data-chart="id"> from the JSON config in <script id="id">, again after htmx
// swaps; Bootstrap tooltips on glossary citations; errors of htmx requests shown instead of swallowed.
(function () {
  "use strict";

  function drawCharts(root) {
    if (typeof Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      var existing = Chart.getChart(canvas);
      if (existing) existing.destroy();
      new Chart(canvas, JSON.parse(source.textContent));
    });
  }

  function tooltips(root) {
    if (typeof bootstrap === "undefined") return;
    root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
      bootstrap.Tooltip.getOrCreateInstance(el);
    });
  }

  function init(root) {
    drawCharts(root);
    tooltips(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.detail.elt || document); });
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("dashboard-errors") || document.getElementById("renewal-errors");
    if (!box) return;
    var status = event.detail.xhr.status;
    var text = status === 403 ? "Those filters are outside what you may see." :
      status === 400 ? "Some filters were not understood." : "The request failed (" + status + "). Try again.";
    box.innerHTML = "";
    var alert = document.createElement("div");
    alert.className = "alert alert-warning";
    alert.textContent = text;
    box.appendChild(alert);
  });
})();
