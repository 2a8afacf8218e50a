// The field checks a phone runs before it queues a change: the same answer, code for
// code, as the server's validator (`mobile-api/src/validate.rs`, `field`), so an edit the
// officer saved offline is not rejected hours later for a reason the form could have
// said. Plain JavaScript with JSDoc types, so `node --test` runs it without a build
// step; `app/tests/check.test.mjs` and a Rust unit test both assert every vector of
// `mobile-api/vectors/field_checks.json`.
//
// What it must never do: decide anything the server does not (it only mirrors the Rust
// rules, and the server checks again), hold a code table or a field list of its own (they
// come from `GET /api/mobile/v1/schema`), or turn a value into its stored form: the
// server canonicalises what it receives (`yuanToFen` is for the app's own sums).
//
// Where JavaScript and Rust read a text differently, the Rust reading is copied by hand:
// `trim` (Rust trims Unicode White_Space, which has U+0085 and not U+FEFF), lengths (Rust
// counts characters, a JavaScript string UTF-16 units; an ID number's length is UTF-8
// bytes) and numbers (what serde reads from `JSON.stringify`'s digits).

/**
 * A field's kind as `GET /schema` sends it (`CatalogueFieldKind`): `type` and the bounds
 * that kind has.
 * @typedef {{ type: string, max_chars?: number | null, min?: number | null, max?: number | null, table?: string | null }} FieldKindBounds
 */

/**
 * A code table as `GET /schema` sends it.
 * @typedef {{ name: string, label?: string, codes: { code: string, label?: string }[] }} CodeTable
 */

/** An error code of `mobile-api/src/errors.rs` (`ErrorCode::code`). @typedef {string} ErrorCodeString */

/** The largest amount accepted: ten billion yuan, in fen (`MONEY_MAX_FEN`). */
const MONEY_MAX_FEN = 1_000_000_000_000n
/** Text fields at least this long keep line breaks and tabs (`FREE_TEXT_MIN_CHARS`). */
const FREE_TEXT_MIN_CHARS = 1000
const DATE_MIN_YEAR = 1900
const DATE_MAX_YEAR = 2100
const DISABILITY_CARD_LEN = 20
const I64_MIN = -(2n ** 63n)
const I64_MAX = 2n ** 63n - 1n

/**
 * Checks one field's value as the server will, before it is queued.
 *
 * `kind` is the field's `kind.type` and `bounds` its `kind` object from the schema (pass
 * the schema's object straight in); `codeTables` the schema's `code_tables`; `required`
 * the field's `required` (a required field sent blank is refused in any change; that a
 * create carries every required field is the form's to see, not this check's).
 * Returns the error code the server would give, or `null` when it would accept the value.
 *
 * `undefined` counts as `null` (nothing typed). Two values JSON cannot carry are refused
 * as `invalid_type`, though no server ever sees them: a number that is not finite
 * (`JSON.stringify` would turn it into `null` and clear the field) and a string with a
 * lone surrogate (the server would refuse the whole push as bad JSON).
 *
 * @param {string} kind
 * @param {FieldKindBounds} bounds
 * @param {unknown} value
 * @param {readonly CodeTable[]} codeTables
 * @param {boolean} [required]
 * @returns {ErrorCodeString | null}
 */
