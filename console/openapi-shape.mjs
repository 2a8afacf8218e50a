// Keeps the shape of the server's OpenAPI document and drops its prose (`summary`,
// `description`): the generated types then change only when the API does, not when a
// doc comment in the server is reworded, so the committed schema.d.ts goes stale only
// for a change the console must follow. Reads and rewrites openapi.json in place.
import { readFileSync, writeFileSync } from 'node:fs'

function strip(node, inProperties) {
  if (Array.isArray(node)) return node.map((item) => strip(item, false))
  if (node === null || typeof node !== 'object') return node
  const out = {}
  for (const [key, value] of Object.entries(node)) {
    // Under `properties` the keys are field names: a field may be called `description`.
    if (!inProperties && (key === 'description' || key === 'summary') && typeof value === 'string') continue
    out[key] = strip(value, key === 'properties' && !inProperties)
  }
  return out
}

const document = JSON.parse(readFileSync('openapi.json', 'utf8'))
writeFileSync('openapi.json', JSON.stringify(strip(document, false), null, 2) + '\n')
