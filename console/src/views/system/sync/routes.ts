// 系统管理's tabs for the phones and what they sent: assignments (帮扶分配, with the bulk
// move of a leaving officer's households), devices, sync conflicts and rejected change
// sets (the 待办 links to /system/conflicts and /system/rejected). `meta.tab` is the
// tab's label key, `meta.roles` who has a part in it (the server refuses the rest; the
// tab only keeps the frame short).
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: 'assignments', name: 'system-assignments', component: () => import('./Assignments.vue'), meta: { area: 'system', tab: 'sync.assignments', roles: ['township', 'county', 'admin'] } },
  { path: 'devices', name: 'system-devices', component: () => import('./Devices.vue'), meta: { area: 'system', tab: 'sync.title', roles: ['county', 'admin'] } },
  { path: 'conflicts', name: 'system-conflicts', component: () => import('./Conflicts.vue'), meta: { area: 'system', tab: 'sync.conflictsTitle', roles: ['village', 'township', 'county', 'admin'] } },
  { path: 'rejected', name: 'system-rejected', component: () => import('./Rejected.vue'), meta: { area: 'system', tab: 'sync.rejectedTitle', roles: ['county', 'supervisor', 'admin'] } },
]
