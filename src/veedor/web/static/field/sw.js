/* The field app's service worker: keeps the app's own files (never anyone's data) so that it
   opens and works with no signal. Pages and the election's config: network first, the kept copy
   offline. Everything else under /api/ is never cached. Its cache is named by the app's version
   (set by the server), so a new veedor replaces every file at the next visit online. */
'use strict';
const CACHE = 'veedor-field-__VERSION__';
const CONFIG = '/api/field/v1/config';
const SHELL = [
  '/', CONFIG, '/manifest.webmanifest',
  '/static/field/app.js', '/static/field/app.css',
  '/static/field/icon.svg', '/static/field/icon-192.png', '/static/field/icon-512.png',
  '/static/field/vendor/zxing-wasm/reader.js', '/static/field/vendor/zxing-wasm/zxing_reader.wasm',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('veedor-field-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function networkFirst(request, key) {
  return fetch(request).then((answer) => {
    if (answer.ok) {
      const copy = answer.clone();
      caches.open(CACHE).then((cache) => cache.put(key, copy));
    }
    return answer;
  }).catch(() => caches.match(key).then((kept) => kept || Response.error()));
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') { event.respondWith(networkFirst(request, '/')); return; }
  if (url.pathname === CONFIG || url.pathname === '/manifest.webmanifest') {
    event.respondWith(networkFirst(request, url.pathname));
    return;
  }
  if (url.pathname.startsWith('/api/')) return; // a witness's answers are never kept
  event.respondWith(caches.match(url.pathname).then((kept) => kept || fetch(request)));
});
