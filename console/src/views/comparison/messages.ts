// The words of 数据比对 (Data comparison), in Chinese and English.
const zh = {
  comparison: { title: '数据比对' },
}

const en: typeof zh = {
  comparison: { title: 'Data comparison' },
}

export default { zh, en }
