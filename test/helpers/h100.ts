import { readFileSync } from 'node:fs'

/**
 * The captured outputs of a real Ubuntu 24.04 host with one NVIDIA H100 (test/fixtures/gpu-linux-nvidia-h100,
 * see its README). The capture files hold several commands each as `$ <command>`, its output, `[exit N]`.
 */
const dir = new URL('../fixtures/gpu-linux-nvidia-h100/', import.meta.url)

export const h100File = (name: string): string => readFileSync(new URL(name, dir), 'utf8')

/** What `command` printed in a capture file (without the `$` line and the `[exit N]` line). */
export function h100Output(file: string, command: string): string {
  const text = h100File(file)
  const start = text.indexOf(`$ ${command}\n`)
  if (start < 0) throw new Error(`${file}: no capture of \`${command}\``)
  const from = start + command.length + 3
  const end = text.indexOf('\n[exit ', from)
  return text.slice(from, end + 1)
}

/** The os-release text of that host, from system.txt. */
export const h100OsRelease = (): string => h100Output('system.txt', 'cat /etc/os-release')
