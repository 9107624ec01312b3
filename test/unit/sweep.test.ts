import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { findSecrets, ProcessSweep } from '../helpers/sweep.ts'

describe('the secrets sweep (it can fail)', () => {
  it('finds a secret on a command line in the process table, and reports it masked', async () => {
    const secret = `sweep-${Math.random().toString(36).slice(2)}`
    const sweep = new ProcessSweep(() => [secret]).start(50)
    const child = spawn('sh', ['-c', 'sleep 1', secret])
    await new Promise((r) => child.on('exit', r))
    sweep.stop()
    expect(sweep.samples).toBeGreaterThan(3)
    expect(sweep.hits).toHaveLength(1)
    expect(sweep.hits[0]).toContain('sh -c sleep 1 ********')
    expect(sweep.hits[0]).not.toContain(secret)
  })

  it('finds a secret in output, and ignores values too short to be one', () => {
    expect(findSecrets('token=hf_abcdefgh done', ['hf_abcdefgh', 'ab'], 'stdout')).toEqual(['stdout: secret hf… (11 chars) in "token=******** done"'])
    expect(findSecrets('nothing here', ['hf_abcdefgh'], 'stdout')).toEqual([])
  })
})
