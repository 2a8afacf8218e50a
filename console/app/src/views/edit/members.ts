// What the member forms share (增员 in MemberAdd.vue, 减员 in MemberRemove.vue, the people
// of a new household in Apply.vue): the fields a new member's form asks, the checks the
// server would make before it answers, and the member change already open on the phone.
import { errorText, fieldLabel } from '../../catalogue/schema'
import { fieldError } from '../../catalogue/FieldEditor.vue'
import { db, shown } from '../../store/db'
import { identityProblem } from '../../catalogue/identity.js'

/** What a new member's form asks: who they are, the document rule's three fields, health. */
export const MEMBER_FIELDS = ['name', 'sex', 'relation', 'id_type', 'id_number', 'no_id_reason', 'health'] as const

// The 001 附件1 note 3 rule lives in plain JS, held to the server's
// `validate::member_identity` by shared vectors.
export { identityProblem }

/** The first thing wrong with a new member, as 「字段：原因」, or null. */
export function memberProblem(m: Record<string, unknown>): string | null {
  for (const name of MEMBER_FIELDS) {
    const wrong = fieldError('member', name, m[name] ?? null)
    if (wrong) return `${fieldLabel('member', name)}：${wrong}`
  }
  const identity = identityProblem(m)
  return identity ? `${fieldLabel('member', identity[0])}：${errorText(identity[1])}` : null
}

/**
 * ID numbers of active members on this phone (pending edits included), so a person
 * already registered in one of the officer's households is caught before the server
 * answers `duplicate_person`.
 */
export async function knownIdNumbers(): Promise<Set<string>> {
  const members = (await db.records.where('entity').equals('member').toArray()).map(shown)
  return new Set(
    members.filter((m) => !m._deleted && m.active !== false && typeof m.id_number === 'string' && m.id_number).map((m) => String(m.id_number)),
  )
}

/** The member's fields as a create sends them: nothing empty, the household it joins. */
export function memberFields(m: Record<string, unknown>, householdId: string, relation?: string): Record<string, unknown> {
  const fields: Record<string, unknown> = { household_id: householdId }
  for (const name of MEMBER_FIELDS) {
    const v = m[name]
    if (v !== null && v !== undefined && !(typeof v === 'string' && v.trim() === '')) fields[name] = v
  }
  if (relation) fields.relation = relation
  return fields
}

/**
 * The household's open member-change case, if any (pulled, or filed on this phone and
 * not yet answered): the server takes one at a time per household (`case_open`).
 */
export async function openMemberChange(householdId: string) {
  const cases = await db.records.where('[entity+household_id]').equals(['case', householdId]).toArray()
  return cases.find((c) => {
    const d = shown(c)
    return d.kind === 'member_change' && (d.status ?? 'open') === 'open'
  })
}
