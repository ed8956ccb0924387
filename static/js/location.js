/*
 * Where the phone is, only when it matters (DESIGN §3). Loaded only on the help form and the
 * check-out form of a buddy who allowed sharing, and on their safety page.
 *
 * On a form marked data-share-location the submit waits for the phone's position (at most a
 * few seconds), puts it in the hidden fields and sends the form. If the position does not come
 * (no permission, no signal, too slow) the form is sent anyway: help is never held up.
 * Nothing here runs at any other time, and nothing is sent anywhere but with that form.
 */
(function () {
  "use strict";

  // The script may be included once per check-out form: set things up once.
  if (window.buddyLocationReady) {
    return;
  }
  window.buddyLocationReady = true;

  var WAIT_MS = 6000;

  function fill(form, position) {
    var coords = position.coords;
    form.elements.latitude.value = String(coords.latitude);
    form.elements.longitude.value = String(coords.longitude);
    form.elements.accuracy.value = String(Math.round(coords.accuracy));
  }

  function showSending(form) {
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.dataset.label = button.textContent;
      button.textContent = "Sending…";
      button.setAttribute("aria-disabled", "true");
    }
  }

  function sendWithPosition(event) {
    var form = event.currentTarget;
    if (form.hasAttribute("data-pressed")) {
      return; // offline-queue.js sending it again as a plain post, position and all
    }
    if (form.dataset.sending) {
      event.preventDefault(); // a second tap while we wait: the first one is on its way
      return;
    }
    if (!("geolocation" in navigator)) {
      return; // sent straight away, without a position
    }
    event.preventDefault();
    form.dataset.sending = "yes";
    showSending(form);
    var sent = false;
    function send() {
      if (!sent) {
        sent = true;
        if (window.buddySafetyPress && form.hasAttribute("data-safety-press")) {
          window.buddySafetyPress(form); // Today: sent now, or kept until there is signal
        } else {
          HTMLFormElement.prototype.submit.call(form);
        }
      }
    }
    var timer = window.setTimeout(send, WAIT_MS);
    function done() {
      window.clearTimeout(timer);
      send();
    }
    try {
      navigator.geolocation.getCurrentPosition(
        function (position) {
          fill(form, position);
          done();
        },
        done,
        { enableHighAccuracy: true, timeout: WAIT_MS - 1000, maximumAge: 60000 }
      );
    } catch (error) {
      done();
    }
  }

  // Back to a page kept in the browser's memory: the buttons work again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-share-location]").forEach(function (form) {
      delete form.dataset.sending;
      var button = form.querySelector("button[type=submit]");
      if (button && button.dataset.label) {
        button.textContent = button.dataset.label;
        button.removeAttribute("aria-disabled");
      }
    });
  });

  function setUpForms() {
    document.querySelectorAll("form[data-share-location]").forEach(function (form) {
      form.addEventListener("submit", sendWithPosition);
    });
  }

  // The safety page: let the buddy answer the phone's "allow location?" question at a calm
  // moment rather than when they need help. The position asked for here is never sent.
  function setUpCheck() {
    var box = document.querySelector("[data-location-check]");
    if (!box || !("geolocation" in navigator)) {
      return;
    }
    var status = box.querySelector("[data-location-status]");
    box.hidden = false;
    box.querySelector("button").addEventListener("click", function () {
      status.textContent = "Checking…";
      navigator.geolocation.getCurrentPosition(
        function () {
          status.textContent = "Yes: your phone allows it.";
        },
        function (error) {
          status.textContent =
            error.code === error.PERMISSION_DENIED
              ? "Your phone does not allow it. You can change this in your browser's settings for this website."
              : "Your phone could not tell where it is just now. Try again outside or near a window.";
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 }
      );
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      setUpForms();
      setUpCheck();
    });
  } else {
    setUpForms();
    setUpCheck();
  }
})();
