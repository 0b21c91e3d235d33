#!/usr/bin/env node
// @ts-check
// telekit-page: builds an app's page for production (see the package README, "Serving the page").
import { parseArgs } from 'node:util';
import { buildPage } from '@telekit/ui-widgets/server';

const help = `telekit-page — @telekit/ui-widgets' page builder

usage:
  telekit-page build <dir> <outDir> [--html index.html] [--entry main.ts] [--target chrome110]
                     [--external <module>]... [--condition <name>]...
      Bundles <dir>/<entry> and <dir>/<html> as webPage() would at start and writes them to
      <outDir> (emptied first): index.html, assets/<name>-<hash>.js, telekit-page.json.
      Serve it with webPage({ dir, prebuilt: <outDir> }).
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    html: { type: 'string' },
    entry: { type: 'string' },
    target: { type: 'string' },
    external: { type: 'string', multiple: true },
    condition: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
});
const [command, dir, outDir] = positionals;
if (values.help || command !== 'build' || !dir || !outDir) {
  process.stdout.write(help);
  process.exit(values.help ? 0 : 2);
}
/** @type {import('@telekit/ui-widgets/server').BuiltPage} */
let built;
try {
  built = await buildPage({
    dir,
    outDir,
    ...(values.html ? { html: values.html } : {}),
    ...(values.entry ? { entry: values.entry } : {}),
    ...(values.target ? { target: values.target } : {}),
    ...(values.external ? { external: values.external } : {}),
    ...(values.condition ? { conditions: values.condition } : {}),
  });
} catch (error) {
  // esbuild's message lists each error with its file and line; the stack adds nothing.
  console.error(`telekit-page: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
for (const f of built.files) console.log(`${outDir}/${f.path}  ${(f.bytes / 1024).toFixed(1)} KiB`);
