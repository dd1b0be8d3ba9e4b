import type { RunUndo } from './prepare.js'

/** After the first signal, the longest the harness waits for teardown before it exits anyway. */
export const INTERRUPT_DEADLINE_MS = 60_000
/** How long stopping the test runner (Vitest) may take before teardown starts regardless. */
const STOP_GRACE_MS = 5_000

const SIGNALS = ['SIGINT', 'SIGTERM'] as const

export interface InterruptOptions {
  write?: (line: string) => void
  exit?: (code: number) => void
  deadlineMs?: number
}

/**
 * The one owner of SIGINT/SIGTERM during a run. Installed before the first request; while installed
 * it removes any other listener of these signals (Vitest's logger exits the process 1 ms after a
 * signal, which would cut teardown short). On the first signal: `signal` fires (no new request, see
 * `HttpAdapter.interruptWith`), the test runner is stopped, the run's undo removes what was created,
 * one line says so, exit 130. A second signal prints what is still being removed; a third, or the
 * deadline, exits at once and lists what could not be removed.
 */
export class RunInterrupt {
  private readonly controller = new AbortController()
  private readonly stoppers: (() => Promise<unknown>)[] = []
  private undo?: RunUndo
  private count = 0
  private readonly write: (line: string) => void
  private readonly exit: (code: number) => void
  private readonly deadlineMs: number
  private readonly onSignal = (signal: NodeJS.Signals) => this.handle(signal)
  private readonly guard = (event: string | symbol, listener: (...args: unknown[]) => void) => {
    if ((SIGNALS as readonly (string | symbol)[]).includes(event) && listener !== this.onSignal) {
      // The listener is added just after this event: take it off right after.
      queueMicrotask(() => process.off(event as NodeJS.Signals, listener))
    }
  }
  /** Never settles: the handler ends the process. What a caller awaits once `fired`. */
  readonly exited: Promise<number> = new Promise(() => {})

  constructor(opts: InterruptOptions = {}) {
    this.write = opts.write ?? ((line) => void process.stderr.write(line + '\n'))
    this.exit = opts.exit ?? ((code) => process.exit(code))
    this.deadlineMs = opts.deadlineMs ?? INTERRUPT_DEADLINE_MS
  }

  /** Aborted on the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  get fired(): boolean {
    return this.count > 0
  }

  install(): this {
    for (const s of SIGNALS) {
      for (const other of process.listeners(s)) process.off(s, other as () => void)
      process.on(s, this.onSignal)
    }
    process.on('newListener', this.guard)
    return this
  }

  uninstall(): void {
    process.off('newListener', this.guard)
    for (const s of SIGNALS) process.off(s, this.onSignal)
  }

  /** What undoes the run so far (set by `prepareAudit` before its first request). */
  setUndo(undo: RunUndo): void {
    this.undo = undo
  }

  /** Something to stop before teardown (the test runner); given at most a few seconds. */
  onStop(stop: () => Promise<unknown>): void {
    this.stoppers.push(stop)
  }

  /** Public for tests; the process calls it through the signal listener. */
  handle(signal: NodeJS.Signals): void {
    this.count++
    if (this.count === 1) void this.stop(signal)
    else if (this.count === 2) {
      const left = this.undo?.pending() ?? []
      this.write(`tenant-audit: interrupted again; still removing ${left.length ? left.join('; ') : 'nothing (closing connections)'} (once more to exit at once)`)
    } else this.abandon('interrupted a third time')
  }

  private abandon(why: string): void {
    const left = this.undo?.pending() ?? []
    this.write(`tenant-audit: ${why}; exiting without finishing teardown${left.length ? `; not removed (delete by hand): ${left.join('; ')}` : ''}`)
    this.exit(130)
  }

  private async stop(signal: NodeJS.Signals): Promise<void> {
    this.controller.abort(new Error(`${signal}: the run was interrupted`))
    // Ref'd on purpose: it keeps the process alive until teardown ends or the deadline exits it.
    const deadline = setTimeout(() => this.abandon(`teardown still running ${this.deadlineMs / 1000} s after ${signal}`), this.deadlineMs)
    const grace = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())])
    await Promise.all(this.stoppers.map((stop) => grace(stop())))
    await this.undo?.cleanup()
    clearTimeout(deadline)
    const t = this.undo?.state.teardown
    const removed = t ? `removed ${t.removed} created resource${t.removed === 1 ? '' : 's'}` : 'nothing had been created'
    this.write(`tenant-audit: interrupted (${signal}); ${removed}${t?.leftovers.length ? `; could not remove (delete by hand): ${t.leftovers.join('; ')}` : ''}`)
    this.exit(130)
  }
}
