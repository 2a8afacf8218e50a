// The console's pages. Every page but the login needs a session; which menu areas a
// user sees is Layout's business, and what they may read is the server's.
import { createRouter, createWebHistory } from 'vue-router'
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
        { path: 'home', name: 'home', component: () => import('./views/Home.vue') },
        { path: 'households', name: 'households', component: () => import('./views/Households.vue') },
        { path: 'households/:id', name: 'household', component: () => import('./views/Household.vue'), props: true },
        { path: ':area(cases|notices|comparison|reports|supervision|system)', name: 'building', component: () => import('./views/Building.vue'), props: true },
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
