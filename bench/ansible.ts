import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FleetHost } from '../test/helpers/sshd.ts'

/**
 * The Ansible side of bench/run.ts: the same 8 tasks as bench/workload8.mjs, written the way an
 * Ansible user would (facts on, the stock modules), into `work_root/<host>`. Groups n<count> (the first
 * count hosts) match the statecraft inventory. The artifact's URL and sha256 come from the environment, so
 * one playbook serves the small fleet artifact and the big one.
 */
export function ansibleFiles(work: string, hosts: FleetHost[], o: { repo: string; tag: string; groups: number[] }): void {
  const groups = o.groups.map((n) => `[n${n}]\n${hosts.slice(0, n).map((h) => h.name).join('\n')}\n`).join('\n')
  writeFileSync(join(work, 'inventory.ini'), `${hosts.map((h) => `${h.name} ansible_host=${h.address} ansible_port=${h.port}`).join('\n')}\n\n${groups}`)
  writeFileSync(
    join(work, 'playbook.yml'),
    `- hosts: all
  vars:
    root: "{{ work_root }}/{{ inventory_hostname }}"
  tasks:
    - apt: { name: coreutils, state: present }
    - file: { path: "{{ root }}/invokeai/models/ldm/stable-diffusion-v1", state: directory, mode: "0755" }
    - file: { path: "{{ root }}/invokeai/configs", state: directory, mode: "0755" }
    - git: { repo: "${o.repo}", dest: "{{ root }}/src", version: "${o.tag}" }
    - get_url: { url: "{{ lookup('env', 'BENCH_URL') }}", dest: "{{ root }}/invokeai/models/ldm/stable-diffusion-v1/model.ckpt", checksum: "sha256:{{ lookup('env', 'BENCH_SHA256') }}" }
    - copy: { dest: "{{ root }}/invokeai/configs/invokeai.init", content: "--web\\n--host=127.0.0.1\\n--port=9090\\n", mode: "0644" }
    - lineinfile: { path: "{{ root }}/profile", regexp: "^export PYTORCH_ENABLE_MPS_FALLBACK=", line: "export PYTORCH_ENABLE_MPS_FALLBACK=1", create: true }
    - command: { cmd: "touch {{ root }}/stamp", creates: "{{ root }}/stamp" }
    - file: { path: "{{ root }}/units", state: directory }
    - copy: { dest: "{{ root }}/units/invokeai.service", content: "[Unit]\\nDescription=InvokeAI\\n\\n[Service]\\nExecStart=/usr/bin/true\\n\\n[Install]\\nWantedBy=default.target\\n", mode: "0644" }
`,
  )
}

/**
 * The floor for a no-op: one script doing every check of the workload in one exec (the artifact
 * by its recorded size and mtime, as a stamp would), printing one line per check.
 */
export function checkScript(root: string): string {
  const r = `'${root}'`
  return [
    'dpkg-query -W -f="\\${Status}\\n" coreutils',
    `test -d ${r}/invokeai/models/ldm/stable-diffusion-v1 && echo d1`,
    `test -d ${r}/invokeai/configs && echo d2`,
    `git -C ${r}/src rev-parse HEAD`,
    `stat -c '%s %Y %i' ${r}/invokeai/models/ldm/stable-diffusion-v1/model.ckpt`,
    `od -An -tx1 ${r}/invokeai/configs/invokeai.init | head -c 100`,
    `grep -c '^export PYTORCH_ENABLE_MPS_FALLBACK=1$' ${r}/profile`,
    `test -e ${r}/stamp && echo stamp`,
    `od -An -tx1 ${r}/units/invokeai.service | head -c 100`,
  ].join('; ')
}
