import type { ResourceType } from '../core/types.ts'
import { commandType } from './command.ts'
import { condaType } from './conda/conda.ts'
import { condaEnvType } from './conda-env/conda-env.ts'
import { directoryType } from './directory.ts'
import { downloadType } from './download/download.ts'
import { fileType } from './file.ts'
import { gitType } from './git.ts'
import { homebrewType } from './homebrew.ts'
import { httpCheckType } from './http-check/http-check.ts'
import { lineType } from './line.ts'
import { pkgType } from './pkg/pkg.ts'
import { rustupType } from './rustup.ts'
import { serviceType } from './service/service.ts'
import { symlinkType } from './symlink.ts'
import { uvType } from './uv.ts'
import { xcodeCommandLineToolsType } from './xcode-clt.ts'

/** Every built-in resource type: what the shell lint and grammar tests run, each with its examples. */
export const builtinTypes: readonly ResourceType<any, any, any>[] = [fileType, directoryType, symlinkType, lineType, commandType, gitType, downloadType, condaType, condaEnvType, rustupType, uvType, xcodeCommandLineToolsType, homebrewType, pkgType, httpCheckType, serviceType]

/** Built-ins for macOS hosts only (refused on Linux, no PowerShell half): the lint tests run their examples with macOS facts. */
export const macOnlyTypes: ReadonlySet<string> = new Set(['xcodeCommandLineTools', 'homebrew'])
