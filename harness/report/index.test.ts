import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PLANTED_SECRET, fixtureReport } from './fixture.test-helper.js'
import { writeReports } from './index.js'

const FILES = ['findings.json', 'junit.xml', 'report.html', 'results.sarif', 'summary.md']
let root = ''

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'tenant-audit-report-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('writeReports', () => {
  it('writes the five files, creating the folder', async () => {
    const out = path.join(root, 'reports', 'latest')
    const written = await writeReports(fixtureReport(), out)
    expect((await readdir(out)).sort()).toEqual(FILES)
    expect(written.map((p) => path.basename(p)).sort()).toEqual(FILES)
    expect(JSON.parse(await readFile(path.join(out, 'findings.json'), 'utf8')).schemaVersion).toBe(1)
    expect(await readdir(path.join(root, 'reports'))).toEqual(['latest']) // no temp folders left
  })

  it('replaces the folder: a stale file from an earlier run is removed', async () => {
    const out = path.join(root, 'latest')
    await writeReports(fixtureReport(), out)
    await writeFile(path.join(out, 'stale.txt'), 'old')
    await writeReports(fixtureReport(), out)
    expect((await readdir(out)).sort()).toEqual(FILES)
  })

  it('scrubs a planted secret from every file', async () => {
    const out = path.join(root, 'latest')
    const raw = (await import('./json.js')).render(fixtureReport())
    expect(raw).toContain('hunter2-Planted') // the fixture really does carry it
    await writeReports(fixtureReport(), out, { secrets: [PLANTED_SECRET] })
    for (const name of FILES) {
      const text = await readFile(path.join(out, name), 'utf8')
      expect(text, name).not.toContain('hunter2-Planted')
      expect(text, name).not.toContain('Planted&')
    }
    expect(JSON.parse(await readFile(path.join(out, 'findings.json'), 'utf8')).findings).toHaveLength(3)
    JSON.parse(await readFile(path.join(out, 'results.sarif'), 'utf8'))
  })

  it('refuses to replace a folder that is not a report folder', async () => {
    const out = path.join(root, 'src')
    await mkdir(path.join(out, 'lib'), { recursive: true })
    await writeFile(path.join(out, 'main.ts'), 'keep me')
    await expect(writeReports(fixtureReport(), out)).rejects.toMatchObject({ code: 'ERR_USAGE' })
    expect(await readFile(path.join(out, 'main.ts'), 'utf8')).toBe('keep me')
    await expect(writeReports(fixtureReport(), process.cwd())).rejects.toMatchObject({ code: 'ERR_USAGE' })
    await expect(writeReports(fixtureReport(), path.parse(root).root)).rejects.toMatchObject({ code: 'ERR_USAGE' })
  })
})
