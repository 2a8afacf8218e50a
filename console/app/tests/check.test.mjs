// check.js against the shared vectors: every case of mobile-api/vectors/field_checks.json
// gives the code the Rust validator gives (a Rust unit test asserts the same file), with
// the code tables as GET /schema sends them. Plus what JSON cannot carry, so no vector can.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { checkField, yuanToFen } from '../src/catalogue/check.js'

const vectors = (name) => JSON.parse(readFileSync(new URL(`../../../mobile-api/vectors/${name}`, import.meta.url), 'utf8'))
const cases = vectors('field_checks.json')
const codeTables = vectors('code_tables.json')

test('every vector of field_checks.json gives the server’s code', () => {
  assert.ok(cases.length >= 100, `only ${cases.length} vectors`)
  const wrong = cases
    .map((c) => ({ c, got: checkField(c.kind, c.bounds, c.value, codeTables, c.required ?? false) }))
    .filter(({ c, got }) => got !== c.code)
    .map(({ c, got }) => `${JSON.stringify(c)} gave ${got}`)
  assert.deepEqual(wrong, [])
})

test('an ID number whose birth date is tomorrow (UTC, the server’s day) is refused', () => {
  const tomorrow = new Date(Date.now() + 86_400_000)
  const ymd = (d) => `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`
  const withCheck = (first17) => {
    const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    const sum = [...first17].reduce((s, c, i) => s + Number(c) * weights[i], 0)
    return first17 + '10X98765432'[sum % 11]
  }
  const born = (d) => checkField('id_number', { type: 'id_number' }, withCheck(`110105${ymd(d)}001`), codeTables)
  assert.equal(born(tomorrow), 'invalid_id_number')
  assert.equal(born(new Date(Date.now() - 86_400_000)), null)
})

test('values JSON cannot carry are refused, not sent', () => {
  const money = { type: 'money' }
  assert.equal(checkField('money', money, Number.NaN, codeTables), 'invalid_type', 'NaN would be sent as null')
  assert.equal(checkField('money', money, Infinity, codeTables), 'invalid_type')
  assert.equal(checkField('money', money, 10n, codeTables), 'invalid_type', 'JSON.stringify throws on BigInt')
  const name = { type: 'text', max_chars: 50 }
  assert.equal(checkField('text', name, '张\ud800三', codeTables), 'invalid_type', 'a lone surrogate is not JSON the server reads')
  assert.equal(checkField('text', name, '张\udc00', codeTables), 'invalid_type')
  assert.equal(checkField('codes', { type: 'codes', table: 'risk', max: 4 }, ['\ud800'], codeTables), 'invalid_type')
  assert.equal(checkField('text', name, undefined, codeTables), null, 'nothing typed')
  assert.equal(checkField('text', name, undefined, codeTables, true), 'required')
})

test('numbers are read as serde reads JSON.stringify’s digits', () => {
  const year = { type: 'int', min: 2014, max: 2100 }
  // Written as 1e+21 by JSON.stringify: a float to serde, never an integer.
  assert.equal(checkField('int', year, 1e21, codeTables), 'invalid_type')
  // Whole, below 2^63: digits, an i64, out of range.
  assert.equal(checkField('int', year, 2 ** 62, codeTables), 'out_of_range')
  // 2^63 and -2^63 are written as digits beyond an i64 (u64 or float): not an integer.
  assert.equal(checkField('int', year, 2 ** 63, codeTables), 'invalid_type')
  assert.equal(checkField('int', year, -(2 ** 63), codeTables), 'invalid_type')
  assert.equal(checkField('int', year, -0, codeTables), 'out_of_range', '-0 is sent as 0')
  assert.equal(checkField('money', { type: 'money' }, -0, codeTables), null)
})

test('yuanToFen gives whole fen without float drift', () => {
  assert.equal(yuanToFen(1.1), 110)
  assert.equal(yuanToFen(0.29), 29)
  assert.equal(yuanToFen(19.99), 1999)
  assert.equal(yuanToFen(0.1 + 0.2), 30)
  assert.equal(yuanToFen(10_000_000_000), 1_000_000_000_000)
  for (const refused of [1.005, 2.345, -0.01, 10_000_000_000.01, 1e300, Number.NaN]) {
    assert.equal(yuanToFen(refused), null, String(refused))
  }
})

test('a kind this app does not know is a programming error, not a refusal', () => {
  assert.throws(() => checkField('photo', { type: 'photo' }, 'x', codeTables), TypeError)
})
