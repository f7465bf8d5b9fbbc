/* Print buttons: hidden until this runs, since printing needs JavaScript; the browser's own Print works anyway. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
