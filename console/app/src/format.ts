// How the app writes what it shows: masked ID and phone numbers (plain JS in
// catalogue/masks.js, held to the server's shapes by shared vectors), local dates.
export { maskIdNumber, maskPhone } from './catalogue/masks.js'

/** A day on the phone's calendar as the catalogue's dates are written (YYYY-MM-DD, local time). */
export function localDate(d: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}
