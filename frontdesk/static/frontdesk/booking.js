/*
 * The booking buttons of the front desk calendar: "New booking" and "Find a free time" open in the side panel.
 *
 * They are plain links, so without JavaScript (or before the calendar has loaded) they open as pages.
 * Each booking fragment names itself in data-panel-title, which becomes the panel's heading.
 */
(function () {
  "use strict";

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-open-panel]");
    if (!link || !window.frontdeskOpenPanel || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    window.frontdeskOpenPanel(link.href, link.dataset.openPanel);
  });

  // A fresh dialog: the next step is finding the patient, so the search box gets the focus, once the panel
  // has finished opening (Bootstrap focuses the panel itself then). Not on touch screens: no surprise keyboard.
  function focusPatientSearch(body) {
    const search = body.querySelector("#book-q");
    if (!search || search.value || body.querySelector("[name=patient]:checked, .alert-danger")) return;
    if (window.matchMedia("(pointer: coarse)").matches) return;
    const panel = document.getElementById("panel");
    if (panel && panel.classList.contains("showing")) {
      panel.addEventListener("shown.bs.offcanvas", () => search.focus(), { once: true });
    } else {
      search.focus();
    }
  }

  document.addEventListener("htmx:afterSwap", (event) => {
    const body = event.detail.target;
    if (body.id !== "panel-body") return;
    const titled = body.querySelector("[data-panel-title]");
    const title = document.getElementById("panel-title");
    if (titled && title) title.textContent = titled.dataset.panelTitle;
    if (event.detail.requestConfig && event.detail.requestConfig.verb === "get") focusPatientSearch(body);
  });
})();
