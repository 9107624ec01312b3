import { command, defineRecipe, directory, file, line, symlink } from '../lib/index.ts'

/**
 * A small recipe that touches only a directory of its own (default ~/statecraft-demo): the
 * default until the InvokeAI recipe lands, and a tour of the resources.
 */
export default defineRecipe({
  name: 'demo',
  description: 'A harmless tour of the resources, confined to one directory',
  options: {
    dir: { type: 'path', default: '~/statecraft-demo', description: 'where the demo writes' },
    greeting: { type: 'string', default: 'hello from statecraft', description: 'text of hello.txt' },
  },
  resources: ({ options, facts }) => {
    const dir = options.dir
    // Windows has ACLs, not modes, and no sh: the same tour there without them (a plan of it is
    // shipped as a snapshot, recipes/snapshots/demo/).
    const win = facts.os === 'windows'
    const mode = (m: string): { mode?: string } => (win ? {} : { mode: m })
    return [
      directory({ path: dir, ...mode('0755') }),
      directory({ path: `${dir}/conf`, ...mode('0700') }),
      file({ path: `${dir}/hello.txt`, content: `${options.greeting}\n`, ...mode('0644') }),
      file({ path: `${dir}/conf/host.env`, content: `HOST_OS=${facts.os}\nHOST_ARCH=${facts.arch}\n`, ...mode('0600') }),
      line({ path: `${dir}/profile`, match: '^export DEMO_GREETING=', line: `export DEMO_GREETING='${options.greeting.replaceAll("'", '')}'` }),
      symlink({ path: `${dir}/current`, target: 'hello.txt' }),
      command({
        id: 'stamp',
        argv: win ? ['powershell.exe', '-NoProfile', '-Command', 'Get-Date -Format u | Set-Content stamp.txt'] : ['sh', '-c', 'date -u > stamp.txt'],
        cwd: dir,
        creates: `${dir}/stamp.txt`,
      }),
    ]
  },
})
