import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { profileSchema } from '../harness/core/profile.js'

/** The JSON Schema of target profiles, for editor completion (`# yaml-language-server: $schema=…`). */
export function profileJsonSchema(): string {
  const schema = z.toJSONSchema(profileSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>
  return JSON.stringify({ ...schema, $id: 'https://tenant-audit.dev/schemas/target.schema.json', title: 'tenant-audit target profile' }, null, 2) + '\n'
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL('../fixtures/targets/target.schema.json', import.meta.url), profileJsonSchema())
}
