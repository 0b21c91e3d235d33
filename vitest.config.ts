import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * One vitest project per package and example, found on disk so that a new package is tested
 * without touching this file. Suites that need something absent here (a browser, ROS 2, a GPU)
 * live in projects of their own, declared by their package, and report that they skipped and why.
 */
const members = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
    : [];

export default defineConfig({
  // Tests run against the TypeScript sources (the `source` export condition), no build needed.
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    // Budgets, not deadlines: these machines are shared and noisy, and a correct test must not fail
    // because a child process took 6 s to start under load. What a test waits for, it waits for by
    // condition (vi.waitFor, the kits' described waits); speed is measured by `pnpm bench`.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // expect.poll's and vi.waitFor's own defaults (1 s) would be deadlines too.
    expect: { poll: { timeout: 20_000, interval: 100 } },
    setupFiles: [fileURLToPath(new URL('scripts/vitest-setup.ts', import.meta.url))],
    projects: [
      ...members('packages').map((name) => ({
        extends: true as const,
        test: {
          name,
          root: `packages/${name}`,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: '../../tsconfig.json' },
        },
      })),
      // Suites that need something this machine may lack live in `packages/<pkg>/test-<need>/` and
      // are projects of their own (`<pkg>:<need>`), which report that they skipped and why.
      ...members('packages').flatMap((name) =>
        members(`packages/${name}`)
          .filter((dir) => dir.startsWith('test-'))
          .map((dir) => ({
            extends: true as const,
            test: {
              name: `${name}:${dir.slice(5)}`,
              root: `packages/${name}`,
              include: [`${dir}/**/*.test.ts`],
              testTimeout: 120_000,
            },
          })),
      ),
      ...members('examples').map((name) => ({
        extends: true as const,
        test: { name: `example:${name}`, root: `examples/${name}`, include: ['src/**/*.test.ts'] },
      })),
      {
        extends: true as const,
        test: {
          name: 'repo',
          include: ['scripts/**/*.test.ts', 'bench/**/*.test.ts', 'docs/guides/examples/**/*.test.ts'],
        },
      },
    ],
  },
});
