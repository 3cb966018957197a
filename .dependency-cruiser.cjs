/**
 * The layout's rules (docs/architecture.md): the flow is cli -> plan -> run -> api | out, with
 * console, errors, openid and version beside them. `npm run lint` fails on any import against it.
 */
const layer = (name) => `^src/${name}/`;
const beside = '^src/(errors|openid|version)[.]ts$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'A cycle makes the flow unreadable.', from: {}, to: { circular: true } },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports is dead (knip finds unused exports).',
      from: { orphan: true, path: '^src/', pathNot: '^src/main[.]ts$' },
      to: {},
    },
    {
      name: 'cli-imports-down',
      severity: 'error',
      comment: 'cli: commander, flags, help; a command body is plan -> run -> exit code.',
      from: { path: layer('cli') },
      to: { path: '^src/', pathNot: [layer('cli'), layer('plan'), layer('run'), layer('console'), beside] },
    },
    {
      name: 'plan-reads-only',
      severity: 'error',
      comment: 'plan: flags + environment + config -> one plan; it may read through out and api/proxy, and name api types.',
      from: { path: layer('plan') },
      to: { path: '^src/', pathNot: [layer('plan'), layer('out'), layer('api'), layer('console'), beside] },
    },
    {
      name: 'plan-names-api-types-only',
      severity: 'error',
      comment: 'plan may name what api takes (types), never call it: nothing is requested before the plan is complete.',
      from: { path: layer('plan') },
      to: { path: layer('api'), pathNot: '^src/api/proxy[.]ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'run-imports-down',
      severity: 'error',
      comment: 'run: does the work with plan (types), api, out and console.',
      from: { path: layer('run') },
      to: { path: '^src/', pathNot: [layer('run'), layer('plan'), layer('api'), layer('out'), layer('console'), beside] },
    },
    {
      name: 'api-alone',
      severity: 'error',
      comment: 'api: the only code that talks to WeChat; it never imports out (the token manager takes a cache interface).',
      from: { path: layer('api') },
      to: { path: '^src/', pathNot: [layer('api'), beside] },
    },
    {
      name: 'out-alone',
      severity: 'error',
      comment: 'out: bytes and what lasts between runs; it never imports api.',
      from: { path: layer('out') },
      to: { path: '^src/', pathNot: [layer('out'), beside] },
    },
    {
      name: 'console-alone',
      severity: 'error',
      comment: 'console: streams, signals, progress; below everything that uses it.',
      from: { path: layer('console') },
      to: { path: '^src/', pathNot: [layer('console'), beside] },
    },
    {
      name: 'beside-alone',
      severity: 'error',
      comment: 'errors, openid and version are imported by all and import none of the layers.',
      from: { path: beside },
      to: { path: '^src/', pathNot: beside },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
