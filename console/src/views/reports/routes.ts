// 统计报表: the reports with region and period pickers.
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: 'reports', name: 'reports', component: () => import('./Reports.vue'), meta: { area: 'reports' } },
]
