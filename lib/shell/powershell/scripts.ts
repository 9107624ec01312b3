import type { CostlyFact } from '../../core/types.ts'
import { marker } from '../protocol.ts'
import { PS_LIB } from './lib.ts'
import { psQuote } from './quote.ts'

/** The last boot's time (UTC, to the second) serves as the boot id: it changes with every boot. */
const PS_BOOT_ID = "$sc_bootid = try { $sc_os.LastBootUpTime.ToUniversalTime().ToString('yyyyMMddHHmmss') } catch { 'unknown' }"

/** Asked while waiting for a rebooted host. */
export const PS_BOOT_ID_SCRIPT = `$sc_os = try { Get-CimInstance -ClassName Win32_OperatingSystem } catch { $null }
${PS_BOOT_ID}
"bootid=$sc_bootid"
`

/** Restart-Computer returns once the restart is under way; the connection drops soon after. */
export const PS_REBOOT_SCRIPT = `Restart-Computer -Force
'reboot=started'
`

/**
 * The PowerShell twin of FACTS_SCRIPT: the same keys. One CIM query (Win32_OperatingSystem) gives
 * both the boot time and the memory; the version and the reboot markers are registry reads.
 */
export const PS_FACTS_SCRIPT = `${PS_LIB}
'kernel=Windows_NT'
"machine=$env:PROCESSOR_ARCHITECTURE"
"user=$env:USERNAME"
Sc-KvHex 'home' $env:USERPROFILE
"hostname=$env:COMPUTERNAME"
$sc_os = try { Get-CimInstance -ClassName Win32_OperatingSystem } catch { $null }
${PS_BOOT_ID}
"bootid=$sc_bootid"
"psversion=$($PSVersionTable.PSVersion.ToString())"
if ($sc_os) { "memkb=$($sc_os.TotalVisibleMemorySize)" }
$sc_cv = Get-ItemProperty -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion' -ErrorAction SilentlyContinue
if ($sc_cv) {
  "winmajor=$($sc_cv.CurrentMajorVersionNumber)"
  "winminor=$($sc_cv.CurrentMinorVersionNumber)"
  "winbuild=$($sc_cv.CurrentBuildNumber)"
  "winubr=$($sc_cv.UBR)"
  Sc-KvHex 'winedition' $sc_cv.EditionID
  Sc-KvHex 'windisplay' $sc_cv.DisplayVersion
}
$sc_reboot = (Test-Path -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending') -or
  (Test-Path -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired') -or
  ($null -ne (Get-ItemProperty -LiteralPath 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager' -Name PendingFileRenameOperations -ErrorAction SilentlyContinue))
"reboot=$(if ($sc_reboot) { 1 } else { 0 })"
$sc_pm = @(Get-Command -Name @('winget', 'choco', 'scoop', 'conda', 'mamba', 'micromamba') -CommandType Application -ErrorAction SilentlyContinue | ForEach-Object { $_.Name -replace '\\.(exe|cmd|bat|ps1)$', '' })
if (($sc_pm -notcontains 'winget') -and $env:LOCALAPPDATA -and (Test-Path -LiteralPath (Join-Path $env:LOCALAPPDATA 'Microsoft\\WindowsApps\\winget.exe'))) { $sc_pm += 'winget' }
"pkgmgrs=$(($sc_pm | Sort-Object -Unique) -join ' ')"
`

/**
 * The GPU part (only for a recipe that declares `facts: ['gpu']`): nvidia-smi as on Linux, else
 * the AMD adapters Windows knows (a second CIM query, which costs time).
 */
const PS_GPU_SCRIPT = `'gpu=1'
& {
  # Windows PowerShell turns a native program's redirected stderr into errors, which 'Stop' makes fatal.
  $ErrorActionPreference = 'SilentlyContinue'
  # The commas are quoted: bare, PowerShell reads them as arrays and passes the parts space-separated.
  if (Get-Command -Name nvidia-smi -CommandType Application) {
    Sc-KvHex 'gpuquery' ((& nvidia-smi '--query-gpu=name,driver_version,memory.total' '--format=csv,noheader,nounits' 2>$null) -join "\`n")
    $sc_v = (& nvidia-smi --version 2>$null) -join "\`n"
    if ($sc_v -notmatch 'CUDA') { $sc_v = (& nvidia-smi 2>$null | Select-Object -First 5) -join "\`n" }
    Sc-KvHex 'gpuversion' $sc_v
  } else {
    $sc_amd = @(Get-CimInstance -ClassName Win32_VideoController | Where-Object { $_.AdapterCompatibility -match 'Advanced Micro Devices|AMD|ATI' } | ForEach-Object { $_.Name })
    Sc-KvHex 'gpuwmi' ($sc_amd -join "\`n")
  }
}
`

/** The facts script with the costly parts the recipe declared. */
export function psFactsScript(costly: readonly CostlyFact[]): string {
  return costly.includes('gpu') ? `${PS_FACTS_SCRIPT}${PS_GPU_SCRIPT}` : PS_FACTS_SCRIPT
}

function psLockPath(path: string): string {
  return path.startsWith('~/') ? `(Join-Path $env:USERPROFILE ${psQuote(path.slice(2))})` : psQuote(path)
}

/** The lock file is created with CreateNew, which fails if it exists: atomic on NTFS. */
const CREATE = `try {
  $f = [IO.File]::Open($sc_lock, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write)
  $b = [Text.Encoding]::UTF8.GetBytes($sc_info); $f.Write($b, 0, $b.Length); $f.Close(); 'lock=acquired'
} catch [IO.IOException] {
  if (Test-Path -LiteralPath $sc_lock) { 'lock=held'; Sc-KvHex 'holder' ([IO.File]::ReadAllText($sc_lock)) } else { 'lock=error' }
}`

export function psAcquireScript(path: string, prefix: string): string {
  return `$sc_lock = ${psLockPath(path)}
$sc_info = ${psQuote(prefix)} + '|' + $sc_bootid
$null = New-Item -ItemType Directory -Force -Path (Split-Path -Parent $sc_lock)
${CREATE}
Sc-KvHex 'lockinfo' $sc_info
if (Test-Path -LiteralPath ($sc_lock + '.reboot')) { Sc-KvHex 'rebootmark' ([IO.File]::ReadAllText($sc_lock + '.reboot')) }
`
}

/** The twin of markRebootScript. */
export function psMarkRebootScript(path: string, text: string): string {
  return `$sc_lock = ${psLockPath(path)}
[IO.File]::WriteAllText($sc_lock + '.reboot', ${psQuote(text)})
`
}

export function psTakeoverScript(path: string, staleInfo: string, info: string): string {
  return `${PS_LIB}
$sc_lock = ${psLockPath(path)}
$sc_info = ${psQuote(info)}
if ((Test-Path -LiteralPath $sc_lock) -and ([IO.File]::ReadAllText($sc_lock) -eq ${psQuote(staleInfo)})) { Remove-Item -LiteralPath $sc_lock -Force }
${CREATE}
`
}

export function psReleaseScript(path: string, info: string): string {
  return `$sc_lock = ${psLockPath(path)}
if ((Test-Path -LiteralPath $sc_lock) -and ([IO.File]::ReadAllText($sc_lock) -eq ${psQuote(info)})) { Remove-Item -LiteralPath $sc_lock -Force }
`
}

export function psBatchScript(snippets: string[], nonce: string): string {
  const parts = [PS_LIB]
  snippets.forEach((s, i) => parts.push(`'${marker(nonce, String(i))}'`, `& {\n${s}\n}`))
  parts.push(`'${marker(nonce, 'end')}'`)
  return `${parts.join('\n')}\n`
}
