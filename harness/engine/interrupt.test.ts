import { afterEach, describe, expect, it } from 'vitest'
import { RunInterrupt } from './interrupt.js'
import type { RunUndo } from './prepare.js'
import type { RunState } from '../vitest/state.js'

const state = (): RunState => ({ startedAt: 0, seed: 1, target: { name: 'x', baseUrl: 'http://x' }, faults: [], provisioningRequests: 0, secrets: [] })

/** An undo whose teardown waits for `release`, removing `ledger` entries as a real one would. */
function fakeUndo(ledger: string[]) {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  let cleaning: Promise<void> | undefined
  const s = state()
  const undo: RunUndo = {
    state: s,
    pending: () => [...(s.teardown?.leftovers ?? []), ...ledger],
    cleanup: () => (cleaning ??= (async () => {
      s.teardown = { removed: 0, leftovers: [] }
      await gate
      s.teardown.removed = ledger.splice(0).length
    })()),
  }
  return { undo, release }
}

function harness(deadlineMs = 60_000) {
  const lines: string[] = []
  const codes: number[] = []
  let exited!: () => void
  const exit = new Promise<void>((r) => (exited = r))
  const interrupt = new RunInterrupt({ write: (l) => void lines.push(l), exit: (c) => (codes.push(c), exited()), deadlineMs })
  return { interrupt, lines, codes, exit }
}

describe('RunInterrupt', () => {
  it('first signal: aborts requests, stops the runner, runs the undo, one line, exit 130', async () => {
    const { interrupt, lines, codes, exit } = harness()
    const { undo, release } = fakeUndo(['accounts /a/2', 'accounts /a/1'])
    interrupt.setUndo(undo)
    const stopped: string[] = []
    interrupt.onStop(async () => void stopped.push('vitest'))
    interrupt.handle('SIGINT')
    expect(interrupt.fired).toBe(true)
    expect(interrupt.signal.aborted).toBe(true)
    release()
    await exit
    expect(stopped).toEqual(['vitest'])
    expect(lines).toEqual(['tenant-audit: interrupted (SIGINT); removed 2 created resources'])
    expect(codes).toEqual([130])
  })

  it('before anything was created: says so and exits 130', async () => {
    const { interrupt, lines, codes, exit } = harness()
    interrupt.handle('SIGTERM')
    await exit
    expect(lines).toEqual(['tenant-audit: interrupted (SIGTERM); nothing had been created'])
    expect(codes).toEqual([130])
  })

  it('second signal: says what is still being removed; third: exits at once listing what was not removed', async () => {
    const { interrupt, lines, codes } = harness()
    const { undo } = fakeUndo(['accounts /a/2', 'principals /p/1'])
    interrupt.setUndo(undo)
    interrupt.handle('SIGINT')
    await new Promise((r) => setTimeout(r, 10))
    interrupt.handle('SIGINT')
    expect(lines).toEqual(['tenant-audit: interrupted again; still removing accounts /a/2; principals /p/1 (once more to exit at once)'])
    interrupt.handle('SIGINT')
    expect(lines[1]).toBe('tenant-audit: interrupted a third time; exiting without finishing teardown; not removed (delete by hand): accounts /a/2; principals /p/1')
    expect(codes).toEqual([130])
  })

  it('a teardown past the deadline: exits listing what was not removed', async () => {
    const { interrupt, lines, codes, exit } = harness(50)
    interrupt.setUndo(fakeUndo(['accounts /a/1']).undo)
    interrupt.handle('SIGINT')
    await exit
    expect(lines).toEqual(['tenant-audit: teardown still running 0.05 s after SIGINT; exiting without finishing teardown; not removed (delete by hand): accounts /a/1'])
    expect(codes).toEqual([130])
  })

  describe('installed', () => {
    const saved = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') }
    afterEach(() => {
      for (const s of ['SIGINT', 'SIGTERM'] as const) {
        process.removeAllListeners(s)
        for (const l of saved[s]) process.on(s, l)
      }
    })

    it('owns the signals: listeners added while it is installed (Vitest exits 1 ms after a signal) are taken off', async () => {
      const interrupt = new RunInterrupt({ write: () => {}, exit: () => {} }).install()
      const other = () => {}
      process.once('SIGINT', other)
      await Promise.resolve()
      expect(process.listeners('SIGINT')).toHaveLength(1)
      expect(process.listeners('SIGTERM')).toHaveLength(1)
      interrupt.uninstall()
      expect(process.listeners('SIGINT')).toHaveLength(0)
      process.on('SIGINT', other)
      await Promise.resolve()
      expect(process.listeners('SIGINT')).toEqual([other])
    })
  })
})