export function checkField(kind, bounds, value, codeTables, required = false) {
  if (value === null || value === undefined) {
    return required ? 'required' : null
  }
  if (!isJsonable(value)) {
    return 'invalid_type'
  }
  switch (kind) {
    case 'text': {
      if (typeof value !== 'string') return 'invalid_type'
      const maxChars = bound(bounds, 'max_chars')
      const text = freeText(value, maxChars >= FREE_TEXT_MIN_CHARS)
      if (typeof text !== 'object') return text
      if (text.stored === null) return required ? 'required' : null
      return charCount(text.stored) > maxChars ? 'too_long' : null
    }
    case 'int': {
      if (typeof value !== 'number') return 'invalid_type'
      const i = asI64(value)
      if (i === null) return 'invalid_type'
      return i < BigInt(bound(bounds, 'min')) || i > BigInt(bound(bounds, 'max')) ? 'out_of_range' : null
    }
    case 'money': {
      if (typeof value !== 'number') return 'invalid_type'
      return yuanToFen(value) === null ? 'invalid_money' : null
    }
    case 'decimal': {
      if (typeof value !== 'number') return 'invalid_type'
      const max = bound(bounds, 'max')
      if (value < 0 || value > max) return 'out_of_range'
      const h = hundredths(value)
      if (h === null) return 'invalid_decimal'
      return h < 0n || h > saturating(BigInt(max) * 100n) ? 'out_of_range' : null
    }
    case 'bool':
      return typeof value === 'boolean' ? null : 'invalid_type'
    case 'date': {
      const s = asStr(value)
      return typeof s === 'object' ? canonicalDate(s.text) : s
    }
    case 'uuid': {
      const s = asStr(value)
      if (typeof s !== 'object') return s
      return isUuid(s.text) ? null : 'invalid_type'
    }
    case 'uuid_list': {
      if (!Array.isArray(value)) return 'invalid_type'
      if (value.length > bound(bounds, 'max')) return 'too_many_values'
      for (const item of value) {
        const s = asStr(item)
        if (typeof s !== 'object') return s
        if (!isUuid(s.text)) return 'invalid_type'
      }
      return null
    }
    case 'code': {
      const s = asStr(value)
      if (typeof s !== 'object') return s
      const codes = codeSet(codeTables, bounds.table)
      return codes !== undefined && codes.has(s.text) ? null : 'unknown_code'
    }
    case 'codes': {
      if (!Array.isArray(value)) return 'invalid_type'
      // Counted as sent, before repeats are dropped: the server's order of checks.
      if (value.length > bound(bounds, 'max')) return 'too_many_values'
      const codes = codeSet(codeTables, bounds.table)
      if (codes === undefined) return 'unknown_code'
      for (const item of value) {
        const s = asStr(item)
        if (typeof s !== 'object') return s
        if (!codes.has(s.text)) return 'unknown_code'
      }
      return null
    }
    case 'id_number': {
      const s = asStr(value)
      if (typeof s !== 'object') return s
      const number = asciiUpper(rustTrim(s.text))
      if (number === '') return required ? 'required' : null
      if (idNumberIsValid(number) || disabilityCardIsValid(number)) return null
      // The server tells the two apart by UTF-8 length, whatever the characters.
      return utf8Length(number) === DISABILITY_CARD_LEN ? 'invalid_disability_card' : 'invalid_id_number'
    }
    case 'phone': {
      const s = asStr(value)
      if (typeof s !== 'object') return s
      return canonicalPhone(s.text) === null ? 'invalid_phone' : null
    }
    case 'region_code': {
      const s = asStr(value)
      if (typeof s !== 'object') return s
      // Not trimmed: a division code is picked, never typed.
      return /^[0-9]{12}$/.test(s.text) ? null : 'invalid_region'
    }
    case 'bank_account': {
      const s = asStr(value)
      if (typeof s !== 'object') return s
      const account = rustTrim(s.text)
      if (account === '') return required ? 'required' : null
      return /^[0-9]{8,30}$/.test(account.replace(/[ -]/g, '')) ? null : 'invalid_bank_account'
    }
    default:
      // A kind newer than this app: the app must learn it before it offers the field.
      throw new TypeError(`unknown field kind ${kind}`)
  }
}

/**
 * Yuan as typed (a number, at most two decimals, not negative, at most ten billion) in
 * whole fen, as the server stores it; `null` where `checkField` says `invalid_money`.
 * For amounts the app adds up itself (the R1 preview): 1.1 yuan is 110 fen, not
 * 110.00000000000001.
 *
 * @param {number} yuan
 * @returns {number | null}
 */
export function yuanToFen(yuan) {
  if (typeof yuan !== 'number' || !Number.isFinite(yuan)) return null
  const fen = hundredths(yuan)
  return fen === null || fen < 0n || fen > MONEY_MAX_FEN ? null : Number(fen)
}

/**
 * A bound of the kind; a schema without it is broken, not a value to refuse.
 * @param {FieldKindBounds} bounds
 * @param {'max_chars' | 'min' | 'max'} key
 * @returns {number}
 */
function bound(bounds, key) {
  const n = bounds[key]
  if (typeof n !== 'number') throw new TypeError(`the ${bounds.type} kind has no ${key}`)
  return n
}

/**
 * Whether `JSON.stringify` sends the value as it is: finite numbers, well-formed strings.
 * @param {unknown} value
 * @returns {boolean}
 */
function isJsonable(value) {
  if (typeof value === 'number') return Number.isFinite(value)
  if (typeof value === 'string') return isWellFormed(value)
  if (Array.isArray(value)) return value.every(isJsonable)
  return typeof value !== 'bigint'
}

/**
 * Whether every surrogate is paired (`String.prototype.isWellFormed`, which older phone
 * browsers lack; so does a regex lookbehind).
 * @param {string} s
 * @returns {boolean}
 */
function isWellFormed(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xdc00 && c <= 0xdfff) return false
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1)
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false
      i++
    }
  }
  return true
}

