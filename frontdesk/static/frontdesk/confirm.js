/* Forms that ask before they send: <form data-confirm="Question?">. Without JavaScript they send straight away,
 * as the buttons say what they do. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
})();
