// Live pages: a change announced for this network reloads the page's content in place, without a reload.
// The browser's EventSource reconnects by itself and sends the last change it saw (Last-Event-ID), so the
// stream resumes after it and nothing is missed.
"use strict";
(function () {
  const main = document.querySelector("main[data-events]");
  if (!main || !window.EventSource) return;
  const status = document.getElementById("live");
  let busy = false;
  let again = false;

  // A form someone is filling in (focused, or a field changed from what the page gave it) survives a refresh:
  // a change arriving meanwhile must not wipe what they typed.
  function edited(form) {
    if (form.contains(document.activeElement)) return true;
    return Array.from(form.elements).some(function (field) {
      if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
      if (field.tagName === "SELECT") {
        return Array.from(field.options).some(function (option) { return option.selected !== option.defaultSelected; });
      }
      return field.type !== "hidden" && "defaultValue" in field && field.value !== field.defaultValue;
    });
  }

  // Forms are told apart by where they post and, among those posting to the same place, their order.
  function keyed(root) {
    const seen = {};
    const forms = {};
    root.querySelectorAll("form").forEach(function (form) {
      const action = form.getAttribute("action") || "";
      seen[action] = (seen[action] || 0) + 1;
      forms[action + "#" + seen[action]] = form;
    });
    return forms;
  }

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
        if (!response.ok) break;
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = page.querySelector("main");
        if (fresh) {
          const before = keyed(main);
          const kept = Object.keys(before).filter(function (key) { return edited(before[key]); });
          const focused = document.activeElement;
          main.innerHTML = fresh.innerHTML;
          const after = keyed(main);
          kept.forEach(function (key) { if (after[key]) after[key].replaceWith(before[key]); });
          if (focused && main.contains(focused)) focused.focus();
          main.dataset.seq = fresh.dataset.seq || main.dataset.seq;
        }
      } while (again);
    } finally {
      busy = false;
    }
  }

  function connect(url) {
    const source = new EventSource(url);
    source.addEventListener("open", function () { if (status) status.textContent = status.dataset.live; });
    source.addEventListener("error", function () {
      if (status) status.textContent = status.dataset.offline;
      // The browser retries by itself unless it gave up (an answer other than the stream); then start anew
      // from the last change this page showed.
      if (source.readyState === EventSource.CLOSED) {
        const base = main.dataset.events.split("?")[0];
        window.setTimeout(function () { connect(base + "?since=" + (main.dataset.seq || "0")); }, 2000);
      }
    });
    source.addEventListener("change", function (event) {
      main.dataset.seq = event.lastEventId;
      refresh();
    });
  }
  connect(main.dataset.events);
})();
