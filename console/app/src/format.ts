// How the app writes a masked ID or phone number in a list: the same shapes as the
// server's lists (mobile-api `validate::mask_id_number` / `mask_phone`), so an officer
// reads the same thing on the phone and in the console.
export function maskIdNumber(id: string): string {
  const chars = [...id]
  if (chars.length === 20) return `${maskIdNumber(chars.slice(0, 18).join(''))}**`
  if (chars.length < 10) return '*'.repeat(chars.length)
  return chars.slice(0, 6).join('') + '*'.repeat(chars.length - 10) + chars.slice(-4).join('')
}

export function maskPhone(phone: string): string {
  const chars = [...phone]
  if (chars.length < 7) return '*'.repeat(chars.length)
  return chars.slice(0, 3).join('') + '*'.repeat(chars.length - 7) + chars.slice(-4).join('')
}

/** A day on the phone's calendar as the catalogue's dates are written (YYYY-MM-DD, local time). */
export function localDate(d: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}
