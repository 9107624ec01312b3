import { command, type Facts, type Resource } from '../../lib/index.ts'
import { psQuote } from '../../lib/kit.ts'

/**
 * Opens the web UI's port where a firewall is active, since nobody can answer the system's prompt
 * over SSH. Each is a command whose guard is "no such firewall is active, or it already allows
 * this": a host without one changes nothing. `program`: the env's python (Windows, macOS).
 */
export function firewall(facts: Facts, port: number, program: string, after: string[]): Resource[] {
  const p = String(port)
  if (facts.os === 'windows') {
    const rule = psQuote(`statecraft invokeai ${p}`)
    return [command({
      id: 'firewall',
      argv: ['powershell.exe', '-NoProfile', '-NonInteractive', '-Command',
        `New-NetFirewallRule -DisplayName ${rule} -Direction Inbound -Action Allow -Protocol TCP -LocalPort ${p} -Program ${psQuote(program)} | Out-Null`],
      unless: ['powershell.exe', '-NoProfile', '-NonInteractive', '-Command', `if (Get-NetFirewallRule -DisplayName ${rule} -ErrorAction SilentlyContinue) { exit 0 } else { exit 1 }`],
      after,
    })]
  }
  if (facts.os === 'darwin') {
    const fw = '/usr/libexec/ApplicationFirewall/socketfilterfw'
    return [command({
      id: 'firewall',
      argv: ['sh', '-c', `${fw} --add "$1" && ${fw} --unblockapp "$1"`, 'sc-firewall', program],
      unless: ['sh', '-c', `${fw} --getglobalstate | grep -q disabled || ${fw} --getappblocked "$1" | grep -q permitted`, 'sc-firewall', program],
      become: true,
      after,
    })]
  }
  return [
    command({
      id: 'firewall-ufw',
      argv: ['ufw', 'allow', `${p}/tcp`],
      unless: ['sh', '-c', '! command -v ufw >/dev/null 2>&1 || ! ufw status | grep -q "Status: active" || ufw status | grep -Eq "^$1/tcp +ALLOW"', 'sc-firewall', p],
      become: true,
      after,
    }),
    command({
      id: 'firewall-firewalld',
      argv: ['sh', '-c', 'firewall-cmd --permanent --add-port="$1/tcp" && firewall-cmd --reload', 'sc-firewall', p],
      unless: ['sh', '-c', '! command -v firewall-cmd >/dev/null 2>&1 || ! firewall-cmd --state >/dev/null 2>&1 || firewall-cmd --query-port="$1/tcp"', 'sc-firewall', p],
      become: true,
      after,
    }),
  ]
}
