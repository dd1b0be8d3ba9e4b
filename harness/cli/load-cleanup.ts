import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { HarnessError } from '../core/errors.js'
import { loadProfile } from '../core/profile.js'
import type { Topology } from '../core/topology.js'
import { adapterFor } from '../engine/open-target.js'
import { teardown } from '../provision/teardown.js'
import { bootstrapCredentials, login } from '../provision/session.js'

const item = z.object({ resource: z.string(), method: z.literal('DELETE'), path: z.string().startsWith('/') })
/** `created.json`: what `load prepare` made on which target, to delete afterwards (no secret in it). */
const createdFile = z.object({
  target: z.object({ profile: z.string().nullable().describe('null: the embedded reference server, gone with its command'), baseUrl: z.string() }),
  created: z.array(item),
})
export type CreatedFile = z.infer<typeof createdFile>

export function writeCreatedFile(dir: string, file: CreatedFile): string {
  const path = join(dir, 'created.json')
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n')
  return path
}

const say = (line: string) => process.stderr.write(`tenant-audit: ${line}\n`)

function readCreated(dir: string): CreatedFile {
  const path = join(dir, 'created.json')
  if (!existsSync(path)) throw new HarnessError('ERR_USAGE', `no created.json in ${dir}: not a folder \`tenant-audit load prepare\` wrote`)
  let data: unknown
  try {
    data = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new HarnessError('ERR_USAGE', `${path}: not JSON (${(err as Error).message})`)
  }
  // Before the target was recorded, created.json was the bare list.
  if (Array.isArray(data)) data = { target: { profile: null, baseUrl: '' }, created: data }
  const parsed = createdFile.safeParse(data)
  if (!parsed.success) throw new HarnessError('ERR_USAGE', `${path}: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`)
  return parsed.data
}

/**
 * `tenant-audit load cleanup DIR`: deletes, newest first, everything `load prepare` created (its
 * `created.json`), logged in as the bootstrap principal of the target it was prepared on (or
 * `--target`), and deletes the tokens file. Reports what it removed and what it could not; what
 * is left stays in `created.json`, so running it again retries. Exit 0 when nothing is left, 2 otherwise.
 */
export async function loadCleanup(dirArg: string, opts: { target?: string }): Promise<number> {
  const dir = resolve(dirArg)
  const file = readCreated(dir)
  const tokens = join(dir, 'tokens.json')
  const profilePath = opts.target ?? file.target.profile
  if (!profilePath) {
    rmSync(tokens, { force: true })
    if (file.created.length) throw new HarnessError('ERR_USAGE', `${join(dir, 'created.json')} does not say which target it was prepared on: pass --target PROFILE`)
    say('nothing to remove')
    return 0
  }
  if (!opts.target && !file.target.baseUrl) throw new HarnessError('ERR_USAGE', 'pass --target PROFILE')
  const { profile } = loadProfile(profilePath)
  const baseUrl = opts.target ? profile.baseUrl : file.target.baseUrl
  const http = adapterFor(profile, baseUrl)
  try {
    const total = file.created.length
    // teardown reads only `created`: the rest of a topology is not needed to delete.
    const topology = { created: file.created.map(({ resource, path }) => ({ resource, path })) } as Pick<Topology, 'created'> as Topology
    const result = await teardown(http, topology, async () => {
      const c = bootstrapCredentials(profile)
      return login(http, profile, undefined, c.username, c.password)
    })
    rmSync(tokens, { force: true })
    const left = file.created.filter((c) => result.leftovers.some((l) => l.startsWith(`${c.resource} ${c.path} `)))
    say(`removed ${result.removed} of ${total} from ${baseUrl}${total ? `: ${file.created.filter((c) => !left.includes(c)).map((c) => `${c.resource} ${c.path}`).join(', ')}` : ''}`)
    for (const l of result.leftovers) say(`could not remove ${l}`)
    writeCreatedFile(dir, { target: file.target, created: left })
    return left.length ? 2 : 0
  } finally {
    await http.close()
  }
}
