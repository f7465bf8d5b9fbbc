// The calendar link's Copy button, shown only where scripts run. The Clipboard API needs a secure context
// (https or localhost); elsewhere the link is selected and copied the old way, or left selected to copy by hand.
(() => {
  "use strict";

  async function copy(field) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(field.value);
        return true;
      } catch (error) {
        // Permission refused: fall through to selecting the text.
      }
    }
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  for (const button of document.querySelectorAll("[data-copy-target]")) {
    const field = document.getElementById(button.dataset.copyTarget);
    const status = document.getElementById(button.dataset.copyStatus);
    if (!field) continue;
    field.addEventListener("focus", () => field.select());
    button.hidden = false;
    button.addEventListener("click", async () => {
      const copied = await copy(field);
      if (status) status.textContent = copied ? "Link copied." : "Select the link and copy it.";
    });
  }
})();
