// How the app writes an ID or phone number in a list: the same shapes, character for
// character, as the server's lists (mobile-api `validate::mask_id_number` / `mask_phone`),
// so an officer reads the same thing on the phone and in the console. Plain JavaScript
// with JSDoc types, so `node --test` runs it without a build step;
// `app/tests/masks.test.mjs` and a Rust unit test both assert every vector of
// `mobile-api/vectors/masks.json`.
//
// What it must never do: show more than the server would (a list never unmasks), or
// decide a shape of its own: where Rust counts something oddly, that is copied (lengths
// are characters, i.e. code points; a 残疾人证 number's holder is its first 18 UTF-8
// bytes, `validate::person_id`).

import { utf8Length } from './check.js'

/** Length of a 残疾人证 number: the holder's 18-character ID number, category and grade. */
const DISABILITY_CARD_LEN = 20

/**
 * `validate::person_id` on a 20-character value: its first 18 UTF-8 bytes, or null when
 * byte 18 falls inside a character (Rust then gets the whole value back and recurses
 * without end; never the case for a number the validator accepted, which is ASCII).
 * @param {string[]} chars
 * @returns {string | null}
 */
function personId(chars) {
  let bytes = 0
  let n = 0
  while (bytes < 18) bytes += utf8Length(chars[n++])
  return bytes === 18 ? chars.slice(0, n).join('') : null
}

/**
 * An ID number masked for anything public: first 6 and last 4 characters kept; a
 * 残疾人证 number shows as its holder's ID number does, its category and grade (health
 * data) hidden too. Under 10 characters, everything is hidden.
 * @param {string} id
 * @returns {string}
 */
export function maskIdNumber(id) {
  const chars = [...id]
  if (chars.length === DISABILITY_CARD_LEN) {
    const person = personId(chars)
    // Where the server has no answer (see `personId`), hide everything.
    return person === null ? '*'.repeat(chars.length) : `${maskIdNumber(person)}**`
  }
  if (chars.length < 10) return '*'.repeat(chars.length)
  return chars.slice(0, 6).join('') + '*'.repeat(chars.length - 10) + chars.slice(-4).join('')
}

/**
 * A phone number masked: first 3 and last 4 characters kept; under 7, everything hidden.
 * @param {string} phone
 * @returns {string}
 */
export function maskPhone(phone) {
  const chars = [...phone]
  if (chars.length < 7) return '*'.repeat(chars.length)
  return chars.slice(0, 3).join('') + '*'.repeat(chars.length - 7) + chars.slice(-4).join('')
}
