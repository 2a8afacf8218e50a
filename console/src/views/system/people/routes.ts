// 系统管理's tabs for people and places: users and their role grants, regions, and the
// county's thresholds and rule variants. `meta.tab` is the tab's label key.
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: 'users', name: 'system-users', component: () => import('./Users.vue'), meta: { area: 'system', tab: 'people.title' } },
]
