// Moved out of the template: the Content-Security-Policy allows no inline script.
// Show only the settings of the chosen condition type.
(function () {
  const byType = JSON.parse(document.getElementById("params-by-type").textContent);
  const select = document.getElementById("id_condition_type");
  function sync() {
    const wanted = new Set(byType[select.value] || []);
    if (select.value === "segment_entered" || select.value === "segment_left") wanted.add("condition_segment");
    document.querySelectorAll("[data-param]").forEach((el) => { el.hidden = !wanted.has(el.dataset.param); });
  }
  select.addEventListener("change", sync);
  sync();
})();
