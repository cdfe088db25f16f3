// @ts-check
/**
 * The layering of src/ (README → Development → Architecture), checked by `npm run lint` and CI.
 * Each layer may import its own and the layers below it, never one above:
 *
 *   7 composition   app.ts server.ts main.ts core.ts bootstrap.ts cli/
 *   6 surfaces      admin/ console/ observability/
 *   5 tenants       tenants/          (a tenant's context, its pool, its events)
 *   4 protocol      oidc/             (oidc-provider, grants, pages, token endpoints)
 *   3 rules         services/         (admin business rules, policy, revocations)
 *   2 data          repositories/     (the only Prisma callers)
 *   1 primitives    config/ db/ store/ security/
 *   0 facts         contract.ts errors.ts http/ generated/
 *
 * and there is no cycle between files. Type-only imports count too: a layer that names a type of
 * a higher one depends on it.
 */
const layers = [
  ['facts', '^src/(contract\\.ts|errors\\.ts|http/|generated/)'],
  ['primitives', '^src/(config|db|store|security)/'],
  ['data', '^src/repositories/'],
  ['rules', '^src/services/'],
  ['protocol', '^src/oidc/'],
  ['tenants', '^src/tenants/'],
  ['surfaces', '^src/(admin|console|observability)/'],
  ['composition', '^src/(app|server|main|core|bootstrap)\\.ts$|^src/cli/'],
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'a cycle between files: one of them belongs lower, or what they share belongs in its own module',
      from: {},
      to: { circular: true },
    },
    ...layers.slice(0, -1).map(([name, path], i) => ({
      name: `layer-${name}`,
      severity: /** @type {const} */ ('error'),
      comment: `${name} may import only its own layer and those below it`,
      from: { path },
      to: { path: layers.slice(i + 1).map(([, p]) => `(${p})`).join('|') },
    })),
    {
      name: 'prisma-only-in-repositories',
      severity: 'error',
      comment: 'only repositories (and db/, which opens the client) talk to Prisma',
      from: { path: '^src/', pathNot: '^src/(repositories|db|generated)/' },
      to: { path: '^src/generated/prisma/(client|internal)|@prisma/client' },
    },
    {
      name: 'oidc-provider-internals-in-one-module',
      severity: 'error',
      comment: 'exactly one module deep-imports oidc-provider/lib (src/oidc/internals.ts)',
      from: { path: '^src/', pathNot: '^src/oidc/internals\\.ts$|\\.test\\.ts$' },
      to: { path: 'oidc-provider/lib/', pathNot: 'oidc-provider/lib/index\\.js$' },
    },
    {
      name: 'verifier-stands-alone',
      severity: 'error',
      comment: 'tessera/verifier is published on its own: it imports nothing of the server',
      from: { path: '^src/verifier/' },
      to: { path: '^src/', pathNot: '^src/verifier/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/|\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs'] },
  },
};
