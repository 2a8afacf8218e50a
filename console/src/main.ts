// Starts the console: Element Plus in Chinese (English on the header's toggle), the
// router, and the one reaction to an ended session.
import { createApp } from 'vue'
import 'element-plus/theme-chalk/base.css'
// ElMessage and ElMessageBox are called from code, where the build's per-component style
// import does not see them: their styles are loaded once here for every screen.
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import App from './App.vue'
import { router } from './router'
import { i18n } from './i18n'
import { onSessionExpired } from './api/client'
import { forget } from './session'

onSessionExpired((body) => {
  forget(true, body)
  if (router.currentRoute.value.name !== 'login') router.push({ name: 'login' })
})

createApp(App).use(i18n).use(router).mount('#app')
