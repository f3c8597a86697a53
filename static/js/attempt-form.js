// The call screen's attempt form: the "other number" field only when "Another
// number" is chosen, the callback fields only when the result is "Asked to
// call back". Hidden fields leave the keyboard's path; without this script
// every field shows and the server ignores those that do not apply.
(function () {
  "use strict";
  var form = document.getElementById("attempt-form");
  if (!form) { return; }
  var result = form.querySelector("select[name='attempt-result']");
  var callback = form.querySelector(".attempt-callback");
  var other = form.querySelector(".attempt-other-number");

  function dialled() {
    var checked = form.querySelector("input[name='attempt-dialled']:checked");
    return checked ? checked.value : "";
  }

  function update() {
    if (callback && result) { callback.hidden = result.value !== "callback"; }
    if (other) { other.hidden = dialled() !== "other"; }
  }

  form.addEventListener("change", update);
  update();
})();
