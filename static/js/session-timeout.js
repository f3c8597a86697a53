// Warn before the session expires after inactivity, offer to stay logged in,
// and go to the log-in page once it has expired. Settings come from data-
// attributes on <body>, so there is no inline script (Content Security Policy).
(function () {
  "use strict";
  var body = document.body;
  var timeout = parseInt(body.dataset.sessionTimeout || "0", 10);
  if (!timeout) { return; }
  var warnBefore = Math.min(120, Math.floor(timeout / 4));
  var warning = document.getElementById("session-warning");
  var stay = document.getElementById("session-stay");
  var warnTimer, expireTimer;

  function toLogin() {
    window.location.href = body.dataset.loginUrl + "?next=" + encodeURIComponent(window.location.pathname);
  }

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    if (warning) { warning.hidden = true; }
    warnTimer = setTimeout(function () {
      if (warning) { warning.hidden = false; if (stay) { stay.focus(); } }
    }, (timeout - warnBefore) * 1000);
    expireTimer = setTimeout(toLogin, timeout * 1000);
  }

  if (stay) {
    stay.addEventListener("click", function () {
      fetch(body.dataset.keepaliveUrl, { credentials: "same-origin" }).then(function (response) {
        // 204: the session lives on. Anything else (a redirect to the log-in page, or 401
        // once the session reached its maximum length) means it is over.
        if (response.status === 204 && !response.redirected) { schedule(); } else { toLogin(); }
      });
    });
  }
  document.addEventListener("htmx:afterRequest", schedule);
  schedule();
})();
