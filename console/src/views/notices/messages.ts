// The words of 公示公告 (Notices), in Chinese and English.
const zh = {
  notices: { title: '公示公告' },
}

const en: typeof zh = {
  notices: { title: 'Notices' },
}

export default { zh, en }
