// The household page's forms, field by field from the catalogue (GET /api/mobile/v1/schema):
// how a stored value becomes an input, how an input goes back on the wire (money stays in
// yuan there; the server keeps fen), and the checks the catalogue states (required,
// length, range, two decimals) so a clerk sees a mistake before saving. The server
// repeats every check and adds its own (ID and phone numbers, the freeze, cross-record
// rules): this file must never refuse what the server would accept, so it checks
// nothing the catalogue does not say.
import type { ApiError } from '../../api/client'
import type { CatalogueField } from '../../catalogue'

/** A field as the catalogue sends it (catalogue.ts declares only what labels need). */
export interface FormField extends CatalogueField {
  policy?: 'lww' | 'manual' | 'create_only' | 'read_only'
  required?: boolean
  kind: { type: string; table?: string; max_chars?: number; min?: number; max?: number }
}

export type Row = Record<string, unknown>

/** The refusal body with its field errors, as `Refusal::with_fields` sends it. */
export interface FieldRefusal extends ApiError {
  error?: ApiError['error'] & { fields?: { field: string; code?: string; message_zh?: string; message_en?: string }[] }
}

/** Kinds typed as text and read back as numbers. */
const NUMERIC = new Set(['int', 'money', 'decimal'])
/** Kinds the office never types: ids the server or a procedure fills. */
const NOT_TYPED = new Set(['uuid', 'uuid_list', 'region_code'])

export function editable(field: FormField, locked: string[]): boolean {
  return field.policy !== 'read_only' && field.policy !== 'create_only' && !NOT_TYPED.has(field.kind.type) && !locked.includes(field.name)
}

/** The stored value as the form's input holds it. */
export function toInput(field: FormField, value: unknown): unknown {
  if (value === null || value === undefined) return field.kind.type === 'codes' ? [] : field.kind.type === 'bool' ? null : ''
  if (NUMERIC.has(field.kind.type)) return String(value)
  // A bank account comes back masked: the input starts empty and only a new number is sent.
  if (field.kind.type === 'bank_account') return ''
  return value
}

/** The input as the wire wants it: null for empty, numbers as numbers, yuan as yuan. */
export function toWire(field: FormField, input: unknown): unknown {
  switch (field.kind.type) {
    case 'codes':
      return Array.isArray(input) ? input : []
    case 'bool':
      return input === true || input === false ? input : null
    case 'int':
    case 'money':
    case 'decimal': {
      const text = String(input ?? '').trim()
      return text === '' ? null : Number(text)
    }
    default: {
      if (typeof input !== 'string') return input ?? null
      return input.trim() === '' ? null : input
    }
  }
}

type Translate = (key: string, values?: Record<string, unknown>) => string

/** What is wrong with an input by the catalogue's own terms, in the user's language. */
export function check(field: FormField, input: unknown, t: Translate): string {
  const wire = toWire(field, input)
  const empty = wire === null || (Array.isArray(wire) && wire.length === 0)
  if (empty) return field.required ? t('household.form.required') : ''
  const kind = field.kind
  switch (kind.type) {
    case 'text': {
      const length = [...String(wire)].length
      return kind.max_chars !== undefined && length > kind.max_chars ? t('household.form.tooLong', { max: kind.max_chars, length }) : ''
    }
    case 'int': {
      const n = wire as number
      if (!Number.isInteger(n)) return t('household.form.wholeNumber')
      if ((kind.min !== undefined && n < kind.min) || (kind.max !== undefined && n > kind.max)) {
        return t('household.form.range', { min: kind.min, max: kind.max })
      }
      return ''
    }
    case 'money':
    case 'decimal': {
      const text = String(input).trim()
      if (!/^\d+(\.\d{1,2})?$/.test(text)) return t(kind.type === 'money' ? 'household.form.money' : 'household.form.decimal')
      if (kind.type === 'decimal' && kind.max !== undefined && Number(text) > kind.max) return t('household.form.range', { min: 0, max: kind.max })
      return ''
    }
    default:
      return ''
  }
}

/** The server's field errors by field name, in the user's language; `''` holds the rest. */
export function refusalByField(body: unknown, sent: string[], locale: string): Record<string, string> {
  const error = (body as FieldRefusal | undefined)?.error
  const say = (e: { message_zh?: string; message_en?: string; code?: string }) => (locale === 'en' ? e.message_en : e.message_zh) ?? e.code ?? ''
  const out: Record<string, string> = {}
  if (!error) return { '': locale === 'en' ? 'The server could not be reached' : '无法连接服务器' }
  for (const f of error.fields ?? []) {
    const key = sent.includes(f.field) ? f.field : ''
    out[key] = out[key] ? `${out[key]}；${say(f)}` : say(f)
  }
  // A refusal of the whole write (frozen by a sign-off, out of scope) is about every
  // field it would have changed: each of them says so.
  if (!error.fields?.length) {
    const message = say(error)
    out[''] = message
    for (const name of sent) out[name] = message
  }
  return out
}
