/* The private link's "Copy link" button: shown only where the browser can copy (the Clipboard API needs https or
 * localhost); everywhere else the link stays in its field to be selected and copied by hand. */
(function () {
  "use strict";
  if (!navigator.clipboard) return;
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copyTarget);
    if (!field) return;
    button.classList.remove("d-none");
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(
        function () {
          button.textContent = "Copied";
        },
        function () {
          field.focus();
          field.select();
        }
      );
    });
  });
})();
