// 数据比对: department lists uploaded and the leads they give.
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: 'comparison', name: 'comparison', component: () => import('./Comparison.vue'), meta: { area: 'comparison' } },
]
