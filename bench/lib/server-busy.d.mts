/** Requests served and milliseconds with at least one request in flight, in this process. */
export function serverBusy(): { requests: number; busyMs: number }
