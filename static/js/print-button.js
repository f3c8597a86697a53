/* A "Print" button ([data-print], hidden without JavaScript, where the browser's own
   print command does the same): shows it and prints the page with its print stylesheet. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
