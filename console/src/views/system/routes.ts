// 系统管理: one frame with a tab per page; the pages come from system/people (users,
// grants, regions, settings) and system/sync (assignments, devices, conflicts, rejected).
import type { RouteRecordRaw } from 'vue-router'
import { routes as people } from './people/routes'
import { routes as sync } from './sync/routes'

export const tabs: RouteRecordRaw[] = [...people, ...sync]

export const routes: RouteRecordRaw[] = [
  {
    path: 'system',
    component: () => import('./SystemFrame.vue'),
    meta: { area: 'system' },
    children: [{ path: '', redirect: { name: 'system-users' } }, ...tabs],
  },
]
