// The officer's households as the list shows them, built from the stored records with
// the pending local edits on top: the head's name, where they live, and what needs
// attention (visited this month, plan tasks due, open conflicts, edits not yet synced).
import { db, shown, type StoredRecord } from './db'

export interface HouseholdRow {
  id: string
  head: string
  place: string
  members: number
  visitedThisMonth: boolean
  tasksDue: number
  conflicts: number
  pending: boolean
  /** Lower-case text the search box matches: every member's name, the address, the natural village. */
  text: string
}

/** A plan task counts as due from a week before its deadline until it is done. */
const DUE_AHEAD_DAYS = 7

const LISTED = ['household', 'member', 'visit_log', 'plan_task', 'conflict']

export async function householdRows(): Promise<HouseholdRow[]> {
  const [records, pending] = await Promise.all([
    db.records.where('entity').anyOf(LISTED).toArray(),
    db.outbox.where('state').equals('pending').toArray(),
  ])
  const byHousehold = new Map<string, StoredRecord[]>()
  for (const r of records) {
    if (!r.household_id || r.entity === 'household') continue
    const list = byHousehold.get(r.household_id) ?? []
    list.push(r)
    byHousehold.set(r.household_id, list)
  }
  const pendingFor = new Set(pending.flatMap((c) => c.household_ids))
  const today = new Date()
  const month = today.toISOString().slice(0, 7)
  const dueBy = new Date(today.getTime() + DUE_AHEAD_DAYS * 86_400_000).toISOString().slice(0, 10)

  const rows: HouseholdRow[] = []
  for (const household of records) {
    if (household.entity !== 'household') continue
    const h = shown(household)
    if (h._deleted) continue
    const under = (byHousehold.get(household.id) ?? []).map((r) => ({ entity: r.entity, data: shown(r) }))
    const members = under.filter((r) => r.entity === 'member' && r.data.active !== false && !r.data._deleted)
    const head = members.find((m) => m.data.relation === 'head') ?? members[0]
    const names = members.map((m) => String(m.data.name ?? ''))
    const place = [h.natural_village, h.address].filter((v) => typeof v === 'string' && v !== '').join(' · ')
    rows.push({
      id: household.id,
      head: head ? String(head.data.name ?? '') : '（未登记户主）',
      place,
      members: members.length,
      visitedThisMonth: under.some((r) => r.entity === 'visit_log' && String(r.data.visited_on ?? '').startsWith(month)),
      tasksDue: under.filter((r) => r.entity === 'plan_task' && !r.data.done && String(r.data.due_date ?? '9999') <= dueBy).length,
      conflicts: under.filter((r) => r.entity === 'conflict' && r.data.status === 'open').length,
      pending: pendingFor.has(household.id),
      text: [...names, place].join(' ').toLowerCase(),
    })
  }
  rows.sort((a, b) => a.head.localeCompare(b.head, 'zh-CN'))
  return rows
}
