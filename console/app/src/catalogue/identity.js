// The 001 附件1 note 3 rule across a member's three document fields (`id_type`,
// `id_number`, `no_id_reason`), as the server judges a member a phone sends: each value
// to its stored form (`validate::field`), then `validate::member_identity`. Plain
// JavaScript with JSDoc types, so `node --test` runs it without a build step;
// `app/tests/identity.test.mjs` and a Rust unit test both assert every vector of
// `mobile-api/vectors/member_identity.json`.
//
// What it must never do: judge a value the field check refuses (the forms ask `check.js`
// first; a refused value has that field's own error), or answer differently from the
// server on what it stores: trimming is Rust's (`rustTrim`), an ID number is upper-cased
// as Rust does, and a 残疾人证 number is 20 UTF-8 bytes, not 20 UTF-16 units.

import { asciiUpper, rustTrim, utf8Length } from './check.js'

/** `validate::NO_DOCUMENT`: the `id_type` of a person recorded without any document. */
const NO_DOCUMENT = 'none'
/** `validate::DISABILITY_CARD_LEN`, in bytes. */
const DISABILITY_CARD_LEN = 20

/**
 * The stored text of a member field, or null when nothing is stored.
 * @param {unknown} value
 * @param {(s: string) => string} stored what the server's field check makes of the text
 * @returns {string | null}
 */
function storedText(value, stored) {
  if (typeof value !== 'string') return null
  const s = stored(value)
  return s === '' ? null : s
}

/**
 * Whether a member's identity fields agree, on the values a form holds: a number unless
 * the type is 无证件; a reason when there is none; a 20-byte number not as a 居民身份证.
 * A member without `id_type` (old phones) with a number is fine. The answer is the field
 * to correct and its error code, or null.
 * @param {Record<string, unknown>} m
 * @returns {[string, string] | null}
 */
export function identityProblem(m) {
  // A code is stored as picked (an empty picker is no code); a number trimmed and
  // upper-cased; a reason trimmed (free text). Blank is nothing stored.
  const type = storedText(m.id_type, (s) => s)
  const number = storedText(m.id_number, (s) => asciiUpper(rustTrim(s)))
  const reason = storedText(m.no_id_reason, rustTrim)
  if (type === NO_DOCUMENT && number !== null) return ['id_number', 'id_type_mismatch']
  if (type === NO_DOCUMENT) return reason === null ? ['no_id_reason', 'required'] : null
  if (number === null) return ['id_number', 'required']
  if (type === 'resident_id_card' && utf8Length(number) === DISABILITY_CARD_LEN) return ['id_type', 'id_type_mismatch']
  return null
}
