/**
 * Writes the protocol's JSON Schemas to docs/protocol/ (one file per topic and an index).
 * Run with `pnpm protocol`; a test fails while the files on disk differ from the schemas.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { protocolSchemas } from '@telekit/core/schemas';

const dir = fileURLToPath(new URL('../docs/protocol/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (f.endsWith('.json')) rmSync(`${dir}${f}`);
const files = protocolSchemas();
for (const [name, content] of Object.entries(files))
  writeFileSync(`${dir}${name}`, `${JSON.stringify(content, null, 2)}\n`);
console.log(`wrote ${Object.keys(files).length} files to docs/protocol/`);
