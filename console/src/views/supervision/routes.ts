// 督查与提醒: campaigns and milestones, the notification log and its settings (the 待办
// links to /campaigns).
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: 'supervision', name: 'supervision', component: () => import('./Campaigns.vue'), meta: { area: 'supervision' } },
  { path: 'campaigns', name: 'campaigns', component: () => import('./Campaigns.vue'), meta: { area: 'supervision' } },
]
