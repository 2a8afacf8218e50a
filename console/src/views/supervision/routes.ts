// 督查与提醒: one frame with a tab per page — 工作计划 (campaigns, milestones, progress,
// overdue tasks), 通知记录 (the delivery log) and 通知设置 (templates, robots, test send,
// the user's own preferences). The 待办 links to /campaigns, which opens 工作计划.
import type { RouteRecordRaw } from 'vue-router'

export const tabs: RouteRecordRaw[] = [
  { path: 'campaigns', name: 'supervision-campaigns', component: () => import('./Campaigns.vue'), meta: { area: 'supervision', tab: 'supervision.campaigns' } },
  { path: 'notifications', name: 'supervision-notifications', component: () => import('./Notifications.vue'), meta: { area: 'supervision', tab: 'supervision.log' } },
  { path: 'settings', name: 'supervision-settings', component: () => import('./NotificationSettings.vue'), meta: { area: 'supervision', tab: 'supervision.settings' } },
]

export const routes: RouteRecordRaw[] = [
  {
    path: 'supervision',
    name: 'supervision',
    component: () => import('../../components/AreaFrame.vue'),
    props: { id: 'supervision-tabs', tabs },
    meta: { area: 'supervision' },
    redirect: { name: 'supervision-campaigns' },
    children: tabs,
  },
  { path: 'campaigns', name: 'campaigns', redirect: (to) => ({ name: 'supervision-campaigns', query: to.query }) },
]
