/* The error summary above a refused form (templates/followup/includes/_error_summary.html):
   on load the focus moves to it, so a screen reader reads it and the page shows it
   whatever its length; each link focuses its field (opening a closed <details> around
   it) and scrolls its label into view. Without JavaScript the links still jump. */
(function () {
  "use strict";

  function labelOf(field) {
    if (field.id) {
      var label = document.querySelector('label[for="' + CSS.escape(field.id) + '"]');
      if (label) {
        // A radio or checkbox group: the question is the group's legend or first label.
        var group = field.closest("fieldset, .mb-3");
        var heading = group && group.querySelector("legend, label.form-label");
        return heading || label;
      }
    }
    return field;
  }

  function focusField(id) {
    var field = document.getElementById(id);
    if (!field) {
      return false;
    }
    var details = field.closest("details");
    if (details && !details.open) {
      details.open = true;
    }
    labelOf(field).scrollIntoView({ block: "start", behavior: "instant" });
    field.focus({ preventScroll: true });
    return true;
  }

  var summary = document.querySelector("[data-error-summary]");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-field]");
    if (link && focusField(link.getAttribute("data-field"))) {
      event.preventDefault();
    }
  });
})();
