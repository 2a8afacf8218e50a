// The field catalogue and code tables as the server published them (`GET /api/mobile/v1/schema`,
// kept in `meta.schema` by each sync): labels, kinds and code names on every screen come
// from here, never from a list copied into the app.
import { ref } from 'vue'
import { getMeta, type SchemaResponse } from '../store/db'
import type { components } from '@api/schema'

export type CatalogueField = components['schemas']['CatalogueField']

/** The catalogue this phone last fetched; null before the first sync. */
export const catalogue = ref<SchemaResponse | null>(null)

export async function loadCatalogue() {
  catalogue.value = (await getMeta<SchemaResponse>('schema')) ?? null
}

export function field(entity: string, name: string): CatalogueField | undefined {
  return catalogue.value?.entities.find((e) => e.name === entity)?.fields.find((f) => f.name === name)
}

export function fieldLabel(entity: string, name: string): string {
  return field(entity, name)?.label ?? name
}

/** The codes of a code table as the catalogue lists them. */
export function codesOf(table: string): { code: string; label?: string | null }[] {
  return catalogue.value?.code_tables.find((t) => t.name === table)?.codes ?? []
}

/** The server's Chinese words for an error code (`/schema`'s `error_messages`), so the phone says what the server would. */
export function errorText(code: string, fallback: string = code): string {
  return catalogue.value?.error_messages.find((m) => m.code === code)?.message_zh ?? fallback
}

export function codeLabel(table: string, code: string): string {
  return catalogue.value?.code_tables.find((t) => t.name === table)?.codes.find((c) => c.code === code)?.label ?? code
}

/** A stored value as a person reads it: code labels, yuan, 是/否; empty for nothing recorded. */
export function display(entity: string, name: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return ''
  const kind = field(entity, name)?.kind
  switch (kind?.type) {
    case 'bool':
      return value ? '是' : '否'
    case 'code':
      return kind.table ? codeLabel(kind.table, String(value)) : String(value)
    case 'codes':
      return Array.isArray(value) ? value.map((c) => (kind.table ? codeLabel(kind.table, String(c)) : String(c))).join('、') : ''
    case 'money':
      return `¥${Number(value).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
    case 'uuid_list':
      return Array.isArray(value) ? `${value.length} 项` : ''
    default:
      return String(value)
  }
}
