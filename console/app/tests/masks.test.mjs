// masks.js against the shared vectors: every case of mobile-api/vectors/masks.json is
// masked as the server's `mask_id_number` / `mask_phone` mask it (a Rust unit test
// asserts the same file). Plus the one input Rust has no answer for, so no vector can.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { maskIdNumber, maskPhone } from '../src/catalogue/masks.js'

const cases = JSON.parse(readFileSync(new URL('../../../mobile-api/vectors/masks.json', import.meta.url), 'utf8'))

test('every vector of masks.json is masked as the server masks it', () => {
  assert.ok(cases.length >= 30, `only ${cases.length} vectors`)
  const mask = { id_number: maskIdNumber, phone: maskPhone }
  const wrong = cases
    .map((c) => ({ c, got: mask[c.kind](c.value) }))
    .filter(({ c, got }) => got !== c.masked)
    .map(({ c, got }) => `${JSON.stringify(c)} gave ${JSON.stringify(got)}`)
  assert.deepEqual(wrong, [])
})

test('20 characters whose 18th byte is inside a character are hidden whole', () => {
  // Rust's `person_id` gives such a value back whole and `mask_id_number` recurses until
  // its stack overflows; the app hides everything rather than guess a shape.
  const grouped = '110105\u300019491231\u3000002X'
  assert.equal([...grouped].length, 20)
  assert.equal(maskIdNumber(grouped), '*'.repeat(20))
  assert.equal(maskIdNumber('😀'.repeat(20)), '*'.repeat(20))
})
