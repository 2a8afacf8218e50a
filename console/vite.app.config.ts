// The officer app (issue 13): a second Vite project rooted at app/, served under /app/
// and built into dist/app/ — after the console, whose build empties dist/. It shares the
// console's generated API types (@api/schema) and nothing else: no Element Plus, no
// ECharts. The service worker is app/sw.js with the precache list filled in here, so
// its version changes exactly when a file of the shell changes and the build stays
// reproducible.
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig, loadEnv, type Plugin } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from 'unplugin-vue-components/resolvers'

const appDir = fileURLToPath(new URL('./app/', import.meta.url))

/** Emits sw.js from app/sw.js with every file of the build (and of app/public) to precache. */
function precacheServiceWorker(): Plugin {
  return {
    name: 'jingzhun-precache-sw',
    apply: 'build',
    generateBundle(_, bundle) {
      // index.html is emitted by Vite's own HTML plugin, which may run after this hook:
      // named here always, or the worker would precache everything but the page and
      // the app would not open without signal. Its content only names hashed assets,
      // so the version below still changes whenever it does.
      const names = [...new Set([...Object.keys(bundle), 'index.html', ...readdirSync(appDir + 'public')])].filter(
        (n) => n !== 'sw.js' && !n.endsWith('.map'),
      )
      names.sort()
      const version = createHash('sha256').update(names.join('\n')).digest('hex').slice(0, 12)
      const urls = names.map((n) => '/app/' + n)
      const template = readFileSync(appDir + 'sw.js', 'utf8')
      this.emitFile({
        type: 'asset',
        fileName: 'sw.js',
        source: template.replace('__PRECACHE__', JSON.stringify(urls)).replace('__VERSION__', version),
      })
    },
  }
}

export default defineConfig(({ mode }) => ({
  root: 'app',
  base: '/app/',
  plugins: [vue(), Components({ resolvers: [VantResolver({ importStyle: 'css' })], dts: false }), precacheServiceWorker()],
  resolve: { alias: { '@api': fileURLToPath(new URL('./src/api', import.meta.url)) } },
  build: {
    outDir: '../dist/app',
    emptyOutDir: true,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'vue', test: /node_modules[\\/](vue|@vue|vue-router)[\\/]/ },
            { name: 'vant', test: /node_modules[\\/](vant|@vant)[\\/]/ },
            { name: 'dexie', test: /node_modules[\\/]dexie[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: { '/api': loadEnv(mode, '.', 'JINGZHUN_').JINGZHUN_SERVER ?? 'http://127.0.0.1:8080' },
  },
}))
