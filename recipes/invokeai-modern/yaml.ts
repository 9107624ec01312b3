/**
 * invokeai.yaml under the root. InvokeAI 4+ reads host, port and allowed origins from this file,
 * not from flags (`--host` is ignored), so the bind settings live here. Strings are written as
 * JSON strings, which YAML reads as double-quoted scalars: no value can break the file.
 */
export function invokeaiYaml(o: { bind: string; port: number; origins: string; scanModels?: boolean }): string {
  const origins = o.origins.split(',').map((s) => s.trim()).filter((s) => s !== '')
  return [
    '# Written by statecraft (recipes/invokeai-modern); edit the recipe\'s options, not this file.',
    'schema_version: 4.0.2',
    `host: ${JSON.stringify(o.bind)}`,
    `port: ${o.port}`,
    ...(origins.length > 0 ? [`allow_origins: [${origins.map((x) => JSON.stringify(x)).join(', ')}]`] : []),
    // The model store's checkpoint is linked under models/: InvokeAI registers it at startup.
    ...(o.scanModels ? ['scan_models_on_startup: true'] : []),
    '',
  ].join('\n')
}
