// The console's pages. Every page but the login needs a session; which menu areas a
// user sees is Layout's business, and what they may read is the server's. Each area's
// pages are listed beside them (views/<area>/routes.ts).
import { createRouter, createWebHistory } from 'vue-router'
import { routes as comparison } from './views/comparison/routes'
import { routes as notices } from './views/notices/routes'
import { routes as reports } from './views/reports/routes'
import { routes as supervision } from './views/supervision/routes'
import { routes as system } from './views/system/routes'
import { restore, session } from './session'
import Login from './views/Login.vue'
import Layout from './views/Layout.vue'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', name: 'login', component: Login, meta: { public: true } },
    {
      path: '/',
      component: Layout,
      children: [
        { path: '', redirect: '/home' },
        { path: 'home', name: 'home', component: () => import('./views/Home.vue'), meta: { area: 'home' } },
        { path: 'households', name: 'households', component: () => import('./views/Households.vue'), meta: { area: 'households' } },
        {
          path: 'households/:id',
          name: 'household',
          component: () => import('./views/Household.vue'),
          props: true,
          meta: { area: 'households' },
        },
        { path: 'cases', name: 'cases', component: () => import('./views/Cases.vue'), meta: { area: 'cases' } },
        { path: 'cases/:id', name: 'case', component: () => import('./views/Case.vue'), props: true, meta: { area: 'cases' } },
        ...notices,
        ...comparison,
        ...reports,
        ...supervision,
        ...system,
      ],
    },
    { path: '/:rest(.*)*', redirect: '/home' },
  ],
})

router.beforeEach(async (to) => {
  await restore()
  if (!to.meta.public && !session.user) return { name: 'login' }
  if (to.name === 'login' && session.user) return { name: 'home' }
  return true
})
