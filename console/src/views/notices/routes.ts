// 公示公告: the notices and the objections to them (the 待办 links to /objections).
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: 'notices', name: 'notices', component: () => import('./Notices.vue'), meta: { area: 'notices' } },
  { path: 'objections', name: 'objections', component: () => import('./Notices.vue'), meta: { area: 'notices' } },
]
