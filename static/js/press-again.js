// The "please press again" page presses again by itself: the form carries the same
// idempotency key, so a press that did count is not counted twice. It gives up after a few
// tries and leaves the button (and the advice to call 999) to the buddy.
(function () {
  "use strict";
  var form = document.getElementById("press-again");
  var status = document.getElementById("press-again-status");
  if (!form || !status) return;
  var tries = parseInt(form.getAttribute("data-retry") || "0", 10);
  var most = parseInt(form.getAttribute("data-most") || "0", 10);
  if (!(tries < most)) return;
  var seconds = 5;
  function tick() {
    if (seconds <= 0) {
      status.textContent = "Trying again now…";
      form.submit();
      return;
    }
    status.textContent = "Trying again by itself in " + seconds + " seconds.";
    seconds -= 1;
    window.setTimeout(tick, 1000);
  }
  tick();
})();
