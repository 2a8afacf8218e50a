// 系统管理: one frame with a tab per page; the pages come from system/people (users,
// grants, regions, settings) and system/sync (assignments, devices, conflicts, rejected).
import type { RouteRecordRaw } from 'vue-router'
import { roles } from '../../session'
import { routes as people } from './people/routes'
import { routes as sync } from './sync/routes'

export const tabs: RouteRecordRaw[] = [...people, ...sync]

/** The tabs shown to a user with these roles: those naming a tab and a role of theirs. */
export function tabsFor(mine: Set<string>): RouteRecordRaw[] {
  return tabs.filter((r) => r.meta?.tab && (r.meta.roles as string[] | undefined)?.some((role) => mine.has(role)) !== false)
}

function firstTab() {
  return { name: (tabsFor(roles())[0] ?? tabs[0]).name as string }
}

export const routes: RouteRecordRaw[] = [
  {
    path: 'system',
    component: () => import('../../components/AreaFrame.vue'),
    // Read at each navigation, so the tabs follow the roles of whoever is signed in.
    props: () => ({ id: 'system-tabs', tabs: tabsFor(roles()) }),
    meta: { area: 'system' },
    // The first tab the user has a part in (a township lands on 帮扶分配).
    children: [{ path: '', redirect: firstTab }, ...tabs],
  },
]
