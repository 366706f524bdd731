// The service worker that makes the portal installable and open offline: it keeps the app shell (the page, its
// hashed scripts and styles, the manifest and icon) and never API answers, which hold personal data.
const SHELL = 'portal-shell-v1';

self.addEventListener('install', () => self.skipWaiting());

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== SHELL).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

/** Whether a request is part of the app shell (never the API, the WebSocket, exports or the server's own pages). */
function isShell(url, request) {
  if (url.origin !== self.location.origin || request.method !== 'GET') return false;
  if (url.pathname.startsWith('/assets/')) return true;
  if (['/manifest.webmanifest', '/icon.svg'].includes(url.pathname)) return true;
  // A feed under /o/ (`/o/<code>/calendar.ics`) is the server's, not a page of the app: never kept as the shell.
  if (url.pathname.endsWith('.ics')) return false;
  return request.mode === 'navigate' && (url.pathname === '/' || url.pathname.startsWith('/o/'));
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (!isShell(url, event.request)) return;
  if (event.request.mode === 'navigate') {
    // The page: from the network when it answers (so a new release shows at once), else the last one kept.
    event.respondWith(
      fetch(event.request)
        .then((response) => {
          const copy = response.clone();
          void caches.open(SHELL).then((cache) => cache.put('/', copy));
          return response;
        })
        .catch(() => caches.match('/').then((page) => page ?? Response.error())),
    );
    return;
  }
  // Hashed files never change: from the cache once kept.
  event.respondWith(
    caches.match(event.request).then(
      (kept) =>
        kept ??
        fetch(event.request).then((response) => {
          if (response.ok) {
            const copy = response.clone();
            void caches.open(SHELL).then((cache) => cache.put(event.request, copy));
          }
          return response;
        }),
    ),
  );
});
