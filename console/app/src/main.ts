// The officer app's entry: Vue with the router (Vant's components come per use through
// the resolver in vite.app.config.ts), the service worker that keeps the shell for days
// without signal, and the sync triggers. A browser without service workers still gets
// the app, online only.
import { createApp } from 'vue'
import App from './App.vue'
import { router } from './router'
import { startSyncing } from './sync/sync'

createApp(App).use(router).mount('#app')

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {
    // Insecure origin or private mode: the app still works while online.
  })
}
startSyncing()
