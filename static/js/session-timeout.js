// Warn before the session expires after inactivity, offer to stay logged in,
// and go to the log-in page once it has expired. Settings come from data-
// attributes on <body>, so there is no inline script (Content Security Policy).
//
// Typing counts as activity: a page's own requests (the call screen's autosave
// sends "followup:session-touched") restart the clock, and typing in any field
// pings the keep-alive at most once a minute. The warning is a polite status
// region fixed at the foot of the window (templates/base.html): it is read out
// and seen wherever she is, and never takes the focus from her field.
(function () {
  "use strict";
  var body = document.body;
  var timeout = parseInt(body.dataset.sessionTimeout || "0", 10);
  if (!timeout) { return; }
  var warnBefore = Math.min(120, Math.floor(timeout / 4));
  var PING_EVERY_MS = 60 * 1000;
  var warning = document.getElementById("session-warning");
  var text = document.getElementById("session-warning-text");
  var stay = document.getElementById("session-stay");
  var warnTimer, expireTimer;
  var lastTouched = Date.now();
  var pinging = false;

  function toLogin() {
    window.location.href = body.dataset.loginUrl + "?next=" + encodeURIComponent(window.location.pathname) +
      "&reason=inactive";
  }

  function showWarning(shown) {
    if (!warning) { return; }
    warning.dataset.shown = shown ? "true" : "false";
    if (stay) { stay.hidden = !shown; }
    // Filled in after the region is shown, so a screen reader announces the change.
    if (text) { text.textContent = shown ? text.dataset.text : ""; }
  }

  function schedule() {
    lastTouched = Date.now();
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    showWarning(false);
    warnTimer = setTimeout(function () { showWarning(true); }, (timeout - warnBefore) * 1000);
    expireTimer = setTimeout(toLogin, timeout * 1000);
  }

  function keepAlive(onOver) {
    pinging = true;
    return fetch(body.dataset.keepaliveUrl, { credentials: "same-origin" }).then(function (response) {
      // 204: the session lives on. Anything else (a redirect to the log-in page, or 401
      // once the session reached its maximum length) means it is over.
      if (response.status === 204 && !response.redirected) { schedule(); } else { onOver(); }
    }, function () { /* no connection: the clock runs on; the page says so where it matters */ })
      .then(function () { pinging = false; });
  }

  if (stay) {
    stay.addEventListener("click", function () { keepAlive(toLogin); });
  }

  function typed() {
    if (pinging || Date.now() - lastTouched < PING_EVERY_MS) { return; }
    // The session may already be over: then the expiry timer takes her to the log-in page.
    keepAlive(function () {});
  }

  document.addEventListener("input", typed, true);
  document.addEventListener("followup:session-touched", schedule);
  document.addEventListener("htmx:afterRequest", schedule);
  schedule();
})();
