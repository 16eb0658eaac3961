// Moved out of the template: the Content-Security-Policy allows no inline script.
(function () {
  const el = document.getElementById("health-chart-data");
  if (!el) return;
  const d = JSON.parse(el.textContent);
  const datasets = [{label: "Score", data: d.score, borderWidth: 3, borderColor: "#0d6efd", tension: 0.2}];
  d.measures.forEach(m => datasets.push({label: m.label + " (points)", data: m.points, borderWidth: 1, hidden: true, tension: 0.2}));
  new Chart(document.getElementById("health-chart"), {
    type: "line",
    data: {labels: d.labels, datasets: datasets},
    options: {scales: {y: {min: 0, max: 100}}, plugins: {legend: {position: "bottom", labels: {boxWidth: 10}}}}
  });
})();
