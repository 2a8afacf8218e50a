// The console is built into dist/ with hashed file names (the server embeds it and
// serves /assets/* with a long cache). Element Plus components are imported where a
// template uses them (with their styles), not the whole library; the libraries go into
// their own chunks so a console change does not make browsers fetch them again.
import { defineConfig, loadEnv } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

export default defineConfig(({ mode }) => ({
  plugins: [vue(), Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false })],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'element-plus', test: /node_modules[\\/](element-plus|@element-plus|@vueuse|@floating-ui|async-validator|dayjs|lodash)/ },
            { name: 'echarts', test: /node_modules[\\/](echarts|zrender)/ },
            { name: 'vue', test: /node_modules[\\/](vue|@vue|vue-router|vue-i18n|@intlify)[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    // `npm run dev` talks to a server started with `cargo run` on the default port, or
    // the one JINGZHUN_SERVER names. (`^`: a pattern, so /node_modules is not /n.)
    proxy: Object.fromEntries(
      ['/api', '^/n/', '^/o/'].map((path) => [path, loadEnv(mode, '.', 'JINGZHUN_').JINGZHUN_SERVER ?? 'http://127.0.0.1:8080']),
    ),
  },
}))
