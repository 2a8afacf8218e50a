// The console's pages. Every page but the login needs a session; which menu areas a
// user sees is Layout's business, and what they may read is the server's.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { restore, session } from './session'
import Login from './views/Login.vue'
import Layout from './views/Layout.vue'

// An area not built yet, under each path the server's links use (the 待办 links point at
// /objections, /system/conflicts, /campaigns …): the page says so plainly.
function building(path: string, area: string): RouteRecordRaw {
  return { path: `${path}/:rest(.*)*`, component: () => import('./views/Building.vue'), props: { area }, meta: { area } }
}

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
        building('notices', 'notices'),
        building('objections', 'notices'),
        building('comparison', 'comparison'),
        building('reports', 'reports'),
        building('supervision', 'supervision'),
        building('campaigns', 'supervision'),
        building('system', 'system'),
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
