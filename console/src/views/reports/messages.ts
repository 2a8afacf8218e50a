// The words of 统计报表 (Reports), in Chinese and English.
const zh = {
  reports: { title: '统计报表' },
}

const en: typeof zh = {
  reports: { title: 'Reports' },
}

export default { zh, en }
