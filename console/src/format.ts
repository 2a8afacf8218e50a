// Numbers and dates the Chinese way (STYLE: 2026年12月6日, ¥ with two decimals), or plainly
// in English. Times are shown in Beijing time, as the offices read them.
const BEIJING = 'Asia/Shanghai'

export function money(yuan: number | null | undefined, locale: string): string {
  if (yuan === null || yuan === undefined) return '—'
  const digits = yuan.toLocaleString(locale === 'en' ? 'en-US' : 'zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
  return `¥${digits}`
}

/** A `YYYY-MM-DD` day as 2026年12月6日. */
export function day(iso: string | null | undefined, locale: string): string {
  if (!iso) return '—'
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number)
  if (!y || !m || !d) return iso
  return locale === 'en' ? iso.slice(0, 10) : `${y}年${m}月${d}日`
}

/** The day `at` is in Beijing, as `YYYY-MM-DD`, whatever the PC's clock zone. */
export function beijingDay(at: Date): string {
  // en-CA writes a date as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: BEIJING, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at)
}

/** An RFC 3339 instant as 2026年12月7日 07:53 in Beijing time. */
export function instant(rfc3339: string | null | undefined, locale: string): string {
  if (!rfc3339) return '—'
  const at = new Date(rfc3339)
  if (Number.isNaN(at.getTime())) return rfc3339
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: BEIJING,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at)
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  const time = `${part('hour')}:${part('minute')}`
  if (locale === 'en') return `${part('year')}-${part('month').padStart(2, '0')}-${part('day').padStart(2, '0')} ${time}`
  // en-CA pads month and day to two digits; the Chinese form has none (12月7日).
  return `${part('year')}年${Number(part('month'))}月${Number(part('day'))}日 ${time}`
}
