// R1, the per-capita net income (农民年人均纯收入), computed on the phone for the live
// figure of the income form: the same number, fen for fen, as the server's
// `net_income_per_capita` (`server/src/domain/income.rs`). Plain JavaScript with JSDoc
// types, so `node --test` runs it without a build step; `app/tests/income.test.mjs` and a
// Rust unit test both assert every case of `mobile-api/vectors/r1.json`.
//
// What it must never do: decide anything. The figure is a preview (「预估，以县里核算为准」):
// the county's assessment computes it again from the stored record, with the region's
// policy. Nor may it touch a float: amounts are whole fen in BigInt, so no sum drifts,
// and it subtracts no rigid expense (教育、医疗支出 are recorded, never subtracted).

/**
 * One year's income in whole fen, by the income record's field names (`yuanToFen` of
 * `check.js` turns the record's yuan into fen). A missing or `null` amount is 0, as the
 * server reads a stored record; other fields of the record (`debt`, `asset_dividend`, …)
 * take no part.
 * @typedef {Partial<Record<IncomeAmount, number | bigint | null>>} IncomeFen
 */

/**
 * @typedef {'wage' | 'ecological_post_wage' | 'business' | 'property' | 'transfer' | 'dibao' | 'wubao' | 'pension'
 *   | 'ecological_compensation' | 'business_expense' | 'education_expense' | 'medical_expense'
 *   | 'educated_member_wage' | 'educated_member_business'} IncomeAmount
 */

/**
 * R1 for one household and year (the server's `NetIncome`), every amount in fen.
 * @typedef {{
 *   grossFen: bigint,
 *   excludedPensionFen: bigint,
 *   businessExpenseFen: bigint,
 *   netFen: bigint,
 *   residentMembers: number,
 *   perCapitaFen: bigint,
 *   educationExpenseFen: bigint,
 *   medicalExpenseFen: bigint,
 * }} NetIncome
 */

/**
 * Why R1 cannot be computed (the server's `RuleError::code`): `no_resident_members`,
 * `negative_amount` (`field` says which), `income_part_exceeds_total` (`part` is larger
 * than `total`) or `amount_overflow`.
 * @typedef {{ error: string, field?: string, part?: string, total?: string }} IncomeError
 */

const I64_MIN = -(2n ** 63n)
const I64_MAX = 2n ** 63n - 1n

/** In the order the server looks for a negative one (`IncomeFacts::check`). @type {IncomeAmount[]} */
const AMOUNTS = [
  'wage',
  'ecological_post_wage',
  'business',
  'property',
  'transfer',
  'dibao',
  'wubao',
  'pension',
  'ecological_compensation',
  'business_expense',
  'education_expense',
  'medical_expense',
  'educated_member_wage',
  'educated_member_business',
]

/**
 * R1, 000 §四(一): (家庭总收入 − 家庭生产经营性支出) ÷ 家庭常住人口数, rounded half away
 * from zero to the fen. 家庭总收入 is wage + business + property + transfer, less the
 * basic pension where the region does not count it (`pensionCounted`, the region's
 * policy). `residents` are the members still in the household, counted as the server
 * counts them (`assess/facts.rs`: every member whose `active` is not false).
 *
 * @param {IncomeFen} income
 * @param {number} residents
 * @param {boolean} pensionCounted
 * @returns {NetIncome | IncomeError}
 */
export function netIncomePerCapita(income, residents, pensionCounted) {
  if (!Number.isInteger(residents) || residents < 0 || residents > 0xffffffff) {
    throw new RangeError(`residents must be a whole number of people, not ${residents}`)
  }
  if (residents === 0) return { error: 'no_resident_members' }
  const fen = /** @type {Record<IncomeAmount, bigint>} */ (
    Object.fromEntries(AMOUNTS.map((name) => [name, amount(income, name)]))
  )
  const negative = AMOUNTS.find((name) => fen[name] < 0n)
  if (negative !== undefined) return { error: 'negative_amount', field: negative }
  const transferParts = sum([fen.dibao, fen.wubao, fen.pension, fen.ecological_compensation])
  if (transferParts === null) return { error: 'amount_overflow' }
  /** @type {[string, bigint, string, bigint][]} */
  const parts = [
    ['ecological_post_wage', fen.ecological_post_wage, 'wage', fen.wage],
    ['educated_member_wage', fen.educated_member_wage, 'wage', fen.wage],
    ['educated_member_business', fen.educated_member_business, 'business', fen.business],
    ['dibao+wubao+pension+ecological_compensation', transferParts, 'transfer', fen.transfer],
  ]
  for (const [part, partFen, total, totalFen] of parts) {
    if (partFen > totalFen) return { error: 'income_part_exceeds_total', part, total }
  }
  const total = sum([fen.wage, fen.business, fen.property, fen.transfer])
  if (total === null) return { error: 'amount_overflow' }
  const grossFen = pensionCounted ? total : total - fen.pension
  const netFen = grossFen - fen.business_expense
  if (netFen < I64_MIN) return { error: 'amount_overflow' }
  return {
    grossFen,
    excludedPensionFen: pensionCounted ? 0n : fen.pension,
    businessExpenseFen: fen.business_expense,
    netFen,
    residentMembers: residents,
    perCapitaFen: divideRounded(netFen, BigInt(residents)),
    educationExpenseFen: fen.education_expense,
    medicalExpenseFen: fen.medical_expense,
  }
}

/**
 * Fen as yuan with two decimals, exactly: -76n is "-0.76", 295200n is "2952.00".
 * @param {bigint} fen
 * @returns {string}
 */
export function fenToYuanText(fen) {
  const sign = fen < 0n ? '-' : ''
  const abs = fen < 0n ? -fen : fen
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`
}

/**
 * @param {IncomeFen} income
 * @param {IncomeAmount} name
 * @returns {bigint}
 */
function amount(income, name) {
  const value = income[name]
  if (value === undefined || value === null) return 0n
  if (typeof value !== 'bigint' && !Number.isInteger(value)) throw new TypeError(`${name} must be whole fen, not ${value}`)
  const fen = BigInt(value)
  // The server holds an amount in an i64: a larger one never reaches R1.
  if (fen < I64_MIN || fen > I64_MAX) throw new RangeError(`${name} is beyond any stored amount`)
  return fen
}

/**
 * A sum as the server adds it (`checked_add` in i64): `null` when it overflows.
 * @param {bigint[]} amounts
 * @returns {bigint | null}
 */
function sum(amounts) {
  let total = 0n
  for (const a of amounts) {
    total += a
    if (total > I64_MAX || total < I64_MIN) return null
  }
  return total
}

/**
 * `n ÷ d` rounded half away from zero (`d > 0`): BigInt division truncates toward zero
 * and the remainder has the sign of `n`, as in Rust.
 * @param {bigint} n
 * @param {bigint} d
 * @returns {bigint}
 */
function divideRounded(n, d) {
  const q = n / d
  const r = n % d
  const abs = r < 0n ? -r : r
  if (abs * 2n >= d) return q + (n < 0n ? -1n : n > 0n ? 1n : 0n)
  return q
}
