// 系统管理's tabs for the phones and what they sent: assignments, devices, sync conflicts
// and rejected change sets (the 待办 links to /system/conflicts and /system/rejected).
// `meta.tab` is the tab's label key.
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: 'devices', name: 'system-devices', component: () => import('./Devices.vue'), meta: { area: 'system', tab: 'sync.title' } },
  { path: 'conflicts', name: 'system-conflicts', component: () => import('./Devices.vue'), meta: { area: 'system' } },
  { path: 'rejected', name: 'system-rejected', component: () => import('./Devices.vue'), meta: { area: 'system' } },
]
