// The words of 用户与权限 (Users and grants), in Chinese and English.
const zh = {
  people: { title: '用户与权限' },
}

const en: typeof zh = {
  people: { title: 'Users and grants' },
}

export default { zh, en }
