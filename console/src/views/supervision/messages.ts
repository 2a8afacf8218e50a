// The words of 督查与提醒 (Supervision), in Chinese and English.
const zh = {
  supervision: { title: '督查与提醒' },
}

const en: typeof zh = {
  supervision: { title: 'Supervision' },
}

export default { zh, en }
