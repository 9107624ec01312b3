import { writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.ts'
import { extConsumer } from '../helpers/ext-package.ts'
import { tempDir } from '../helpers/tmp.ts'

describe('a recipe with its own copy of the library (loaded from outside the package)', () => {
  it('its validation errors keep their code (E_VALIDATION, not E_INTERNAL) and the summary counts the failure', async () => {
    // consumer/node_modules/statecraft is the built package (dist/); the CLI runs from the sources:
    // two copies of the library, two ValidationError classes.
    const dir = extConsumer()
    const recipe = `${dir}/recipe.mjs`
    writeFileSync(recipe, `import { defineRecipe, file } from 'statecraft'
export default defineRecipe({ name: 'typo', resources: () => [file({ path: ${JSON.stringify(`${dir}/x`)}, contnet: 'x' })] })
`)
    const r = await cli(['--recipe', recipe, '--host', 'local', '--json'], { cwd: dir, home: tempDir() })
    type Failure = { code: string; message: string }
    const report = JSON.parse(r.stdout) as { summary: { failed: number }; hosts: { ok: boolean; error?: Failure; resources: { status: string; error?: Failure }[] }[] }
    // The resource is the failure, at the recipe's line (its site found across the two copies).
    expect(report.hosts[0]!.ok).toBe(false)
    expect(report.hosts[0]!.resources[0]).toMatchObject({ status: 'failed', error: { code: 'E_VALIDATION', message: expect.stringMatching(/^recipe\.mjs:2:\d+: file .*: contnet is not a known field/) } })
    expect(report.summary.failed).toBe(1)
    expect(r.code).toBe(1)
  })
})
