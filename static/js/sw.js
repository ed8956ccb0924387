// The buddy app's service worker, served as /sw.js (buddyscheme/pwa.py) so it covers /today/.
//
// What it keeps, so Today can be read with no signal:
//  - files under /static/ (their names change with their content), kept as first fetched;
//  - the buddy's own Today page, and only when the server marked it "Buddy-Offline: keep"
//    (a buddy's Today, never a coordinator's page). Fetched fresh whenever there is signal;
//    the kept copy is shown only when the network fails, with a banner saying so.
// It keeps nothing else: no other page, no POST, nothing from another site. Signing in or out
// on this phone empties what it kept (a shared phone must not show the last person's day).
//
// Presses made with no signal are not queued here but by the page (static/js/offline-queue.js),
// which can tell the buddy at once what happened to their press.
"use strict";

var CACHE = "buddy-v1";
var TODAY = "/today/";
var KEEP_HEADER = "Buddy-Offline";

function forget() {
  return caches.keys().then(function (names) {
    return Promise.all(
      names.map(function (name) {
        return caches.delete(name);
      })
    );
  });
}

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (names) {
        return Promise.all(
          names
            .filter(function (name) {
              return name !== CACHE;
            })
            .map(function (name) {
              return caches.delete(name);
            })
        );
      })
      .then(function () {
        return self.clients.claim();
      })
  );
});

// The rules, as plain functions of a request (tests read them through the browser).
function sameSite(url) {
  return url.origin === self.location.origin;
}

function signsInOrOut(request, url) {
  return (
    request.method === "POST" &&
    sameSite(url) &&
    (url.pathname === "/accounts/logout/" || url.pathname === "/accounts/login/")
  );
}

function isStatic(request, url) {
  return request.method === "GET" && sameSite(url) && url.pathname.indexOf("/static/") === 0;
}

// A page the kept Today may stand in for when there is no signal: Today, and the help page a
// Today button leads to (whose offline panel the page script then opens).
function mayShowKeptToday(request, url) {
  return (
    request.method === "GET" &&
    request.mode === "navigate" &&
    sameSite(url) &&
    (url.pathname === TODAY || /^\/meetings\/\d+\/help\/$/.test(url.pathname))
  );
}

function mayKeep(url, response) {
  return (
    url.pathname === TODAY &&
    response.ok &&
    !response.redirected &&
    response.headers.get(KEEP_HEADER) === "keep"
  );
}

function withOfflineBanner(kept) {
  return kept.text().then(function (html) {
    return new Response(html.replace("data-offline-kept hidden", "data-offline-kept"), {
      status: 200,
      headers: {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": kept.headers.get("Content-Security-Policy") || "",
      },
    });
  });
}

function staticFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request).then(function (kept) {
      if (kept) {
        return kept;
      }
      return fetch(request).then(function (response) {
        if (response.ok) {
          cache.put(request, response.clone());
        }
        return response;
      });
    });
  });
}

function networkFirst(request, url) {
  return fetch(request)
    .then(function (response) {
      if (mayKeep(url, response)) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) {
          return cache.put(TODAY, copy);
        });
      }
      return response;
    })
    .catch(function (error) {
      return caches.match(TODAY).then(function (kept) {
        if (!kept) {
          throw error;
        }
        return withOfflineBanner(kept);
      });
    });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (signsInOrOut(request, url)) {
    event.waitUntil(forget()); // and the request goes on to the server as it is
    return;
  }
  if (isStatic(request, url)) {
    event.respondWith(staticFirst(request));
  } else if (mayShowKeptToday(request, url)) {
    event.respondWith(networkFirst(request, url));
  }
  // Anything else (every other page, every POST) goes to the network untouched.
});

// The page asks for Today and its files to be kept on a first visit, before this worker
// controlled it.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "keep-today") {
    return;
  }
  var files = (data.files || []).filter(function (file) {
    var url = new URL(file, self.location.href);
    return sameSite(url) && url.pathname.indexOf("/static/") === 0;
  });
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return Promise.all([
        cache.addAll(files),
        fetch(TODAY, { credentials: "same-origin" }).then(function (response) {
          if (mayKeep(new URL(response.url), response)) {
            return cache.put(TODAY, response);
          }
        }),
      ]);
    })
  );
});
