// The menu's business areas and which roles have a part in each. This only keeps
// a menu short: a user who opens an area anyway gets what the server lets them read.
export interface Area {
  key: string
  path: string
  roles: string[] | 'all'
}

export const AREAS: Area[] = [
  { key: 'home', path: '/home', roles: 'all' },
  { key: 'households', path: '/households', roles: 'all' },
  { key: 'cases', path: '/cases', roles: ['officer', 'village', 'township', 'county', 'supervisor', 'admin'] },
  { key: 'notices', path: '/notices', roles: ['village', 'township', 'verifier', 'county', 'supervisor', 'admin'] },
  { key: 'comparison', path: '/comparison', roles: ['village', 'township', 'county', 'admin'] },
  { key: 'reports', path: '/reports', roles: ['village', 'township', 'county', 'supervisor', 'admin'] },
  { key: 'supervision', path: '/supervision', roles: ['township', 'county', 'supervisor', 'admin'] },
  { key: 'system', path: '/system', roles: ['township', 'county', 'admin'] },
]

export function areasFor(roles: Set<string>): Area[] {
  return AREAS.filter((a) => a.roles === 'all' || a.roles.some((r) => roles.has(r)))
}
