import { versionSatisfies } from '../../lib/facts/version.ts'
import type { Facts } from '../../lib/index.ts'
import type { TorchBuild } from './backend.ts'

/** PyTorch's own wheel index; `<base>/<backend>` serves the cuXYZ / rocmX.Y / cpu builds. */
export const TORCH_INDEX = 'https://download.pytorch.org/whl'
export const PYTHON = '3.12'

/**
 * The Python an InvokeAI release installs on: up to 5.9 its pyproject requires Python < 3.12
 * (`requires-python = ">=3.10, <3.12"`), so those get 3.11; 5.10 and later take 3.12.
 */
export function pythonFor(version: string): string {
  return versionSatisfies(version, '<5.10.0') ? '3.11' : PYTHON
}

/** How the env is built: uv where it is or can be installed, else the host's python3 with venv + pip. */
export type Route = 'uv' | 'pip'

export interface EnvCommands {
  /** argv that creates the env at `env` (a fresh directory). */
  create: string[]
  /** argv that installs InvokeAI with the chosen torch build into it. */
  install: string[]
  /** The env's python. */
  python: string
  /** The env's `invokeai-web`. */
  web: string
}

/** Where an env's programs live: `bin/` on POSIX, `Scripts\` with `.exe` on Windows. */
export function envProgram(facts: Facts, env: string, name: string): string {
  return facts.os === 'windows' ? `${env}\\Scripts\\${name}.exe` : `${env}/bin/${name}`
}

/**
 * The argv that build one env (pure). uv: `uv venv --python 3.12` (3.11 up to InvokeAI 5.9), then `uv pip install` with
 * `--torch-backend` (uv sends only the torch packages to PyTorch's index). pip: the host's
 * python3 -m venv, then pip with PyTorch's index first and PyPI second, since pip has no
 * per-package index. MPS (Apple Silicon) is PyPI's default wheels: no flag, no index.
 * `index` replaces PyPI (a mirror, or the e2e's local wheel index).
 */
export function envCommands(facts: Facts, o: { route: Route; env: string; version: string; build: TorchBuild; uv?: string; python3?: string; index?: string }): EnvCommands {
  const python = envProgram(facts, o.env, 'python')
  const web = envProgram(facts, o.env, 'invokeai-web')
  const spec = `invokeai==${o.version}`
  const torchIndex = o.build.backend === 'mps' ? [] : [`${TORCH_INDEX}/${o.build.backend}`]
  if (o.route === 'uv') {
    const uv = o.uv ?? 'uv'
    return {
      create: [uv, 'venv', '--python', pythonFor(o.version), o.env],
      install: [uv, 'pip', 'install', '--python', python, ...(o.index ? ['--index-url', o.index] : []),
        ...(o.build.backend === 'mps' ? [] : [`--torch-backend=${o.build.backend}`]), spec],
      python,
      web,
    }
  }
  const indexes = o.index ? [o.index] : [...torchIndex, 'https://pypi.org/simple']
  const [first, ...rest] = indexes
  // pip ignores a plain-http index unless told to trust its host (a LAN mirror, the e2e's index).
  const trusted = indexes.flatMap((u) => (u.startsWith('http://') ? ['--trusted-host', new URL(u).host] : []))
  return {
    create: [o.python3 ?? (facts.os === 'windows' ? 'python' : 'python3'), '-m', 'venv', o.env],
    install: [python, '-m', 'pip', 'install', '--disable-pip-version-check', '--index-url', first as string,
      ...rest.flatMap((u) => ['--extra-index-url', u]), ...trusted, spec],
    python,
    web,
  }
}

/**
 * The GPU smoke test run by the env's python: a tiny tensor op on the chosen device, checked.
 * The device is argv, never spliced into the code. Prints one line for the report.
 */
export const SMOKE_TEST = [
  'import sys, torch',
  'dev = sys.argv[1]',
  "if dev == 'cuda' and not torch.cuda.is_available(): sys.exit('torch ' + torch.__version__ + ': CUDA/ROCm is not available to this env')",
  "if dev == 'mps' and not torch.backends.mps.is_available(): sys.exit('torch ' + torch.__version__ + ': MPS is not available to this env')",
  'x = torch.arange(8, dtype=torch.float32, device=dev)',
  'y = float((x * 2).sum().cpu())',
  "if y != 56.0: sys.exit('tensor op on ' + dev + ' gave ' + str(y) + ', expected 56.0')",
  "name = torch.cuda.get_device_name(0) if dev == 'cuda' else dev",
  "print('smoke ok: torch', torch.__version__, 'on', name)",
].join('\n')

export function smokeTest(python: string, build: TorchBuild): string[] {
  return [python, '-c', SMOKE_TEST, build.device]
}
