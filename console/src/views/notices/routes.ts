// 公示公告: the notices (list, one notice with its preview, publishing, closing and the
// 村民代表会决议) and the objections to them (the 待办 links to /objections?status=open).
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: 'notices', name: 'notices', component: () => import('./Notices.vue'), meta: { area: 'notices' } },
  { path: 'notices/:id', name: 'notice', component: () => import('./Notice.vue'), props: true, meta: { area: 'notices' } },
  { path: 'objections', name: 'objections', component: () => import('./Objections.vue'), meta: { area: 'notices' } },
]
