// @ts-check
/**
 * A typedoc plugin: a Markdown link to a directory — `[the demo](examples/teleop-sim)`, which GitHub
 * shows as the directory with its README — links to that directory's README.md on the docs site
 * (a project document there, listed in typedoc.json). Without it typedoc warns that the path "is not
 * a file" and leaves the link dead. Links to anything else resolve as typedoc resolves them.
 *
 * A project document without a `title` in its front matter takes its first heading as its name,
 * rather than its file name: the examples' README.md files are named by their headings
 * ("examples/teleop-sim", "Minimal robot"), not by their paths.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Converter, ValidatingFileRegistry } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DOCUMENT, (_context, document) => {
    if (!/(^|\/)README$/.test(document.name)) return;
    const text = document.content.map((part) => part.text).join('');
    const heading = /^#\s+(.+)$/m.exec(text)?.[1]?.replaceAll('`', '').trim();
    if (heading) document.name = heading;
  });
  const register = ValidatingFileRegistry.prototype.register;
  ValidatingFileRegistry.prototype.register = function (sourcePath, relativePath) {
    const [path = '', anchor] = relativePath.split('#');
    const candidates = [
      resolve(dirname(sourcePath), path),
      ...(this.basePath ? [resolve(this.basePath, path)] : []),
    ];
    const dir = candidates.find(
      (c) => existsSync(c) && statSync(c).isDirectory() && existsSync(join(c, 'README.md')),
    );
    if (dir === undefined) return register.call(this, sourcePath, relativePath);
    const readme = /** @type {import('typedoc').NormalizedPath} */ (
      `${join(path, 'README.md')}${anchor === undefined ? '' : `#${anchor}`}`
    );
    return register.call(this, sourcePath, readme);
  };
}
