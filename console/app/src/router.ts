// The app's pages, one route per view; everything but the sign-in needs a session kept
// on the phone (checked locally, so it works offline).
import { createRouter, createWebHistory } from 'vue-router'
import { session } from './store/session'

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('./views/Login.vue') },
    { path: '/', name: 'households', component: () => import('./views/Households.vue') },
    { path: '/households/:id', name: 'household', component: () => import('./views/Household.vue') },
    { path: '/households/:id/address', name: 'edit-address', component: () => import('./views/edit/Address.vue') },
    { path: '/households/:id/visit', name: 'visit-log', component: () => import('./views/VisitLog.vue') },
    { path: '/households/:id/members/new', name: 'member-add', component: () => import('./views/edit/MemberAdd.vue') },
    { path: '/members/:id/remove', name: 'member-remove', component: () => import('./views/edit/MemberRemove.vue') },
    { path: '/apply', name: 'apply', component: () => import('./views/edit/Apply.vue') },
    { path: '/edit/:entity/:id', name: 'edit-record', component: () => import('./views/edit/Record.vue') },
    { path: '/households/:id/measures/new', name: 'measure-new', component: () => import('./views/edit/Measure.vue') },
    { path: '/measures/:id', name: 'measure', component: () => import('./views/edit/Measure.vue') },
    { path: '/tasks/:id', name: 'task', component: () => import('./views/edit/Task.vue') },
    { path: '/conflicts/:id', name: 'conflict', component: () => import('./views/Conflict.vue') },
    { path: '/outbox', name: 'outbox', component: () => import('./views/Outbox.vue') },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach(async (to) => {
  if (to.name === 'login') return true
  return (await session()) ? true : { name: 'login' }
})
