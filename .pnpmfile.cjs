// pnpm hooks of this workspace (see https://pnpm.io/pnpmfile). Only `beforePacking`: it runs when
// `pnpm pack` or `pnpm publish` writes a package's tarball, never at install.
//
// Telekit's first-party packages release together (one changesets "fixed" group), so in what is
// published the range between two of them is exact: @telekit/gateway 0.2.0 wants @telekit/core
// 0.2.0 and nothing else. The sources keep `workspace:^0`: with an exact range there, changesets
// would bump every package to the next major on any minor release (it major-bumps a package whose
// peer range its dependency's new version leaves). The tarballs are checked by the test
// `packages/create-telekit/test-outside/outside.test.ts` (project create-telekit:outside).
const { readdirSync, readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');

/** name → version of every package under packages/. */
function firstParty() {
  const versions = new Map();
  const dir = join(__dirname, 'packages');
  for (const name of readdirSync(dir)) {
    const file = join(dir, name, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    versions.set(pkg.name, pkg.version);
  }
  return versions;
}

module.exports = {
  hooks: {
    beforePacking(pkg) {
      const versions = firstParty();
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
        for (const name of Object.keys(pkg[field] ?? {})) {
          if (versions.has(name)) pkg[field][name] = versions.get(name);
        }
      }
      return pkg;
    },
  },
};
