import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { ROOT } from './cli.ts'
import { tempDir } from './tmp.ts'

/** The JUnit dialect Jenkins and GitLab read, as an XSD kept with the tests. */
export const JUNIT_XSD = `${ROOT}test/fixtures/junit/jenkins-junit.xsd`

/** xmllint's verdict on a JUnit document against that XSD: ok, and what it said. */
export function validateJunit(xml: string): { ok: boolean; output: string } {
  const file = `${tempDir('sc-junit-')}/report.xml`
  writeFileSync(file, xml)
  const r = spawnSync('xmllint', ['--noout', '--schema', JUNIT_XSD, file], { encoding: 'utf8' })
  if (r.error) throw new Error(`xmllint did not run (${r.error.message}): install libxml2-utils`)
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` }
}

/** The testcases of a document, as [classname, name, outcome element or 'passed']. */
export function testcases(xml: string): [string, string, string][] {
  return [...xml.matchAll(/<testcase name="([^"]*)" classname="([^"]*)"[^>]*>\n(\s+<(failure|skipped|error)\b)?/g)].map((m) => [m[2] as string, m[1] as string, m[4] ?? 'passed'])
}
