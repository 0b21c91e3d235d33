/**
 * `prepack`: copies every template from the repository's examples into `templates/<name>/`
 * (`files/` and `template.json`), so the packed package carries them. Run by `pnpm pack` and
 * `pnpm publish`; `templates/` is not committed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageDir, TEMPLATE_NAMES, templateFromRepository, templateMeta } from './templates.js';

/** Writes every template under `out` (default: this package's `templates/`); returns the file count. */
export function packTemplates(out: string = join(packageDir, 'templates')): number {
  rmSync(out, { recursive: true, force: true });
  let count = 0;
  for (const name of TEMPLATE_NAMES) {
    const template = templateFromRepository(name);
    for (const [file, content] of template.files) {
      const path = join(out, name, 'files', file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      count++;
    }
    writeFileSync(join(out, name, 'template.json'), templateMeta(template));
  }
  return count;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const count = packTemplates();
  console.error(`create-telekit: ${TEMPLATE_NAMES.length} templates, ${count} files, into templates/`);
}
