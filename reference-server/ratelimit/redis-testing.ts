import { Redis } from 'ioredis'

/**
 * The Redis for rate-limit tests: `TEST_REDIS_URL`, else `REDIS_URL`, when it answers PING. Under
 * `CI=true` a missing or unreachable Redis is a failure, never a skip (the Redis tests must run in CI).
 */
export async function redisTestUrl(): Promise<string | undefined> {
  const url = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL
  const reachable = url ? await ping(url) : false
  if (!reachable && process.env.CI === 'true') {
    throw new Error(`CI=true but no Redis${url ? ` answering at ${url}` : ''}: set TEST_REDIS_URL (the Redis tests must run in CI)`)
  }
  return reachable ? url : undefined
}

async function ping(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1_000, retryStrategy: () => null })
  r.on('error', () => undefined)
  try {
    await r.connect()
    return (await r.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    r.disconnect()
  }
}
