// identity.js against the shared vectors: every member of
// mobile-api/vectors/member_identity.json gets the answer the server gives a pushed
// member (its fields stored by `validate::field`, then `validate::member_identity`; a
// Rust unit test asserts the same file).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { identityProblem } from '../src/catalogue/identity.js'

const cases = JSON.parse(readFileSync(new URL('../../../mobile-api/vectors/member_identity.json', import.meta.url), 'utf8'))

test('every vector of member_identity.json gets the server’s answer', () => {
  assert.ok(cases.length >= 30, `only ${cases.length} vectors`)
  const wrong = cases
    .map((c) => ({ c, got: identityProblem(c.member) }))
    .filter(({ c, got }) => JSON.stringify(got) !== JSON.stringify(c.problem))
    .map(({ c, got }) => `${JSON.stringify(c)} gave ${JSON.stringify(got)}`)
  assert.deepEqual(wrong, [])
})

test('a value a form holds that JSON never sends is nothing stored', () => {
  assert.deepEqual(identityProblem({ id_type: 'none', id_number: undefined, no_id_reason: undefined }), ['no_id_reason', 'required'])
  assert.deepEqual(identityProblem({ id_type: '', id_number: '11010519491231002X' }), null, 'an empty picker is no type')
})
