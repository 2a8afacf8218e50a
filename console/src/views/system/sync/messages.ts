// The words of 设备与同步 (Devices and sync), in Chinese and English.
const zh = {
  sync: { title: '设备与同步' },
}

const en: typeof zh = {
  sync: { title: 'Devices and sync' },
}

export default { zh, en }
