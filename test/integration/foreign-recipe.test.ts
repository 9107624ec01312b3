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
    const report = JSON.parse(r.stdout) as { hosts: { ok: boolean; error?: { code: string; message: string } }[] }
    expect(report.hosts[0]!.error).toMatchObject({ code: 'E_VALIDATION', message: expect.stringMatching(/contnet is not a known field/) })
    expect(r.code).toBe(1)
  })
})
