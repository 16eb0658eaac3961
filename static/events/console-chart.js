// Moved out of the template: the Content-Security-Policy allows no inline script.
  (function () {
    const data = JSON.parse(document.getElementById("received-data").textContent);
    const datasets = Object.entries(data.series).map(([label, values]) => ({ label, data: values }));
    new Chart(document.getElementById("received-chart"), {
      type: "bar",
      data: { labels: data.labels, datasets },
      options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });
  })();
