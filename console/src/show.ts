// A stored value as the console shows it: codes by their names, money and dates the
// Chinese way, yes/no, a region by name. Shared by the household page's tabs and the conflict
// table so each shows a field the same way; never unmasks anything (the server masks).
import { type CatalogueField, codeLabel, regionName } from './catalogue'
import { day, money } from './format'

type Translate = (key: string) => string

export function show(field: CatalogueField, value: unknown, t: Translate, locale: string): string {
  if (value === null || value === undefined || value === '') return '—'
  switch (field.kind.type) {
    case 'bool':
      return value ? t('household.yes') : t('household.no')
    case 'code':
      return codeLabel(field.kind.table ?? '', value as string)
    case 'codes':
      return (value as string[]).map((c) => codeLabel(field.kind.table ?? '', c)).join('、') || '—'
    case 'region_code':
      return `${regionName(value as string)}（${value}）`
    case 'money':
      return money(value as number, locale)
    case 'date':
      return day(value as string, locale)
    default:
      return Array.isArray(value) ? value.join('、') : String(value)
  }
}

/** Fen as yuan, the way the rules' figures come (R1 and the thresholds are in fen). */
export function yuan(fen: number | null | undefined, locale: string): string {
  return fen === null || fen === undefined ? '—' : money(fen / 100, locale)
}
