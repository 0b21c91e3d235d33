/**
 * What a page costs to load: the script a browser downloads before the page runs (the entry and
 * the chunks it imports statically), minified and gzipped, as `webPage`/`buildPage` bundle it.
 *
 * - baseline: a page importing `@telekit/ui-widgets` — every widget, three.js and uPlot included
 *   (the full page; before widgets could be imported one by one, every page was this one);
 * - a driving page importing its three widgets one by one (`/camera-viewer`, `/teleop-pad`,
 *   `/link-health`, `/base`) — the goal is ≤ 150 KB gzipped;
 * - the teleop-sim example's page (every widget and the in-page simulator).
 *
 * What is loaded on demand (hls.js, when a viewer falls back to HLS) is reported beside, not
 * counted. Bundled from the workspace's TypeScript sources (the `source` condition); the built
 * `dist` bundles to within a few per cent of it.
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { BenchMeasurement, Benchmark } from '@telekit/testkit/bench';
import { bundlePage, type PageSource } from '../src/server/bundle-page.js';

const GOAL_BYTES = 150 * 1000;
const pages = fileURLToPath(new URL('./pages/', import.meta.url));
const teleopSim = fileURLToPath(new URL('../../../examples/teleop-sim/src/web/', import.meta.url));
const gz = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;
const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;

/** The bundle's size on first load: the entry and its static imports; dynamic imports beside it. */
async function pageSize(source: PageSource): Promise<BenchMeasurement> {
  const bundle = await bundlePage({ ...source, conditions: ['source'] });
  const byPath = new Map(bundle.files.map((f) => [f.path, f]));
  const firstLoad = new Set<string>();
  // esbuild hoists a chunk's static imports into the entry as `from"./chunk-X.js"` / `import"./chunk-X.js"`.
  const visit = (path: string) => {
    if (firstLoad.has(path)) return;
    firstLoad.add(path);
    const text = byPath.get(path)!.body.toString('utf8');
    for (const m of text.matchAll(/(?:from|import)\s*"\.\/([\w-]+\.js)"/g)) visit(`assets/${m[1]}`);
  };
  visit(bundle.entry);
  const onLoad = [...firstLoad].map((p) => byPath.get(p)!.body);
  const lazy = bundle.files.filter((f) => !firstLoad.has(f.path));
  const gzipped = onLoad.reduce((n, b) => n + gz(b), 0);
  return {
    bytes: gzipped,
    extra: {
      gzipped: kb(gzipped),
      minified: kb(onLoad.reduce((n, b) => n + b.length, 0)),
      files: onLoad.length,
      'on demand (gzipped)': lazy.length
        ? lazy.map((f) => `${f.path.slice(7)} ${kb(gz(f.body))}`).join(' + ')
        : '-',
    },
  };
}

export const benchmarks: Benchmark[] = [
  {
    id: 'ui-widgets.page-size',
    title: `ui-widgets: page script on first load, gzipped (goal for camera viewer + teleop pad + link health: ≤ ${kb(GOAL_BYTES)})`,
    kind: 'memory',
    baseline: {
      name: 'every widget (@telekit/ui-widgets)',
      run: () => pageSize({ dir: pages, entry: 'all-widgets.ts' }),
    },
    candidates: [
      {
        name: 'camera viewer + teleop pad + link health, one by one',
        run: async () => {
          const m = await pageSize({ dir: pages, entry: 'three-widgets.ts' });
          return { ...m, extra: { ...m.extra, goal: m.bytes! <= GOAL_BYTES ? 'met' : 'MISSED' } };
        },
      },
      {
        name: 'the teleop-sim example page',
        run: () => pageSize({ dir: teleopSim, external: ['module', 'node:*'] }),
      },
    ],
  },
];
