import { taskFields } from '../../lib/resources/service/schtask.ts'
import type { ServiceOptions } from '../../lib/resources/service/types.ts'
import { launchctlPrint } from '../../test/helpers/tool-outputs.ts'
import { kv, type Replies } from './types.ts'

/**
 * The service (launchd on a Mac, a scheduled task on Windows) and its health check, answered as
 * test/unit/resources/{service-launchd,service-schtask,http-check}.test.ts state them: nothing
 * there and nothing listening on a fresh host; the job running and answering on a converged one.
 */

/** `launchctl print gui/<uid>/<label>` for the recipe's running LaunchAgent (the fixture table's output). */
function agentPrint(d: ServiceOptions, uid: number, path: string, home: string): string {
  return launchctlPrint({ label: d.name, uid, path, argv: d.argv, cwd: d.cwd as string, env: d.env ?? {}, log: `${home}/Library/Logs/${d.name}.log` })
}

/** A CIM instance's bookkeeping as ConvertTo-Json -Depth 3 writes it (service-schtask.test.ts). */
const cim = (cls: string, props: string[]) => ({
  CimClass: { CimSuperClassName: null, CimSuperClass: null, CimClassProperties: props.join(' '), CimClassQualifiers: 'dynamic', CimClassMethods: '', CimSystemProperties: 'Microsoft.Management.Infrastructure.CimSystemProperties' },
  CimInstanceProperties: props,
  CimSystemProperties: { Namespace: 'Root/Microsoft/Windows/TaskScheduler', ServerName: 'GAMING-PC', ClassName: cls, Path: null },
})

/** service-schtask.test.ts: Get-ScheduledTask | Select-Object … | ConvertTo-Json -Depth 3 -Compress on Windows PowerShell 5.1, State 4 (Running). */
function taskJson(d: ServiceOptions): string {
  const f = taskFields(d)
  return JSON.stringify({
    TaskName: d.name,
    TaskPath: '\\statecraft\\',
    State: 4,
    Description: f.Description,
    Actions: [{ Id: null, Arguments: f.Arguments, Execute: f.Execute, WorkingDirectory: f.WorkingDirectory, PSComputerName: null, ...cim('MSFT_TaskExecAction', ['Id', 'Arguments', 'Execute', 'WorkingDirectory']) }],
    Triggers: [{ Enabled: true, EndBoundary: null, ExecutionTimeLimit: null, Id: null, Repetition: 'MSFT_TaskRepetitionPattern', StartBoundary: null, Delay: null, UserId: f.UserId, PSComputerName: null, ...cim('MSFT_TaskLogonTrigger', ['Enabled', 'EndBoundary', 'ExecutionTimeLimit', 'Id', 'Repetition', 'StartBoundary', 'Delay', 'UserId']) }],
    Principal: { DisplayName: null, GroupId: null, Id: 'Author', LogonType: f.LogonType, RunLevel: 0, UserId: f.UserId, ProcessTokenSidType: 2, RequiredPrivilege: null, PSComputerName: null, ...cim('MSFT_TaskPrincipal2', ['DisplayName', 'GroupId', 'Id', 'LogonType', 'RunLevel', 'UserId', 'ProcessTokenSidType', 'RequiredPrivilege']) },
    Settings: {
      AllowDemandStart: true, AllowHardTerminate: true, Compatibility: 3, DeleteExpiredTaskAfter: null, DisallowStartIfOnBatteries: false, Enabled: true, ExecutionTimeLimit: f.ExecutionTimeLimit, Hidden: false,
      IdleSettings: 'MSFT_TaskIdleSettings', MultipleInstances: 2, NetworkSettings: 'MSFT_TaskNetworkSettings', Priority: 7, RestartCount: f.RestartCount, RestartInterval: f.RestartInterval, RunOnlyIfIdle: false,
      RunOnlyIfNetworkAvailable: false, StartWhenAvailable: false, StopIfGoingOnBatteries: false, WakeToRun: false, DisallowStartOnRemoteAppSession: false, UseUnifiedSchedulingEngine: true, MaintenanceSettings: null, volatile: false, PSComputerName: null,
      ...cim('MSFT_TaskSettings3', ['AllowDemandStart', 'Enabled', 'ExecutionTimeLimit', 'RestartCount', 'RestartInterval']),
    },
  })
}
/** Get-ScheduledTaskInfo | ConvertTo-Json -Compress: 267009 (0x41301) is "running". */
const taskInfo = (name: string): string => JSON.stringify({ LastRunTime: '/Date(1796539800000)/', LastTaskResult: 267009, NextRunTime: null, NumberOfMissedRuns: 0, TaskName: name, TaskPath: '\\statecraft\\' })

/** http-check.test.ts: InvokeAI's answer, curl 7.88's error when nothing listens, and Invoke-WebRequest's. */
const OK = '{"message":"Server Running"}'
const REFUSED = 'curl: (7) Failed to connect to 127.0.0.1 port 9090 after 0 ms: Couldn\'t connect to server\n'
const PS_REFUSED = 'Unable to connect to the remote server'

export const serviceReplies: Replies = (n, { facts, has, hex }) => {
  const converged = has(n.id)
  const d = n.desired as ServiceOptions
  switch (n.kind.type) {
    case 'service': {
      const r = d.resolved as { backend: string; user: string; path?: string; text?: string }
      if (r.backend === 'schtask') {
        return converged ? kv({ task: '1', json: hex(taskJson(d)), triggers: hex(`MSFT_TaskLogonTrigger|${r.user}`), info: hex(taskInfo(d.name)) }) : kv({ task: '0' })
      }
      if (r.backend !== 'launchd' || r.user !== facts.user || facts.uid === null) return undefined
      const uid = String(facts.uid)
      // launchctl print-disabled lists the label once it was ever enabled or disabled.
      return converged
        ? kv({ uid, useruid: uid, plist: 'file', text: hex(r.text as string), domain: '0', print: hex(agentPrint(d, facts.uid, r.path as string, facts.home)), disabled: hex(`\t"${d.name}" => enabled\n`) })
        : kv({ uid, useruid: uid, plist: 'absent', domain: '0', print: '', disabled: '' })
    }
    case 'httpCheck':
      if (converged) return kv({ curl: '1', exit: '0', status: '200', match: '1', body: hex(OK), err: '' })
      return kv({ curl: '1', exit: '7', status: '000', match: '0', body: '', err: hex(facts.dialect === 'powershell' ? PS_REFUSED : REFUSED) })
  }
  return undefined
}
