import { createInterface } from 'node:readline'

/** Asks on the terminal without echoing what is typed (for the sudo password). */
export function readSecret(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream }
    let asked = false
    out._writeToOutput = (s: string) => {
      if (!asked) {
        asked = true
        out.output.write(s)
      }
    }
    rl.question(question, (answer) => {
      rl.close()
      process.stderr.write('\n')
      resolve(answer)
    })
    rl.on('SIGINT', () => {
      rl.close()
      reject(new Error('interrupted'))
    })
  })
}
