// income.js against the shared vectors: every case of mobile-api/vectors/r1.json gives
// the per-capita figure (or the error) of the server's R1 (a Rust unit test asserts the
// same file), computed in BigInt from the numbers JSON.parse gives.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fenToYuanText, netIncomePerCapita } from '../src/rules/income.js'

const cases = JSON.parse(readFileSync(new URL('../../../mobile-api/vectors/r1.json', import.meta.url), 'utf8'))

test('every vector of r1.json gives the server’s per-capita figure', () => {
  assert.ok(cases.length >= 40, `only ${cases.length} vectors`)
  const wrong = []
  for (const c of cases) {
    const result = netIncomePerCapita(c.income, c.residents, c.pension_counted)
    const got = 'error' in result ? { error: result.error } : { per_capita: result.perCapitaFen }
    const expected = c.error ? { error: c.error } : { per_capita: BigInt(c.per_capita) }
    if (got.error !== expected.error || got.per_capita !== expected.per_capita) {
      wrong.push(`${JSON.stringify(c)} gave ${got.error ?? got.per_capita}`)
    }
  }
  assert.deepEqual(wrong, [])
})

test('the figure keeps the parts the income form shows', () => {
  const r = netIncomePerCapita({ wage: 800_000, business: 100_000, transfer: 200_000, pension: 120_000, business_expense: 140_000, medical_expense: 500_000 }, 3, false)
  assert.ok(!('error' in r))
  assert.deepEqual(
    [r.grossFen, r.excludedPensionFen, r.businessExpenseFen, r.netFen, r.perCapitaFen, r.medicalExpenseFen],
    [980_000n, 120_000n, 140_000n, 840_000n, 280_000n, 500_000n],
  )
  assert.deepEqual(netIncomePerCapita({ business_expense: -1, wage: -1 }, 1, true), { error: 'negative_amount', field: 'wage' })
  assert.deepEqual(netIncomePerCapita({ transfer: 1, pension: 2 }, 1, true), {
    error: 'income_part_exceeds_total',
    part: 'dibao+wubao+pension+ecological_compensation',
    total: 'transfer',
  })
})

test('amounts are whole fen and residents whole people', () => {
  assert.throws(() => netIncomePerCapita({ wage: 1.5 }, 1, true), TypeError)
  assert.throws(() => netIncomePerCapita({ wage: 2n ** 63n }, 1, true), RangeError)
  assert.throws(() => netIncomePerCapita({}, -1, true), RangeError)
  assert.throws(() => netIncomePerCapita({}, 1.5, true), RangeError)
  assert.equal(netIncomePerCapita({ wage: null }, 1, true).perCapitaFen, 0n, 'null is no amount')
})

test('fen are written as yuan exactly', () => {
  assert.equal(fenToYuanText(295_200n), '2952.00')
  assert.equal(fenToYuanText(-76n), '-0.76')
  assert.equal(fenToYuanText(5n), '0.05')
  assert.equal(fenToYuanText(0n), '0.00')
  assert.equal(fenToYuanText(9_223_372_036_854_774_784n), '92233720368547747.84')
})
