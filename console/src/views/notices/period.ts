// A notice's period ends at the midnight after its last day (Beijing time): shown as
// that day's 23:59, so 截止 reads as the last day a villager may object, not the next.
export function lastMinute(rfc3339: string | null | undefined): string | null {
  if (!rfc3339) return null
  const at = Date.parse(rfc3339)
  return Number.isNaN(at) ? rfc3339 : new Date(at - 60_000).toISOString()
}
