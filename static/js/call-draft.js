// The call screen keeps what the nurse types (issue 17, "nothing typed is lost";
// docs/forms.md). The forms marked data-draft-part (the dial form and the script
// with the outcome) are sent to the server as her draft shortly after she stops
// typing (calls:call_draft); the page shows them again when she comes back.
//
// Until the server has them (no connection, logged out, or sent with a form as
// the page left), they are kept in this browser's localStorage, and only then:
// the copy is removed as soon as the server has the same typing, once a form
// that closed the call was accepted (the next page names it in <body
// data-typing-sent>), or after a day. On load, a kept copy newer than the
// server's draft is put back in the forms and sent.
//
// Loaded on every page (for the clean-up); it does the rest on the call screen.
(function () {
  "use strict";
  var PREFIX = "followup-draft:";
  var MAX_AGE_MS = 24 * 60 * 60 * 1000;
  var WAIT_MS = 800;
  var RETRY_MS = 15 * 1000;
  var body = document.body;
  var main = document.querySelector("[data-draft-url]");

  function storage() {
    try { return window.localStorage; } catch (error) { return null; }
  }

  function read(store, key) {
    try { return JSON.parse(store.getItem(key) || "null"); } catch (error) { return null; }
  }

  var store = storage();
  if (store) {
    var sent = (body.dataset.typingSent || "").split(" ").filter(Boolean).map(function (key) { return PREFIX + key; });
    var now = Date.now();
    for (var i = store.length - 1; i >= 0; i--) {
      var name = store.key(i);
      if (name && name.indexOf(PREFIX) === 0) {
        var old = read(store, name);
        if (sent.indexOf(name) !== -1 || !old || !(now - old.at < MAX_AGE_MS)) { store.removeItem(name); }
      }
    }
  }
  if (!main) { return; }

  var url = main.dataset.draftUrl;
  var key = PREFIX + main.dataset.draftKey;
  var serverTypedAt = parseInt(main.dataset.draftTypedAt || "0", 10);
  var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-draft-part]"));
  var status = document.getElementById("draft-status");
  var notice = document.getElementById("draft-notice");
  var seq = 0;
  var timer = null;
  var retry = null;
  var inFlight = null;
  var closed = false;

  function say(element, message, kind) {
    // Only a change is written: a live region reads out what it is given.
    if (!element) { return; }
    if (element.textContent !== message) { element.textContent = message; }
    element.dataset.kind = kind || "";
  }

  function fields(except) {
    var pairs = [];
    forms.forEach(function (form) {
      if (form === except) { return; }
      new FormData(form).forEach(function (value, field) {
        if (typeof value === "string") { pairs.push([field, value]); }
      });
    });
    return pairs;
  }

  function keepHere() {
    if (!store) { return; }
    try { store.setItem(key, JSON.stringify({ at: Date.now(), seq: seq, fields: fields() })); } catch (error) { /* full */ }
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
      // A form the server sent back with what she posted already shows her typing.
      if (form.hasAttribute("data-draft-bound")) { return; }
      Array.prototype.forEach.call(form.elements, function (element) {
        var field = element.name;
        if (!field || element.type === "hidden" || element.type === "submit" || element.type === "button") { return; }
        var given = values[field] || [];
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

  function payload() {
    var data = new URLSearchParams();
    fields(null).forEach(function (pair) { data.append(pair[0], pair[1]); });
    var entry = store ? read(store, key) : null;
    data.append("draft-typed_at", String(entry ? entry.at : Date.now()));
    return data;
  }

  function retryLater() {
    clearTimeout(retry);
    retry = setTimeout(save, RETRY_MS);
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
    var sentSeq = seq;
    inFlight = fetch(url, {
      method: "POST",
      body: payload(),
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok && !response.redirected) {
          forget(sentSeq);
          say(status, data.message || "");
          say(notice, "");
          document.dispatchEvent(new CustomEvent("followup:session-touched"));
          return true;
        }
        if (response.status === 401) {
          say(notice, notice.dataset.loggedOut, "problem");
        } else if (response.status === 409) {
          closed = true;  // the call is closed: nothing more to keep
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
    keepHere();
    clearTimeout(timer);
    timer = setTimeout(save, WAIT_MS);
  }

  forms.forEach(function (form) {
    form.addEventListener("input", typed);
    form.addEventListener("change", typed);
  });
  window.addEventListener("online", function () { if (store && store.getItem(key)) { save(); } });

  // A form of the page is being sent (the call's own, the language switch, log out): no
  // autosave races it. Typing the server has not got stays here: the next page drops it if
  // the form closed the call (data-typing-sent), and this call's screen puts it back
  // otherwise. The dial form's own fields are done with once it is sent: the copy keeps the
  // rest only (a refused dial comes back as she posted it anyway).
  Array.prototype.forEach.call(document.querySelectorAll('form[method="post"]'), function (form) {
    form.addEventListener("submit", function () {
      clearTimeout(timer);
      timer = null;
      var entry = store ? read(store, key) : null;
      if (entry && forms.indexOf(form) !== -1 && form !== main) {
        entry.fields = fields(form);
        try { store.setItem(key, JSON.stringify(entry)); } catch (error) { /* full */ }
      }
    });
  });

  // Back on the page: typing kept in this browser that the server never got is put back.
  var kept = store ? read(store, key) : null;
  if (kept && kept.at > serverTypedAt && Array.isArray(kept.fields)) {
    putBack(kept.fields);
    if (!document.querySelector("form[data-draft-bound]")) {
      var restored = document.getElementById("draft-restored");
      say(restored, restored.dataset.text);
    }
    seq = (kept.seq || 0) + 1;
    keepHere();
    save();
  } else {
    if (kept) { store.removeItem(key); }
    // The server sent a form back (refused) with what she posted: that is her latest typing.
    if (document.querySelector("form[data-draft-bound]")) { save(); }
  }
})();
