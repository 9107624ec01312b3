import type { Facts } from '../../core/types.ts'

/**
 * The vendors' silent conda installers statecraft knows, with their published sha256. Each row
 * names where its hash was read (a second, independent publication of the vendor's file), so a
 * reviewer can check it. Versions differ per platform: a row is the newest one whose hash could be
 * checked that way. A recipe overrides with `version` (a row below, or any version with `sha256`),
 * or with `url` + `sha256`.
 */
export type Flavor = 'miniforge' | 'miniconda' | 'anaconda'
export type CondaPlatform = 'MacOSX-arm64' | 'MacOSX-x86_64' | 'Linux-x86_64' | 'Linux-aarch64' | 'Windows-x86_64'

export interface InstallerRow {
  flavor: Flavor
  version: string
  platform: CondaPlatform
  sha256: string
  /** Where the hash was read. */
  source: string
}

const CASK = 'Homebrew/homebrew-cask Casks'
const WINGET = 'microsoft/winget-pkgs manifests'
const SPACK = 'spack/spack-packages'
const DOCKER = 'ContinuumIO/docker-images'

/** The first row per flavor and platform is the default. */
export const INSTALLERS: readonly InstallerRow[] = [
  { flavor: 'miniforge', version: '25.3.1-0', platform: 'MacOSX-arm64', sha256: 'd9eabd1868030589a1d74017b8723b01cf81b5fec1b9da8021b6fa44be7bbeae', source: `${CASK}/m/miniforge.rb` },
  { flavor: 'miniforge', version: '25.3.1-0', platform: 'MacOSX-x86_64', sha256: '6c09a3550bb65bdb6d3db6f6c2b890b987b57189f3b71c67a5af49943d2522e8', source: `${CASK}/m/miniforge.rb` },
  { flavor: 'miniforge', version: '25.3.0-3', platform: 'Linux-x86_64', sha256: '1b57f8cb991982063f79b56176881093abb1dc76d73fda32102afde60585b5a1', source: `${SPACK} miniforge3` },
  { flavor: 'miniforge', version: '25.3.0-3', platform: 'Linux-aarch64', sha256: 'ac89f17b0eec4e98d38a53d1ae688e0f22c77d8ea5b5f008c2455e90ef095339', source: `${SPACK} miniforge3` },
  { flavor: 'miniforge', version: '25.3.0-1', platform: 'Windows-x86_64', sha256: 'b14ad50d85a218268a14cad7469cabb4e5364f75d34add3792449ec935ddf3ab', source: `${WINGET}/c/CondaForge/Miniforge3/25.3.0-1` },
  { flavor: 'miniconda', version: 'py313_25.11.1-1', platform: 'MacOSX-arm64', sha256: '9f84ad10ea513fb59bb714933bc8dc092bd25fdb03c236868f5d5af3c26a1fd4', source: `${CASK}/m/miniconda.rb` },
  { flavor: 'miniconda', version: 'py313_25.7.0-2', platform: 'MacOSX-x86_64', sha256: '9c88674b1a839eeb4cff006df397a05ea7d896472318fd84b7070278f9653dc6', source: `${CASK}/m/miniconda.rb` },
  { flavor: 'miniconda', version: 'py313_25.5.1-1', platform: 'Linux-x86_64', sha256: '612af113b49db0368e2be41ac4d51b7088eebd5f31daeeb89f23fff8f920db58', source: `${SPACK} miniconda3` },
  { flavor: 'miniconda', version: 'py311_23.11.0-1', platform: 'Linux-aarch64', sha256: '63c06a1974695e50bbe767a030903d169e637e42d5b7b6d30876b19a01fbbad8', source: `${DOCKER} miniconda3/debian/Dockerfile` },
  { flavor: 'miniconda', version: 'py313_25.5.1-1', platform: 'Windows-x86_64', sha256: 'fe74721e1d17211a2d14acd9c6889948897dabaddcef7802196bb29c136d59e7', source: `${WINGET}/a/Anaconda/Miniconda3/py313_25.5.1-1` },
  { flavor: 'anaconda', version: '2025.06-1', platform: 'MacOSX-arm64', sha256: 'f9366a024ac6f043dc224986c54f1b4e1226e6ccb6291d83bdadb489f159d847', source: `${CASK}/a/anaconda.rb` },
  { flavor: 'anaconda', version: '2025.06-1', platform: 'MacOSX-x86_64', sha256: '58139fe195337f3041259e3a611339ed3afa4d164cc9aa2a7e8e84c0673e3670', source: `${CASK}/a/anaconda.rb` },
  { flavor: 'anaconda', version: '2023.09-0', platform: 'Linux-x86_64', sha256: '6c8a4abb36fbb711dc055b7049a23bbfd61d356de9468b41c5140f8a11abd851', source: `${DOCKER} anaconda3/debian/Dockerfile` },
  { flavor: 'anaconda', version: '2023.09-0', platform: 'Linux-aarch64', sha256: '69ee26361c1ec974199bce5c0369e3e9a71541de7979d2b9cfa4af556d1ae0ea', source: `${DOCKER} anaconda3/debian/Dockerfile` },
  { flavor: 'anaconda', version: '2025.06-1', platform: 'Windows-x86_64', sha256: '36ba946abeb6bb7ba3235e0ccb67660e0b545235ca467f3aa964cd4b307c14ed', source: `${WINGET}/a/Anaconda/Anaconda3/2025.06-1` },
]

