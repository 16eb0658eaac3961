// Segment rule builder: edits the JSON rule tree in #id_rules (the form field the server validates) and asks
// htmx for a fresh live preview after every change. No framework; the whitelist comes from the server.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("segment-builder-data").textContent);
  const textarea = document.getElementById("id_rules");
  const root = document.getElementById("rule-builder");
  const form = document.getElementById("segment-form");
  const CUSTOM = "custom_fields__";
  const byKey = Object.fromEntries(data.catalog.map((f) => [f.key, f]));
  const MAX_DEPTH = 4;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    });
    (children || []).forEach((c) => c && node.appendChild(c));
    return node;
  }
  function select(options, value, onchange, attrs) {
    const s = el("select", Object.assign({ class: "form-select form-select-sm" }, attrs || {}));
    options.forEach((o) => {
      const opt = el("option", { value: o.value, text: o.label });
      if (Array.isArray(value) ? value.map(String).includes(String(o.value)) : String(o.value) === String(value)) opt.selected = true;
      s.appendChild(opt);
    });
    s.addEventListener("change", onchange);
    return s;
  }
  function specFor(key) {
    return key && key.startsWith(CUSTOM) ? byKey[CUSTOM] : byKey[key];
  }
  function choicesFor(key, spec) {
    if (key === "owner") return data.owners;
    if (key === "team") return data.teams;
    return spec.choices;
  }
  // A sensible starting value, so a new condition is valid at once where it can be (choices: the first one).
  function defaultValue(field, operator) {
    const spec = specFor(field);
    const choices = spec && choicesFor(field, spec);
    if (!choices || !choices.length || operator === "is_empty" || operator === "is_set") return null;
    const first = choices[0].value;
    return operator === "in" || operator === "not_in" ? [first] : first;
  }
  function changed() {
    textarea.value = JSON.stringify(state);
    if (window.htmx) window.htmx.trigger(form, "rules-changed");
  }

  function valueInput(cond, spec) {
    const op = cond.operator;
    if (op === "is_empty" || op === "is_set") return null;
    const choices = choicesFor(cond.field, spec);
    const multi = op === "in" || op === "not_in";
    if (choices && choices.length) {
      return select(choices, cond.value, (e) => {
        const picked = Array.from(e.target.selectedOptions).map((o) => o.value);
        cond.value = multi ? picked : picked[0];
        changed();
      }, multi ? { multiple: "multiple", "aria-label": "Values" } : { "aria-label": "Value" });
    }
    if (op === "between") {
      const v = Array.isArray(cond.value) ? cond.value : ["", ""];
      const mk = (i) => el("input", { class: "form-control form-control-sm", type: "number", value: v[i] ?? "", "aria-label": i ? "To" : "From",
        oninput: (e) => { v[i] = e.target.value; cond.value = v; changed(); } });
      return el("div", { class: "d-flex gap-1" }, [mk(0), mk(1)]);
    }
    const shown = Array.isArray(cond.value) ? cond.value.join(", ") : (cond.value ?? "");
    return el("input", { class: "form-control form-control-sm", type: spec.kind === "number" ? "number" : "text", value: shown,
      placeholder: multi ? "comma, separated" : "value", "aria-label": "Value",
      oninput: (e) => { cond.value = multi ? e.target.value.split(",").map((s) => s.trim()).filter(Boolean) : e.target.value; changed(); } });
  }

  function renderCondition(cond, parent, index) {
    const spec = specFor(cond.field) || data.catalog[0];
    const fieldOptions = data.catalog.map((f) => ({ value: f.key, label: f.label }));
    const fieldSel = select(fieldOptions, cond.field && cond.field.startsWith(CUSTOM) ? CUSTOM : cond.field, (e) => {
      cond.field = e.target.value;
      cond.operator = specFor(cond.field).operators[0].key;
      cond.value = defaultValue(cond.field, cond.operator);
      changed(); render();
    }, { "aria-label": "Field" });
    const parts = [el("div", { class: "col-md-3" }, [fieldSel])];
    if (spec.key === CUSTOM) {
      parts.push(el("div", { class: "col-md-2" }, [el("input", { class: "form-control form-control-sm", placeholder: "key", "aria-label": "Custom field key",
        value: cond.field.slice(CUSTOM.length), oninput: (e) => { cond.field = CUSTOM + e.target.value.trim(); changed(); } })]));
    }
    parts.push(el("div", { class: "col-md-2" }, [select(spec.operators.map((o) => ({ value: o.key, label: o.label })), cond.operator, (e) => {
      cond.operator = e.target.value; cond.value = defaultValue(cond.field, cond.operator); changed(); render();
    }, { "aria-label": "Operator" })]));
    const input = valueInput(cond, spec);
    parts.push(el("div", { class: "col" }, input ? [input] : []));
    parts.push(el("div", { class: "col-auto" }, [el("button", { type: "button", class: "btn btn-sm btn-outline-danger", "aria-label": "Remove condition", text: "×",
      onclick: () => { parent.conditions.splice(index, 1); changed(); render(); } })]));
    return el("div", { class: "row g-1 mb-1 align-items-start", "data-testid": "rule-condition" }, parts);
  }

  function renderGroup(group, depth, parent, index) {
    const body = el("div", { class: "ps-2" });
    group.conditions.forEach((child, i) => {
      body.appendChild(child.conditions ? renderGroup(child, depth + 1, group, i) : renderCondition(child, group, i));
    });
    const first = data.catalog[0];
    const tools = el("div", { class: "d-flex gap-1 mt-1" }, [
      el("button", { type: "button", class: "btn btn-sm btn-outline-primary", text: "+ condition",
        onclick: () => { group.conditions.push({ field: first.key, operator: first.operators[0].key, value: defaultValue(first.key, first.operators[0].key) }); changed(); render(); } }),
      depth < MAX_DEPTH ? el("button", { type: "button", class: "btn btn-sm btn-outline-secondary", text: "+ group",
        onclick: () => { group.conditions.push({ op: "or", conditions: [] }); changed(); render(); } }) : null,
      parent ? el("button", { type: "button", class: "btn btn-sm btn-link text-danger", text: "remove group",
        onclick: () => { parent.conditions.splice(index, 1); changed(); render(); } }) : null,
    ]);
    const head = el("div", { class: "d-flex align-items-center gap-2 mb-1" }, [
      el("span", { class: "small text-muted", text: "Match" }),
      select([{ value: "and", label: "ALL of (AND)" }, { value: "or", label: "ANY of (OR)" }], group.op, (e) => { group.op = e.target.value; changed(); },
        { class: "form-select form-select-sm w-auto", "aria-label": "Group operator" }),
    ]);
    return el("div", { class: "border rounded p-2 mb-1" + (depth > 1 ? " bg-light" : ""), "data-testid": "rule-group" }, [head, body, tools]);
  }

  let state;
  function load() {
    try { state = JSON.parse(textarea.value || "{}"); } catch (e) { state = {}; }
    if (!state || !Array.isArray(state.conditions)) state = { op: "and", conditions: state && state.field ? [state] : [] };
  }
  function render() {
    root.replaceChildren(renderGroup(state, 1, null, 0));
  }
  document.getElementById("rules-load").addEventListener("click", () => { load(); render(); changed(); });
  load();
  render();
})();
