import { SignJWT, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { CHECKPOINT_TYP, anchoring, jwsIn, verifyCheckpoint, type Checkpoint } from './checkpoint.js'
import type { MappedEvent } from './mapping.js'

const ACCOUNT = '6f1c1d2e-0000-4000-8000-000000000001'
let jwks: JSONWebKeySet
let sign: (payload: Record<string, unknown>, typ?: string) => Promise<string>
let signOther: (payload: Record<string, unknown>) => Promise<string>

beforeAll(async () => {
  const key = await generateKeyPair('ES256')
  const other = await generateKeyPair('ES256')
  const jwk: JWK = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }
  jwks = { keys: [jwk] }
  sign = (payload, typ = CHECKPOINT_TYP) => new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ }).setIssuedAt().sign(key.privateKey)
  signOther = (payload) => new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: CHECKPOINT_TYP }).sign(other.privateKey)
})

const event = (seq: number, hash: string): MappedEvent => ({ accountId: ACCOUNT, actor: {}, seq, hash, raw: {} })
const trail = (n: number, prefix = 'h') => Array.from({ length: n }, (_, i) => event(i + 1, `${prefix}${i + 1}`))

describe('verifyCheckpoint', () => {
  it('accepts a checkpoint signed by a JWKS key, with its own typ, and returns the signed payload', async () => {
    const jws = await sign({ trail: ACCOUNT, seq: 7, hash: 'h7', issuedAt: '2026-01-01T00:00:00.000Z' })
    expect(await verifyCheckpoint(jws, jwks)).toEqual({ ok: true, checkpoint: { trail: ACCOUNT, seq: 7, hash: 'h7', issuedAt: '2026-01-01T00:00:00.000Z', kid: 'k1' } })
  })

  it('refuses a signature by another key, another typ (an access token), and a payload without seq or hash', async () => {
    expect(await verifyCheckpoint(await signOther({ trail: ACCOUNT, seq: 7, hash: 'h7' }), jwks)).toMatchObject({ ok: false, problem: 'signature' })
    expect(await verifyCheckpoint(await sign({ trail: ACCOUNT, seq: 7, hash: 'h7' }, 'at+jwt'), jwks)).toMatchObject({ ok: false, problem: 'signature' })
    expect(await verifyCheckpoint(await sign({ trail: ACCOUNT, seq: '7', hash: 'h7' }), jwks)).toMatchObject({ ok: false, problem: 'payload' })
    expect(await verifyCheckpoint(await sign({ trail: ACCOUNT, seq: 7, hash: null }), jwks)).toMatchObject({ ok: false, problem: 'payload' })
    expect(await verifyCheckpoint(await sign({ trail: ACCOUNT, seq: 0, hash: null }), jwks)).toMatchObject({ ok: true })
  })
})

describe('jwsIn', () => {
  it('finds the compact JWS as the whole body or as a top-level member, and nothing else', () => {
    expect(jwsIn(undefined, 'a.b.c\n')).toBe('a.b.c')
    expect(jwsIn({ trail: ACCOUNT, seq: 3, jws: 'x.y.z' }, '{}')).toBe('x.y.z')
    expect(jwsIn({ trail: ACCOUNT, seq: 3, hash: 'abc' }, '{}')).toBeUndefined()
    expect(jwsIn(['x.y.z'], '["x.y.z"]')).toBeUndefined()
  })
})

describe('anchoring', () => {
  const cp = (seq: number, hash: string | null): Checkpoint => ({ trail: ACCOUNT, seq, hash })

  it('is anchored when the event at the checkpoint seq carries its hash, whatever came after', () => {
    expect(anchoring(cp(5, 'h5'), trail(5))).toEqual({ kind: 'anchored' })
    expect(anchoring(cp(5, 'h5'), trail(9))).toEqual({ kind: 'anchored' })
    expect(anchoring(cp(0, null), [])).toEqual({ kind: 'anchored' })
  })

  it('reports a trail shorter than the checkpoint (its tail removed)', () => {
    expect(anchoring(cp(5, 'h5'), trail(2))).toEqual({ kind: 'shorter', newest: 2 })
    expect(anchoring(cp(5, 'h5'), [])).toEqual({ kind: 'shorter', newest: 0 })
  })

  it('reports a tail removed and continued (another hash at the seq), and a hole at the seq', () => {
    const rewritten = [...trail(2), ...trail(6, 'x').slice(2)]
    expect(anchoring(cp(5, 'h5'), rewritten)).toEqual({ kind: 'rewritten', found: 'x5' })
    expect(anchoring(cp(5, 'h5'), trail(9).filter((e) => e.seq !== 5))).toEqual({ kind: 'missing' })
  })
})
