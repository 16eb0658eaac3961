// Moved out of the template: the Content-Security-Policy allows no inline script.
  (function () {
    const data = JSON.parse(document.getElementById("usage-data").textContent);
    new Chart(document.getElementById("usage-chart"), {
      type: "line",
      data: { labels: data.labels, datasets: [
        { label: "DAU", data: data.dau, borderWidth: 2, pointRadius: 0 },
        { label: "MAU (rolling 30 days)", data: data.mau, borderWidth: 2, pointRadius: 0 },
      ] },
      options: { animation: false, interaction: { mode: "index", intersect: false }, scales: { y: { beginAtZero: true } } },
    });
  })();
