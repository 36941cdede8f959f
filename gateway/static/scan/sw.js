/* Service worker of the door app (served as /scan/sw.js, scope /scan).
 * Keeps the app shell and the last scanner bundle so the door works without a network.
 * Scans themselves are never cached: POSTs go straight to the network, and the app
 * queues admissions made offline in localStorage. */
const CACHE = 'tq-door-v4';
const SHELL = ['/scan', '/static/scan/door.js?v=3', '/static/scan/offline.js?v=3',
               '/static/scan/scan.css?v=3', '/static/csrf.js?v=3'];
// From npm (node_modules): cached when installed, but its absence must not stop the worker
// from keeping the shell, since manual entry works without it.
const DECODER = '/static/vendor/jsqr/jsQR.js?v=3';
const BOOTSTRAP = '/static/vendor/bootstrap/bootstrap.min.css?v=3';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(SHELL).then(() => Promise.all([DECODER, BOOTSTRAP]
      .map((url) => cache.add(url).catch(() => undefined)))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

function networkFirst(request) {
  return fetch(request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(request, copy));
    }
    return response;
  }).catch(() => caches.match(request, { ignoreVary: true, ignoreSearch: request.mode === 'navigate' })
    .then((hit) => hit || Response.error()));
}

function cacheFirst(request) {
  return caches.match(request).then((hit) => hit || networkFirst(request));
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (path.startsWith('/static/scan/') || path.startsWith('/static/vendor/')) {
    event.respondWith(cacheFirst(request));
  } else if (path === '/scan' || path === '/api/me' || path === '/api/scanner/events'
             || /^\/api\/events\/\d+\/scanner-bundle$/.test(path)) {
    event.respondWith(networkFirst(request));
  }
});
