// Survey results charts: data from the page's json_script (no inline script, see docs/security.md).
(function () {
  const source = document.getElementById("survey-chart");
  const trend = document.getElementById("trend-chart");
  if (!source || !trend || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const colors = {low: "#dc3545", mid: "#ffc107", high: "#198754"};
  new Chart(trend, {type: "line", data: {labels: data.trend.labels,
    datasets: [{label: trend.dataset.label, data: data.trend.scores, borderColor: "#0d6efd", tension: 0.2, spanGaps: true}]},
    options: {plugins: {legend: {display: false}}}});
  new Chart(document.getElementById("dist-chart"), {type: "bar", data: {labels: data.distribution.labels,
    datasets: [{label: "Answers", data: data.distribution.counts, backgroundColor: data.distribution.bands.map(function (b) { return colors[b]; })}]},
    options: {plugins: {legend: {display: false}}, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}});
})();
