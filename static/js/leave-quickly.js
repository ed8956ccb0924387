// "Leave quickly": swap this page for a neutral one at once, replacing it in the history so
// Back does not bring it back. Without JavaScript the button is an ordinary link.
(function () {
  "use strict";
  var link = document.querySelector("[data-leave-quickly]");
  if (!link) {
    return;
  }
  function leave(event) {
    if (event) {
      event.preventDefault();
    }
    // Hide the page first: the next one may take a moment to arrive.
    document.documentElement.style.visibility = "hidden";
    document.title = "Weather";
    window.location.replace(link.href);
  }
  link.addEventListener("click", leave);
  // Esc twice within a second does the same, for a keyboard.
  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var now = Date.now();
    if (now - lastEscape < 1000) {
      leave(event);
    }
    lastEscape = now;
  });
})();