const NAME: Record<Flavor, string> = { miniforge: 'Miniforge3', miniconda: 'Miniconda3', anaconda: 'Anaconda3' }

/** The vendor's published file name: `Miniforge3-25.3.0-3-Linux-x86_64.sh`, `Anaconda3-2025.06-1-Windows-x86_64.exe`. */
export function installerFile(flavor: Flavor, version: string, platform: CondaPlatform): string {
  return `${NAME[flavor]}-${version}-${platform}.${platform.startsWith('Windows') ? 'exe' : 'sh'}`
}

export function installerUrl(flavor: Flavor, version: string, platform: CondaPlatform): string {
  const file = installerFile(flavor, version, platform)
  if (flavor === 'miniforge') return `https://github.com/conda-forge/miniforge/releases/download/${version}/${file}`
  return `https://repo.anaconda.com/${flavor === 'miniconda' ? 'miniconda' : 'archive'}/${file}`
}

/**
 * The installer platform for the hardware, not the shell: an Apple Silicon Mac gets the arm64
 * installer even when statecraft's shell runs under Rosetta (where uname -m says x86_64).
 */
export function condaPlatform(facts: Facts): CondaPlatform | undefined {
  if (facts.os === 'darwin') return facts.appleSilicon ? 'MacOSX-arm64' : 'MacOSX-x86_64'
  if (facts.os === 'linux') return facts.arch === 'x64' || facts.arch === 'x86_64' ? 'Linux-x86_64' : facts.arch === 'arm64' || facts.arch === 'aarch64' ? 'Linux-aarch64' : undefined
  return facts.arch === 'x64' ? 'Windows-x86_64' : undefined
}

/** What `conda info --json` says as `platform` for a conda built for this installer platform. */
export const SUBDIR: Record<CondaPlatform, string> = {
  'MacOSX-arm64': 'osx-arm64',
  'MacOSX-x86_64': 'osx-64',
  'Linux-x86_64': 'linux-64',
  'Linux-aarch64': 'linux-aarch64',
  'Windows-x86_64': 'win-64',
}

export function pinnedInstaller(flavor: Flavor, platform: CondaPlatform, version?: string): InstallerRow | undefined {
  return INSTALLERS.find((r) => r.flavor === flavor && r.platform === platform && (version === undefined || r.version === version))
}