/** Unicode White_Space: what Rust's `str::trim` removes. */
const WHITESPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
])

/**
 * Rust's `str::trim`. Every White_Space character is in the BMP, so UTF-16 units do.
 * @param {string} s
 * @returns {string}
 */
export function rustTrim(s) {
  let start = 0
  let end = s.length
  while (start < end && WHITESPACE.has(s.charCodeAt(start))) start++
  while (end > start && WHITESPACE.has(s.charCodeAt(end - 1))) end--
  return s.slice(start, end)
}

/**
 * Rust's `is_refused_char`: a control character (C0, DEL, C1), a bidirectional override
 * or isolate, and, unless the text is free text, a line break, tab or Unicode line or
 * paragraph separator.
 * @param {number} c a code point
 * @param {boolean} multiline
 * @returns {boolean}
 */
function isRefusedChar(c, multiline) {
  if (c === 0x0a || c === 0x09 || c === 0x2028 || c === 0x2029) return !multiline
  if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return true
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f)
}

/**
 * @param {string} s
 * @param {boolean} multiline
 * @returns {boolean}
 */
function hasControlCharacters(s, multiline) {
  for (const ch of s) {
    if (isRefusedChar(/** @type {number} */ (ch.codePointAt(0)), multiline)) return true
  }
  return false
}

/**
 * Rust's `free_text`: trimmed, line ends as `\n` in free text, `null` when blank; a
 * control character inside is refused, not dropped.
 * @param {string} s
 * @param {boolean} multiline
 * @returns {{ stored: string | null } | ErrorCodeString}
 */
function freeText(s, multiline) {
  let text = rustTrim(s)
  if (text === '') return { stored: null }
  if (multiline && text.includes('\r')) text = text.replace(/\r\n/g, '\n').replace(/\r/g, '\n')
  return hasControlCharacters(text, multiline) ? 'control_character' : { stored: text }
}

/**
 * Rust's `as_str`: a string value of a one-line kind, `control_character` when one is
 * inside it (surrounding whitespace is the kind's to trim or refuse).
 * @param {unknown} value
 * @returns {{ text: string } | ErrorCodeString}
 */
function asStr(value) {
  if (typeof value !== 'string') return 'invalid_type'
  return hasControlCharacters(rustTrim(value), false) ? 'control_character' : { text: value }
}

/**
 * Characters as Rust counts them (`chars().count()`): code points, an emoji is one.
 * @param {string} s
 * @returns {number}
 */
function charCount(s) {
  let n = 0
  for (const _ of s) n++
  return n
}

/**
 * Rust's `str::len`: UTF-8 bytes.
 * @param {string} s
 * @returns {number}
 */
export function utf8Length(s) {
  let n = 0
  for (const ch of s) {
    const c = /** @type {number} */ (ch.codePointAt(0))
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4
  }
  return n
}

/**
 * Rust's `to_ascii_uppercase`: a–z only (`toUpperCase` would make ß two letters).
 * @param {string} s
 * @returns {string}
 */
export function asciiUpper(s) {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase())
}

/**
 * The integer serde reads for this number, `null` when it reads a float. `JSON.stringify`
 * writes a whole number below 1e21 as its digits, which serde reads as an i64 when it
 * fits (above it, as a u64 or a float: never an i64).
 * @param {number} x
 * @returns {bigint | null}
 */
function asI64(x) {
  if (!Number.isInteger(x) || Math.abs(x) >= 1e21) return null
  const i = BigInt(String(x))
  return i >= I64_MIN && i <= I64_MAX ? i : null
}

/**
 * @param {bigint} i
 * @returns {bigint}
 */
function saturating(i) {
  return i > I64_MAX ? I64_MAX : i < I64_MIN ? I64_MIN : i
}

/**
 * Rust's `hundredths`: a number in whole hundredths; `null` with more than two decimals
 * (beyond a millionth of a hundredth, the float's own noise) or when it does not fit.
 * @param {number} x
 * @returns {bigint | null}
 */
function hundredths(x) {
  const i = asI64(x)
  if (i !== null) {
    const h = i * 100n
    return h >= I64_MIN && h <= I64_MAX ? h : null
  }
  const scaled = x * 100
  // Rust's `f64::round`: half away from zero.
  const rounded = Math.sign(scaled) * Math.round(Math.abs(scaled))
  if (Math.abs(scaled - rounded) > 1e-6 || !(rounded >= -(2 ** 63) && rounded <= 2 ** 63)) return null
  // `as i64` saturates: 2^63 becomes i64::MAX.
  return saturating(BigInt(rounded))
}

