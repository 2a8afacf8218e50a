// The words of 统计报表 (Reports), in Chinese and English.
const zh = {
  reports: {
    title: '统计报表',
    report: '报表',
    region: '填报单位',
    period: '统计期间',
    from: '开始日期',
    to: '结束日期',
    seed: '抽样种子',
    preview: '预览',
    downloadXlsx: '下载 Excel',
    downloadCsv: '下载 CSV',
    truncated: '预览仅显示前 {shown} 行，共 {total} 行；完整内容请下载。',
    empty: '选择报表、填报单位和统计期间后点“预览”。',
    wholeNumbers: '此表含完整身份证和电话号码（供录入国家系统），预览和下载均记入每户的审计日志。',
    names: {
      dynamic_adjustment: '附件1 贫困人口动态调整情况统计表',
      new_identification: '附件2 新识别贫困人口情况统计表',
      removals: '附件3 清除人口情况统计表',
      relapse: '附件4 返贫人口情况统计表',
      register: '贫困户名册',
      outside_system: '系统外人员名册',
      data_quality: '数据质量问题清单',
      household_form: '贫困户信息对照表',
      member_increase: '家庭成员自然增加情况表',
      member_decrease: '家庭成员自然减少情况表',
      spot_check: '贫困村退出抽检报告',
    },
  },
}

const en: typeof zh = {
  reports: {
    title: 'Reports',
    report: 'Report',
    region: 'Reporting unit',
    period: 'Period',
    from: 'From',
    to: 'To',
    seed: 'Sampling seed',
    preview: 'Preview',
    downloadXlsx: 'Download Excel',
    downloadCsv: 'Download CSV',
    truncated: 'The preview shows the first {shown} of {total} rows; download for all of them.',
    empty: 'Choose a report, a reporting unit and a period, then Preview.',
    wholeNumbers: 'This form shows whole ID and phone numbers (to key into the national system); previews and downloads are audited on each household.',
    names: {
      dynamic_adjustment: 'Annex 1 Dynamic adjustment of the poor population',
      new_identification: 'Annex 2 Newly identified poor',
      removals: 'Annex 3 Persons removed',
      relapse: 'Annex 4 Relapsed into poverty',
      register: 'Register of poor households',
      outside_system: 'Persons outside the national system',
      data_quality: 'Data-quality problems',
      household_form: 'Household information form',
      member_increase: 'Members added naturally',
      member_decrease: 'Members lost naturally',
      spot_check: 'Village exit spot check',
    },
  },
}

export default { zh, en }
