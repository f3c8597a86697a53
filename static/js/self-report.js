// The self-report form keeps answers as the patient goes: a change posts the
// form with action=autosave (the server keeps what is valid so far), so a
// patient who closes the page finds their answers when they come back.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var timer = null;
  function save() {
    var data = new FormData(form);
    data.set("action", "autosave");
    fetch(window.location.pathname, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    }).catch(function () { /* the next change tries again; "Keep my answers" still works */ });
  }
  form.addEventListener("change", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 400);
  });
})();
