// Small behaviours declared with data attributes, so templates need no inline script or on* handler: the
// Content-Security-Policy (docs/security.md) allows scripts from this server's files only.
(function () {
  // <form data-confirm="Delete?"> and <button data-confirm="..."> ask before submitting.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  }, true);
  // <select data-autosubmit> submits its form when changed (filters).
  document.addEventListener("change", function (event) {
    const el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
  });
  document.addEventListener("click", function (event) {
    const el = event.target.closest("[data-confirm-click], [data-action], [data-set-value], [data-select-all], [data-export-form]");
    if (!el) return;
    if (el.dataset.confirmClick && !window.confirm(el.dataset.confirmClick)) {
      event.preventDefault();
      return;
    }
    if (el.dataset.action === "print") window.print();
    if (el.dataset.action === "back" && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
    if (el.dataset.setValue) {
      const target = document.querySelector(el.dataset.setValue);
      if (target) target.value = el.dataset.value;
    }
    if (el.dataset.selectAll) {
      document.querySelectorAll(el.dataset.selectAll).forEach(function (c) { c.checked = el.checked; });
    }
    if (el.dataset.exportForm) {
      const form = document.getElementById(el.dataset.exportForm);
      if (form) el.href = el.dataset.exportBase + "?" + new URLSearchParams(new FormData(form)).toString();
    }
  });
})();
