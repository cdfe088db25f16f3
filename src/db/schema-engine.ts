/**
 * Prisma's WebAssembly schema engine (migrations without the native engine, which cannot be
 * downloaded here). The package imports its .wasm as an ES module, which Node 20 only allows
 * behind a flag, so we instantiate the module ourselves and hand it to the generated bindings.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine as SchemaEngineType } from '@prisma/schema-engine-wasm';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';

export type SchemaEngine = SchemaEngineType;

type WasmExports = Record<string, unknown>;
type Bindings = typeof bindings & {
  __wbg_set_wasm(exports: WasmExports): void;
  SchemaEngine: typeof SchemaEngineType;
};

interface WasmApi {
  instantiate(bytes: Uint8Array, imports: Record<string, object>): Promise<{ instance: { exports: WasmExports } }>;
}

let ready: Promise<Bindings> | undefined;

function load(): Promise<Bindings> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('@prisma/schema-engine-wasm'));
    const bytes = await readFile(join(dir, 'schema_engine_bg.wasm'));
    const b = bindings as Bindings;
    // lib "ES2023" has no WebAssembly typings; this is the one call we need
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const { instance } = await wasm.instantiate(bytes, { './schema_engine_bg.js': b });
    b.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return b;
  })();
  return ready;
}

export async function createSchemaEngine(schemaText: string, adapterFactory: SqlMigrationAwareDriverAdapterFactory): Promise<SchemaEngine> {
  const b = await load();
  return b.SchemaEngine.new({ datamodels: [['schema.prisma', schemaText]] }, () => {}, bindMigrationAwareSqlAdapterFactory(adapterFactory));
}
