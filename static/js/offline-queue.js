// Today's safety buttons with no signal (check in, more time, check out, help).
//
// A press is sent with fetch. If it cannot leave the phone it is saved here (localStorage:
// the page, not the service worker, so the buddy is told at once and the browser's offline
// mode is what a phone does) with the time the phone says it was pressed, and sent when the
// signal returns: on the "online" event, when Today is opened, and every 30 seconds. An item
// is removed only once the server has answered it (2xx, or a redirect other than to sign in).
// The same idempotency key goes every time, so a press that did arrive counts once.
// Without JavaScript the forms post as they always did.
(function () {
  "use strict";

  var STORE = "buddy-press-queue";
  var NOTE = "buddy-press-sent";
  var RETRY_MS = 30000;
  var SAVED = "Saved on your phone — will send when you have signal.";

  function load() {
    try {
      var items = JSON.parse(window.localStorage.getItem(STORE) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (error) {
      return [];
    }
  }

  function save(items) {
    try {
      if (items.length) {
        window.localStorage.setItem(STORE, JSON.stringify(items));
      } else {
        window.localStorage.removeItem(STORE);
      }
      return true;
    } catch (error) {
      return false; // storage full or refused: the caller tells the buddy to phone
    }
  }

  function add(item) {
    var items = load().filter(function (other) {
      return other.id !== item.id;
    });
    items.push(item);
    return save(items);
  }

  function remove(id) {
    save(
      load().filter(function (item) {
        return item.id !== id;
      })
    );
  }

  function clock(millis) {
    var at = new Date(millis);
    return ("0" + at.getHours()).slice(-2) + ":" + ("0" + at.getMinutes()).slice(-2);
  }

  function pageToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function fieldsOf(form, submitter) {
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string") {
        fields.push([name, value]);
      }
    });
    if (submitter && submitter.name) {
      fields.push([submitter.name, submitter.value]);
    }
    return fields;
  }

  function fieldValue(fields, name) {
    for (var i = 0; i < fields.length; i += 1) {
      if (fields[i][0] === name) {
        return fields[i][1];
      }
    }
    return "";
  }

  // One try. Resolves to "sent"; "network" (it never reached us); "unavailable" (a 5xx: the
  // server's own page says press again); "sign-in" or "refused" (kept, with the reason).
  function attempt(item) {
    var tokens = [pageToken(), fieldValue(item.fields, "csrfmiddlewaretoken")].filter(
      function (token, index, all) {
        return token && all.indexOf(token) === index;
      }
    );
    function post(index) {
      var body = new URLSearchParams();
      item.fields.forEach(function (pair) {
        if (pair[0] !== "csrfmiddlewaretoken" && pair[0] !== "device_at") {
          body.append(pair[0], pair[1]);
        }
      });
      body.append("csrfmiddlewaretoken", tokens[index] || "");
      body.append("device_at", String(item.deviceAt));
      return fetch(item.url, { method: "POST", body: body, credentials: "same-origin" }).then(
        function (response) {
          if (response.redirected && new URL(response.url).pathname.indexOf("/accounts/") === 0) {
            return "sign-in"; // the session has gone and this button has no safety token
          }
          if (response.ok) {
            return "sent";
          }
          if (response.status === 403 && index + 1 < tokens.length) {
            return post(index + 1); // a CSRF token from an older sign-in: the other one
          }
          return response.status >= 500 ? "unavailable" : "refused";
        },
        function () {
          return "network";
        }
      );
    }
    return post(0);
  }

  // Where the buddy is told: under the button they pressed, or the list at the top.
  function statusFor(form) {
    var box = form.nextElementSibling;
    if (!box || !box.hasAttribute("data-press-status")) {
      box = document.createElement("p");
      box.setAttribute("data-press-status", "");
      box.setAttribute("role", "status");
      box.className = "fs-5 fw-semibold border border-2 border-warning rounded p-2 mb-2";
      form.insertAdjacentElement("afterend", box);
    }
    return box;
  }

  function showWaiting() {
    var list = document.getElementById("press-queue");
    if (!list) {
      return;
    }
    var items = load();
    list.hidden = items.length === 0;
    var lines = list.querySelector("ul");
    lines.textContent = "";
    items.forEach(function (item) {
      var line = document.createElement("li");
      line.textContent =
        item.label +
        ", pressed at " +
        clock(item.deviceAt) +
        (item.problem ? ": " + item.problem : ": waiting for signal");
      lines.appendChild(line);
    });
  }

  var PROBLEMS = {
    "sign-in": "sign in to send it",
    refused: "it could not be sent. Press the button again, or phone us",
  };

  var flushing = false;

  function flush() {
    if (flushing || !load().length) {
      return;
    }
    flushing = true;
    var sentSome = false;
    function next() {
      var items = load().filter(function (item) {
        return !item.tried || item.tried < flushRound;
      });
      if (!items.length) {
        return Promise.resolve();
      }
      var item = items[0];
      return attempt(item).then(function (outcome) {
        if (outcome === "sent") {
          sentSome = true;
          remove(item.id);
          return next();
        }
        if (outcome === "network" || outcome === "unavailable") {
          return undefined; // still no signal (or the server is struggling): the rest wait too
        }
        item.tried = flushRound;
        item.problem = PROBLEMS[outcome];
        add(item);
        return next();
      });
    }
    flushRound += 1;
    next().then(function () {
      flushing = false;
      showWaiting();
      if (sentSome && !load().length) {
        try {
          window.sessionStorage.setItem(NOTE, "yes");
        } catch (error) {
          // the page still reloads to show where things stand
        }
        window.location.reload();
      }
    });
  }
  var flushRound = 0;

  function resubmit(form, submitter, deviceAt) {
    // The server has the press. The form goes again as a plain post with the same key, which
    // is counted once, so the buddy sees the server's own answer page.
    form.setAttribute("data-pressed", "");
    var extra = [["device_at", String(deviceAt)]];
    if (submitter && submitter.name) {
      extra.push([submitter.name, submitter.value]);
    }
    extra.forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    HTMLFormElement.prototype.submit.call(form);
  }

  function keep(form, item) {
    var box = statusFor(form);
    if (add(item)) {
      box.textContent = SAVED;
    } else {
      box.textContent =
        "Your phone could not save this. If you need help, call 999 or the number below.";
    }
    showWaiting();
    var button = form.querySelector("button[type=submit]");
    if (button && button.dataset.label) {
      button.textContent = button.dataset.label;
      button.removeAttribute("aria-disabled");
    }
    delete form.dataset.pressSending;
    delete form.dataset.sending; // location.js's own "on its way" mark
  }

  function press(form, submitter) {
    if (form.dataset.pressSending) {
      return; // a second tap while the first is on its way
    }
    var fields = fieldsOf(form, submitter);
    var item = {
      id: form.getAttribute("action") + "#" + fieldValue(fields, "key"),
      url: form.getAttribute("action"),
      label: form.getAttribute("data-safety-press"),
      fields: fields,
      deviceAt: Date.now(),
    };
    if (navigator.onLine === false) {
      keep(form, item);
      return;
    }
    form.dataset.pressSending = "yes";
    var button = form.querySelector("button[type=submit]");
    if (button && !button.dataset.label) {
      button.dataset.label = button.textContent;
    }
    if (submitter) {
      submitter.textContent = "Sending…";
    }
    attempt(item).then(function (outcome) {
      if (outcome === "network") {
        keep(form, item);
      } else {
        resubmit(form, submitter, item.deviceAt);
      }
    });
  }

  // location.js holds a check-out back for the phone's position, then hands it here.
  window.buddySafetyPress = function (form) {
    press(form, null);
  };

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-safety-press") || form.hasAttribute("data-pressed")) {
      return;
    }
    if (event.defaultPrevented) {
      return; // location.js has it, and hands it back through buddySafetyPress
    }
    event.preventDefault();
    press(form, event.submitter || null);
  });

  // "I need help" with no signal: say at once to phone, and keep the request to send later.
  function helpWithNoSignal(link) {
    var panel = document.getElementById("no-signal-help");
    if (!panel) {
      return false;
    }
    var key =
      window.crypto && window.crypto.randomUUID
        ? window.crypto.randomUUID().replace(/-/g, "")
        : String(Date.now()) + String(Math.random()).slice(2);
    var url = link.getAttribute("data-help-url");
    var item = {
      id: url + "#" + key,
      url: url,
      label: "Your request for help",
      fields: [
        ["key", key],
        ["safety_token", link.getAttribute("data-safety-token") || ""],
        ["csrfmiddlewaretoken", pageToken()],
      ],
      deviceAt: Date.now(),
    };
    var saved = add(item);
    panel.hidden = false;
    panel.querySelector("[data-help-saved]").hidden = !saved;
    var cancel = panel.querySelector("[data-help-cancel]");
    cancel.hidden = !saved;
    cancel.onclick = function () {
      remove(item.id);
      cancel.hidden = true;
      panel.querySelector("[data-help-saved]").textContent =
        "Your request for help will not be sent.";
      showWaiting();
    };
    showWaiting();
    panel.scrollIntoView();
    panel.querySelector("h2").focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-help-url]");
    if (link && navigator.onLine === false && helpWithNoSignal(link)) {
      event.preventDefault();
    }
  });

  function offlineBanner() {
    var banner = document.querySelector("[data-offline-now]");
    if (banner && !document.querySelector("[data-offline-kept]:not([hidden])")) {
      banner.hidden = navigator.onLine !== false;
    }
  }

  function start() {
    offlineBanner();
    showWaiting();
    // The kept Today shown in place of a help page that could not load (sw.js): open the panel.
    var asked = window.location.pathname.match(/^\/meetings\/(\d+)\/help\/$/);
    if (asked) {
      var link = document.querySelector('a[data-help-url="' + asked[0] + '"]');
      if (link) {
        helpWithNoSignal(link);
      }
    }
    try {
      if (window.sessionStorage.getItem(NOTE)) {
        window.sessionStorage.removeItem(NOTE);
        var note = document.getElementById("press-sent");
        if (note) {
          note.hidden = false;
        }
      }
    } catch (error) {
      // nothing to say
    }
    flush();
  }

  window.addEventListener("online", function () {
    offlineBanner();
    flush();
  });
  window.addEventListener("offline", offlineBanner);
  window.setInterval(flush, RETRY_MS);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
