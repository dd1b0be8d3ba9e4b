import { describe, expect, it } from 'vitest'
import { NASTY, fixtureReport } from './fixture.test-helper.js'
import { render } from './junit.js'

/**
 * A small XML 1.0 well-formedness check (node has no DOMParser): balanced tags,
 * quoted attributes without `<`, only known entities, no forbidden characters.
 */
function assertWellFormed(xml: string): void {
  expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/)
  expect(xml).not.toMatch(/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/)
  const body = xml.replace(/^<\?xml[^?]*\?>/, '')
  const stack: string[] = []
  const tag = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|</g
  let m: RegExpExecArray | null
  while ((m = tag.exec(body)) !== null) {
    if (m[2] === undefined) throw new Error(`stray "<" at ${m.index}: ${body.slice(m.index, m.index + 40)}`)
    if (m[1] === '/') expect(stack.pop()).toBe(m[2])
    else if (m[4] !== '/') stack.push(m[2])
  }
  expect(stack).toEqual([])
}

describe('junit.xml', () => {
  const xml = render(fixtureReport())

  it('is well-formed XML', () => {
    assertWellFormed(xml)
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true)
  })

  it('has one testsuite per suite and one testcase per check', () => {
    expect(xml.match(/<testsuite /g)).toHaveLength(4)
    expect(xml.match(/<testcase /g)).toHaveLength(5)
    expect(xml).toContain('<testcase classname="access" name="access/private-notes" time="2.000"/>')
    expect(xml).toMatch(/<testsuites name="tenant-audit" tests="5" failures="2" errors="1" skipped="1"/)
  })

  it('maps statuses to failure, skipped and error', () => {
    expect(xml).toMatch(/<failure message="[^"]*" type="critical">\[F-0001\] critical: /)
    expect(xml).toContain('[F-0003] low: foreign id answered 403 instead of 404')
    expect(xml).toMatch(/<skipped message="target has no rate limits [^"]*"\/>/)
    expect(xml).toContain('<error message="audit.list operation missing from contract" type="harness-error"/>')
  })

  it('escapes markup, quotes and control characters', () => {
    expect(xml).not.toContain(NASTY)
    expect(xml).not.toContain('<script>')
    expect(xml).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;quoted&apos; | pipe \\u0001\\u0007 bell')
  })
})