/**
 * Rust's `canonical_date`: a four-digit year, a month and a day separated by `-`, a real
 * date (proleptic Gregorian), the year within 1900–2100.
 * @param {string} s
 * @returns {ErrorCodeString | null}
 */
function canonicalDate(s) {
  const text = rustTrim(s)
  if (hasControlCharacters(text, false)) return 'control_character'
  const parts = text.split('-')
  if (parts.length !== 3) return 'invalid_date'
  const [year, month, day] = parts
  const digits = /** @param {string} part @param {number} min @param {number} max */ (part, min, max) =>
    part.length >= min && part.length <= max && /^[0-9]+$/.test(part) ? Number(part) : null
  const y = digits(year, 4, 4)
  const m = digits(month, 1, 2)
  const d = digits(day, 1, 2)
  if (y === null || m === null || d === null || !isRealDate(y, m, d)) return 'invalid_date'
  return y < DATE_MIN_YEAR || y > DATE_MAX_YEAR ? 'out_of_range' : null
}

/**
 * @param {number} y
 * @param {number} m
 * @param {number} d
 * @returns {boolean}
 */
function isRealDate(y, m, d) {
  if (m < 1 || m > 12 || d < 1) return false
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
  return d <= days[m - 1]
}

/**
 * `uuid::Uuid::parse_str`: hyphenated, 32 hex digits, braced or a URN, any case; not trimmed.
 * @param {string} s
 * @returns {boolean}
 */
function isUuid(s) {
  const hyphenated = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
  if (/^[0-9a-f]{32}$/i.test(s) || hyphenated.test(s)) return true
  if (s.length === 38 && s.startsWith('{') && s.endsWith('}')) return hyphenated.test(s.slice(1, -1))
  if (s.length === 45 && s.slice(0, 9).toLowerCase() === 'urn:uuid:') return hyphenated.test(s.slice(9))
  return false
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CHECK = '10X98765432'

/**
 * GB 11643-1999 as `id_number_is_valid` reads it: 17 digits, the check character (0–9
 * or X) and a birth date from 1900 to today (UTC, the server's today).
 * @param {string} id upper-cased
 * @returns {boolean}
 */
function idNumberIsValid(id) {
  if (!/^[0-9]{17}[\x00-\x7f]$/.test(id)) return false
  const y = Number(id.slice(6, 10))
  const m = Number(id.slice(10, 12))
  const d = Number(id.slice(12, 14))
  if (y < 1900 || !isRealDate(y, m, d)) return false
  const now = new Date()
  const today = now.getUTCFullYear() * 10000 + (now.getUTCMonth() + 1) * 100 + now.getUTCDate()
  if (y * 10000 + m * 100 + d > today) return false
  let sum = 0
  for (let i = 0; i < 17; i++) sum += (id.charCodeAt(i) - 48) * WEIGHTS[i]
  return CHECK[sum % 11] === id[17]
}

/**
 * A 残疾人证 number: a valid ID number, the category 1–7 and the grade 1–4.
 * @param {string} number upper-cased
 * @returns {boolean}
 */
function disabilityCardIsValid(number) {
  return /^[\x00-\x7f]{18}[1-7][1-4]$/.test(number) && idNumberIsValid(number.slice(0, 18))
}

/**
 * Rust's `canonical_phone`: the digits of a mainland mobile number or a landline with its
 * area code, separators and a +86 or 0086 dropped; `null` for anything else.
 * @param {string} phone
 * @returns {string | null}
 */
function canonicalPhone(phone) {
  const written = rustTrim(phone).replace(/[ \-()]/g, '')
  const prefix = written.startsWith('+86') ? '+86' : written.startsWith('0086') ? '0086' : ''
  const national = written.slice(prefix.length)
  if (!/^[0-9]+$/.test(national)) return null
  if (national.length === 11 && national.startsWith('1')) return national
  const landline = prefix !== '' && !national.startsWith('0') ? `0${national}` : national
  return landline.startsWith('0') && landline.length >= 10 && landline.length <= 12 ? landline : null
}

/** @type {WeakMap<readonly CodeTable[], Map<string, Set<string>>>} */
const codeSets = new WeakMap()

/**
 * The codes of the named table, `undefined` when the schema has no such table.
 * @param {readonly CodeTable[]} codeTables
 * @param {string | null | undefined} name
 * @returns {Set<string> | undefined}
 */
function codeSet(codeTables, name) {
  let tables = codeSets.get(codeTables)
  if (tables === undefined) {
    tables = new Map(codeTables.map((t) => [t.name, new Set(t.codes.map((c) => c.code))]))
    codeSets.set(codeTables, tables)
  }
  return name == null ? undefined : tables.get(name)
}
