// The field catalogue and code tables the phones use (GET /api/mobile/v1/schema) and the
// region names (GET /api/v1/regions), read once: the household page labels each field
// with them and shows codes by their names, so the console never keeps its own copy of
// the 对照表's wording.
import { api } from './api/client'

// The OpenAPI document leaves `code_tables` and `entities` untyped (they are built from
// mobile-api's catalogue at run time); these are their shapes on the wire.
export interface CatalogueField {
  name: string
  label: string
  kind: { type: string; table?: string }
}
export interface CatalogueEntity {
  name: string
  fields: CatalogueField[]
}
interface CodeTable {
  name: string
  label: string
  codes: { code: string; label: string }[]
}

let loading: Promise<void> | null = null
const entities = new Map<string, CatalogueEntity>()
const tables = new Map<string, Map<string, string>>()
const regions = new Map<string, string>()

export function loadCatalogue(): Promise<void> {
  if (!loading) {
    loading = Promise.all([api.GET('/api/mobile/v1/schema'), api.GET('/api/v1/regions', { params: { query: {} } })]).then(
      ([{ data }, { data: regionList }]) => {
        if (!data) {
          loading = null
          return
        }
        for (const e of data.entities as CatalogueEntity[]) entities.set(e.name, e)
        for (const t of data.code_tables as CodeTable[]) tables.set(t.name, new Map(t.codes.map((c) => [c.code, c.label])))
        for (const r of regionList ?? []) regions.set(r.code, r.name)
      },
    )
  }
  return loading
}

export function regionName(code: string | null | undefined): string {
  if (!code) return ''
  return regions.get(code) ?? code
}

/** A field's label in the catalogue (`household`, `long_term_stable_income` → 有长期稳定收入来源). */
export function fieldLabel(entityName: string, field: string): string | undefined {
  return entities.get(entityName)?.fields.find((f) => f.name === field)?.label
}

export function entity(name: string): CatalogueEntity | undefined {
  return entities.get(name)
}

export function codeLabel(table: string, code: string | null | undefined): string {
  if (code === null || code === undefined) return ''
  return tables.get(table)?.get(code) ?? code
}

export function codes(table: string): { code: string; label: string }[] {
  return [...(tables.get(table) ?? new Map()).entries()].map(([code, label]) => ({ code, label }))
}
