// What a third-party resource author needs, as `statecraft/kit`: a plain list of re-exports.
export { declare } from './core/types.ts'
export type { Change, CommonOptions, Facts, ManagedPath, ProbeData, ResourceType, Step } from './core/types.ts'
export * from './core/errors.ts'
