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
          main.innerHTML = fresh.innerHTML;
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
