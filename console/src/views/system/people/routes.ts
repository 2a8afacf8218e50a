// 系统管理's tabs for people and places: users and their role grants, regions, and the
// county's thresholds and rule variants. `meta.tab` is the tab's label key, `meta.roles`
// who has a part in it (the server refuses the rest; the tab only keeps the frame short).
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: 'users', name: 'system-users', component: () => import('./Users.vue'), meta: { area: 'system', tab: 'people.title', roles: ['county', 'admin'] } },
  { path: 'regions', name: 'system-regions', component: () => import('./Regions.vue'), meta: { area: 'system', tab: 'people.regionsTitle', roles: ['county', 'admin'] } },
  { path: 'settings', name: 'system-settings', component: () => import('./Settings.vue'), meta: { area: 'system', tab: 'people.settingsTitle', roles: ['county', 'admin'] } },
]
