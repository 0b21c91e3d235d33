import { defineConfig, type UserConfig } from 'tsdown';

/**
 * The build every package shares: ESM, type declarations, source maps, `.js` outputs (what the
 * packages' `exports` name). A package gives its entries and whether it runs only in Node.
 */
export function packageBuild(
  entry: Record<string, string>,
  platform: 'neutral' | 'node' = 'neutral',
): UserConfig {
  return defineConfig({
    entry,
    format: 'esm',
    platform,
    fixedExtension: false,
    dts: true,
    sourcemap: true,
    clean: true,
  });
}
