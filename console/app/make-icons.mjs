// Draws public/icon-192.png and icon-512.png from the same shape as public/icon.svg
// (a white house on a blue rounded square), with Node's zlib only: no image tool is a
// dependency of the build. Run by hand when the icon changes: node app/make-icons.mjs
import { writeFileSync } from 'node:fs'
import { deflateSync } from 'node:zlib'

const house = [[256, 96], [96, 224], [144, 224], [144, 416], [240, 416], [240, 304], [272, 304], [272, 416], [368, 416], [368, 224], [416, 224]]

function inside(x, y, poly) {
  let on = false
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i], [xj, yj] = poly[j]
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) on = !on
  }
  return on
}

function inRoundedSquare(x, y) {
  const r = 96, cx = Math.min(Math.max(x, r), 512 - r), cy = Math.min(Math.max(y, r), 512 - r)
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r
}

const table = new Int32Array(256).map((_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c
})
function crc(buf) {
  let c = -1
  for (const b of buf) c = table[(c ^ b) & 255] ^ (c >>> 8)
  return (c ^ -1) >>> 0
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length)
  out.writeUInt32BE(data.length, 0)
  out.write(type, 4, 'ascii')
  data.copy(out, 8)
  out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length)
  return out
}

for (const size of [192, 512]) {
  const rows = Buffer.alloc(size * (1 + size * 4))
  for (let y = 0; y < size; y++) {
    rows[y * (1 + size * 4)] = 0
    for (let x = 0; x < size; x++) {
      const px = ((x + 0.5) * 512) / size, py = ((y + 0.5) * 512) / size
      const o = y * (1 + size * 4) + 1 + x * 4
      const rgba = !inRoundedSquare(px, py) ? [0, 0, 0, 0] : inside(px, py, house) ? [255, 255, 255, 255] : [0x19, 0x89, 0xfa, 255]
      rows.set(rgba, o)
    }
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header.set([8, 6, 0, 0, 0], 8)
  const png = Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
  writeFileSync(new URL(`public/icon-${size}.png`, import.meta.url), png)
}
