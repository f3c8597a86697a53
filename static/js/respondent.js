/* The call outcome's family member fields (relation, name) show only when a
   family member answered, alone or with the patient: one stop less for the
   keyboard when only the patient spoke. Without JavaScript they are always
   shown, and the server ignores them when only the patient spoke. */
(function () {
  "use strict";

  var NAME = "outcome-answered_by";
  var FAMILY = ["family", "both"];
  var radios = document.querySelectorAll('input[name="' + NAME + '"]');
  if (!radios.length) {
    return;
  }
  var wrappers = ["outcome-family_member_relation", "outcome-family_member_name"]
    .map(function (name) {
      var field = document.querySelector('[name="' + name + '"]');
      return field && field.closest(".mb-3");
    })
    .filter(Boolean);

  function update() {
    var checked = document.querySelector('input[name="' + NAME + '"]:checked');
    var family = Boolean(checked) && FAMILY.indexOf(checked.value) !== -1;
    wrappers.forEach(function (wrapper) {
      wrapper.hidden = !family;
    });
  }

  radios.forEach(function (radio) {
    radio.addEventListener("change", update);
  });
  update();
})();
