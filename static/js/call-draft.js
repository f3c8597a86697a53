// The call screen keeps what the nurse types (issue 17, "nothing typed is lost";
// docs/forms.md). The forms marked data-draft-part (the dial form and the script
// with the outcome) are sent to the server as her draft shortly after she stops
// typing (calls:call_draft); the page shows them again when she comes back.
//
// While the server cannot take them (no connection, logged out), they are kept
// in this browser's localStorage, and only then: the copy is removed as soon as
// the server has the same typing. On load, a kept copy newer than the server's
// draft is put back in the forms and sent. Copies older than a day are removed.
// Before any form of the page is sent, the draft is saved first, so a form sent
// after the session ended (the log-in page) loses nothing either.
(function () {
  "use strict";
  var main = document.querySelector("[data-draft-url]");
  var PREFIX = "followup-draft:";
  var MAX_AGE_MS = 24 * 60 * 60 * 1000;
  var WAIT_MS = 800;

  function storage() {
    try { return window.localStorage; } catch (error) { return null; }
  }

  function sweep(store) {
    var now = Date.now();
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf(PREFIX) === 0) {
        var entry = read(store, key);
        if (!entry || !(now - entry.at < MAX_AGE_MS)) { store.removeItem(key); }
      }
    }
  }

  function read(store, key) {
    try { return JSON.parse(store.getItem(key) || "null"); } catch (error) { return null; }
  }

  var store = storage();
  if (store) { sweep(store); }
  if (!main) { return; }

  var url = main.dataset.draftUrl;
  var key = PREFIX + main.dataset.draftKey;
  var serverTypedAt = parseInt(main.dataset.draftTypedAt || "0", 10);
  var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-draft-part]"));
  var status = document.getElementById("draft-status");
  var notice = document.getElementById("draft-notice");
  var retry = null;
  var seq = 0;
  var timer = null;
  var inFlight = null;
  var closed = false;

  function say(element, message, kind) {
    // Only a change is written: a live region re-reads what it is given.
    if (!element) { return; }
    if (element.textContent !== message) { element.textContent = message; }
    element.dataset.kind = kind || "";
  }

  function fields() {
    var pairs = [];
    forms.forEach(function (form) {
      new FormData(form).forEach(function (value, name) {
        if (typeof value === "string") { pairs.push([name, value]); }
      });
    });
    return pairs;
  }

  function keepHere(pairs) {
    if (!store) { return; }
    try { store.setItem(key, JSON.stringify({ at: Date.now(), seq: seq, fields: pairs })); } catch (error) { /* full */ }
  }

  function forget(uptoSeq) {
    if (!store) { return; }
    var entry = read(store, key);
    if (entry && entry.seq <= uptoSeq) { store.removeItem(key); }
  }

  function putBack(pairs) {
    var values = {};
    pairs.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    forms.forEach(function (form) {
      Array.prototype.forEach.call(form.elements, function (element) {
        var name = element.name;
        if (!name || element.type === "hidden" || element.type === "submit" || element.type === "button") { return; }
        var given = values[name] || [];
        if (element.type === "radio" || element.type === "checkbox") {
          element.checked = given.indexOf(element.value) !== -1;
        } else if (element.tagName === "SELECT") {
          Array.prototype.forEach.call(element.options, function (option) {
            option.selected = given.indexOf(option.value) !== -1;
          });
        } else {
          element.value = given.length ? given.shift() : "";
        }
      });
    });
  }

  function retryLater() {
    clearTimeout(retry);
    retry = setTimeout(save, 15000);
  }

  function save() {
    clearTimeout(timer);
    clearTimeout(retry);
    timer = null;
    if (closed) { return Promise.resolve(false); }
    if (inFlight) {
      // One request at a time: the next save starts when this one ends.
      return inFlight.then(function () { return save(); });
    }
    var sent = seq;
    var body = new URLSearchParams();
    fields().forEach(function (pair) { body.append(pair[0], pair[1]); });
    var entry = store ? read(store, key) : null;
    body.append("draft-typed_at", String(entry ? entry.at : Date.now()));
    inFlight = fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok && !response.redirected) {
          forget(sent);
          say(status, data.message || "");
          // A problem is over once saved; the note that typing was put back stays.
          if (notice && notice.dataset.kind === "problem") { say(notice, ""); }
          document.dispatchEvent(new CustomEvent("followup:session-touched"));
          return true;
        }
        if (response.status === 401) {
          say(notice, notice.dataset.loggedOut, "problem");
        } else if (response.status === 409) {
          // The call is closed: nothing more to keep.
          closed = true;
          forget(Infinity);
          say(notice, data.message || notice.dataset.failed, "problem");
        } else {
          say(notice, data.message || notice.dataset.failed, "problem");
          if (response.status >= 500) { retryLater(); }
        }
        return false;
      });
    }, function () {
      say(notice, notice.dataset.offline, "problem");
      retryLater();
      return false;
    }).then(function (saved) {
      inFlight = null;
      return saved;
    });
    return inFlight;
  }

  function typed() {
    seq += 1;
    keepHere(fields());
    clearTimeout(timer);
    timer = setTimeout(save, WAIT_MS);
  }

  window.addEventListener("online", function () { if (store && store.getItem(key)) { save(); } });
  forms.forEach(function (form) {
    form.addEventListener("input", typed);
    form.addEventListener("change", typed);
  });

  // Any form of the page (the call's own, the language switch, log out): the draft first.
  Array.prototype.forEach.call(document.querySelectorAll('form[method="post"]'), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.draftFlushed === "true" || (!timer && !(store && store.getItem(key)))) { return; }
      event.preventDefault();
      var submitter = event.submitter;
      var done = function () {
        form.dataset.draftFlushed = "true";
        if (form.requestSubmit) { form.requestSubmit(submitter || undefined); } else { form.submit(); }
      };
      // Sent either way after at most three seconds: a slow server must not hold the form back.
      Promise.race([save(), new Promise(function (resolve) { setTimeout(resolve, 3000); })]).then(done, done);
    });
  });

  // Back on the page: typing kept in this browser that the server never got is put back.
  var kept = store ? read(store, key) : null;
  if (kept && kept.at > serverTypedAt && Array.isArray(kept.fields)) {
    putBack(kept.fields);
    say(notice, notice.dataset.restored, "restored");
    seq = (kept.seq || 0) + 1;
    keepHere(fields());
    save();
  } else if (kept) {
    store.removeItem(key);
  }
})();
