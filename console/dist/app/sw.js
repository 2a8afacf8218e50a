// The officer app's service worker (plan §1), written by hand: vite.app.config.ts fills
// in the precache list and its version at build time and emits it as /app/sw.js (served
// `no-cache`, so every update check revalidates it). It keeps the app shell — the page,
// its hashed scripts and styles, the manifest and icons — so the app opens with no
// signal. It must NEVER answer for /api/: API calls stay page requests (the browser's
// own network state applies to them, and no answer is ever served stale from a cache).
const VERSION = '80c080116058'
const PRECACHE = ["/app/assets/Address-D9_FY3NO.css","/app/assets/Address-D_NleyNr.js","/app/assets/Apply-CXWv0KCY.js","/app/assets/Apply-ZOttaW1N.css","/app/assets/Conflict-BLPnuroC.css","/app/assets/Conflict-CCT9yn29.js","/app/assets/FieldEditor-CQk84QGR.js","/app/assets/FieldEditor-H_zkvdwo.css","/app/assets/Household-BDbkXDRX.css","/app/assets/Household-U-o3eBIy.js","/app/assets/Households-CMrSBsoy.js","/app/assets/Households-DDVTvH4c.css","/app/assets/Login-CPbLZlPu.js","/app/assets/Login-DLyHCl0F.css","/app/assets/Measure-BqOnIPew.css","/app/assets/Measure-CbKGNGfH.js","/app/assets/MemberAdd-CRPiiKdW.js","/app/assets/MemberAdd-CVkPLR2w.css","/app/assets/MemberRemove-B4hcVSGL.css","/app/assets/MemberRemove-BallOpx6.js","/app/assets/Outbox-BXAsEGBi.css","/app/assets/Outbox-CFvfPHLG.js","/app/assets/Record-DE4jE-NN.css","/app/assets/Record-I_upv0z-.js","/app/assets/SyncBar-DS5afrxt.css","/app/assets/SyncBar-DfVbYRl6.js","/app/assets/Task-kvHuSINg.js","/app/assets/Task-wxZTwgNL.css","/app/assets/VisitLog-C_5n6AI3.css","/app/assets/VisitLog-V4LJnPJ_.js","/app/assets/VisitPhotos-BJbA7NxE.js","/app/assets/VisitPhotos-BbrdriQf.css","/app/assets/_plugin-vue_export-helper-BDNMzG2s.js","/app/assets/check-Cvalv6RQ.js","/app/assets/dexie-R7wFpUgV.js","/app/assets/index-BWugo3r0.js","/app/assets/index-LUWRH6ct.css","/app/assets/masks-BcGuR7is.js","/app/assets/members-DoiZXZKs.js","/app/assets/picker-DYE9vBq0.js","/app/assets/vant-BusjMd6F.js","/app/assets/vant-CwGZwwMF.css","/app/assets/vue-Cyy1Nc-S.js","/app/icon-192.png","/app/icon-512.png","/app/icon.svg","/app/index.html","/app/manifest.webmanifest"]
const CACHE = 'jz-app-' + VERSION
const INDEX = '/app/index.html'

self.addEventListener('install', (event) => {
  // No skipWaiting here: a new version waits until the app asks for it (a later slice
  // shows 「有新版本」 when no edit is open).
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })))),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('jz-app-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  )
})

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting()
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  // Only the app's own files; /api/ and everything else go to the network untouched.
  if (url.origin !== self.location.origin || !url.pathname.startsWith('/app/')) return
  if (request.mode === 'navigate') {
    // Every page of the app is the same index.html (the router reads the path).
    event.respondWith(
      caches.match(INDEX, { cacheName: CACHE }).then((hit) => hit || fetch(request)),
    )
    return
  }
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(request).then(
        (hit) =>
          hit ||
          fetch(request).then((response) => {
            if (response.ok) cache.put(request, response.clone())
            return response
          }),
      ),
    ),
  )
})

// Chromium's Background Sync: the app registers `outbox` after an edit made offline; when
// the network returns the browser fires this, and an open app syncs. The outbox itself
// runs only in the page (one implementation, one lock), so with no window open this does
// nothing and the app syncs when it next starts.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'outbox') return
  event.waitUntil(
    self.clients.matchAll({ type: 'window' }).then((windows) => windows.forEach((w) => w.postMessage({ type: 'flush' }))),
  )
})
