/* The call screen's phases are <details> (templates/calls/call.html), open as the server
   sends them. On a small screen (below Bootstrap's lg, 992 px, where the two columns stack)
   the discharge record and the earlier calls fold on arrival, so the attempt and the script
   come first; one tap on their summary opens them. A link to something inside a folded
   phase (the bar's "Go to the outcome", the error summary, a skip link) opens the phase
   first. Without JavaScript every phase stays open. */
(function () {
  "use strict";

  var small = window.matchMedia("(max-width: 991.98px)");

  function openAround(element) {
    for (var node = element; node; node = node.parentElement) {
      if (node.tagName === "DETAILS" && !node.open) {
        node.open = true;
      }
    }
  }

  function targetOf(hash) {
    if (!hash || hash.length < 2) {
      return null;
    }
    try {
      return document.getElementById(decodeURIComponent(hash.slice(1)));
    } catch (error) {
      return null;
    }
  }

  if (small.matches) {
    var arrivedAt = targetOf(window.location.hash);
    document.querySelectorAll("details[data-collapse-small]").forEach(function (details) {
      // Never fold what the address points into.
      if (!(arrivedAt && details.contains(arrivedAt))) {
        details.open = false;
      }
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('a[href^="#"]');
    var target = link && targetOf(link.getAttribute("href"));
    if (target) {
      openAround(target);
    }
  });

  window.addEventListener("hashchange", function () {
    var target = targetOf(window.location.hash);
    if (target) {
      openAround(target);
    }
  });
})();
