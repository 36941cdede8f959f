// Loaded first on every page: each state change our pages send to this origin carries
// the tq_csrf cookie's value in X-CSRF-Token (gateway/csrf.py checks both match).
// One wrapper around fetch, so no page's own API helper can forget the header.
"use strict";
(function () {
  const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
  const plainFetch = window.fetch.bind(window);

  function csrfToken() {
    const pair = document.cookie.split("; ").find((item) => item.startsWith("tq_csrf="));
    return pair ? decodeURIComponent(pair.slice("tq_csrf=".length)) : "";
  }

  window.fetch = function (input, init) {
    const options = Object.assign({}, init);
    const method = (options.method || (input instanceof Request ? input.method : "GET")).toUpperCase();
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (UNSAFE.has(method) && url.origin === location.origin) {
      const headers = new Headers(options.headers || (input instanceof Request ? input.headers : undefined));
      headers.set("X-CSRF-Token", csrfToken());
      options.headers = headers;
    }
    return plainFetch(input, options);
  };
})();
