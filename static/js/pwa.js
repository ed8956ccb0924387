// A buddy's pages: install the service worker (static/js/sw.js, served as /sw.js). On Today,
// ask it to keep the page and its files at once, so the very first visit can be read later
// with no signal.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) {
    return;
  }
  window.addEventListener("load", function () {
    navigator.serviceWorker
      .register("/sw.js", { scope: "/" })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(function (registration) {
        if (!document.querySelector("[data-offline-kept]") || !registration.active) {
          return;
        }
        var files = [];
        document.querySelectorAll("link[rel=stylesheet], script[src]").forEach(function (node) {
          files.push(node.href || node.src);
        });
        registration.active.postMessage({ type: "keep-today", files: files });
      })
      .catch(function () {
        // No worker (a private window, an old phone): the pages work as before, online only.
      });
  });
})();
