/**
 * The `create-telekit` command: `npm create telekit@latest my-robot` (or `pnpm create telekit`).
 * Asks what it was not told — the directory, the template, whether to install — when it runs in a
 * terminal; takes defaults (`teleop-sim`, install and set up) with `--yes` or without a terminal.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import * as p from '@clack/prompts';
import { createProject, detectPackageManager, type PackageManager } from './create-project.js';
import { TEMPLATE_NAMES, TEMPLATES, type TemplateName } from './templates.js';

const help = `create-telekit — a new Telekit app from a template

usage: npm create telekit@latest [dir] -- [options]
       pnpm create telekit [dir] [options]

  --template <name>  ${TEMPLATE_NAMES.join(' | ')} (default teleop-sim)
${TEMPLATE_NAMES.map((t) => `                       ${t.padEnd(12)} ${TEMPLATES[t].hint}`).join('\n')}
  --pm <npm|pnpm>    package manager to write for and install with (default: the one running this)
  --no-install       write the files only
  --no-setup         install, but leave mediasoup's worker and the simulator sidecar for later
                     (npm run setup; npm start runs it first anyway)
  --packages <dir>   take @telekit/* from the .tgz files in <dir> (pnpm pack) instead of the registry
  --force            write into a directory that is not empty
  --yes, -y          ask nothing: the defaults for whatever was not given
  --help, -h         this text
`;

/** Options the command line gave, before any question. */
export interface CliArgs {
  dir?: string;
  template?: TemplateName;
  pm?: PackageManager;
  install: boolean;
  setup: boolean;
  packages?: string;
  force: boolean;
  yes: boolean;
  help: boolean;
}

/** Parses the command line; throws naming the flag and what it expects. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      template: { type: 'string', short: 't' },
      pm: { type: 'string' },
      'no-install': { type: 'boolean', default: false },
      'no-setup': { type: 'boolean', default: false },
      packages: { type: 'string' },
      force: { type: 'boolean', default: false },
      yes: { type: 'boolean', short: 'y', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 1) throw new Error(`expected one directory, got ${positionals.join(' ')}`);
  if (values.template !== undefined && !(TEMPLATE_NAMES as string[]).includes(values.template))
    throw new Error(`--template: expected one of ${TEMPLATE_NAMES.join(', ')}, got ${values.template}`);
  if (values.pm !== undefined && values.pm !== 'npm' && values.pm !== 'pnpm')
    throw new Error(`--pm: expected npm or pnpm, got ${values.pm}`);
  return {
    ...(positionals[0] ? { dir: positionals[0] } : {}),
    ...(values.template ? { template: values.template as TemplateName } : {}),
    ...(values.pm ? { pm: values.pm as PackageManager } : {}),
    install: !values['no-install'],
    setup: !values['no-setup'],
    ...(values.packages ? { packages: values.packages } : {}),
    force: values.force,
    yes: values.yes,
    help: values.help,
  };
}

/** Stops on Ctrl-C at a prompt. */
function answer<T>(value: T | symbol): Exclude<T, symbol> {
  if (p.isCancel(value)) {
    p.cancel('cancelled: nothing was written');
    process.exit(130);
  }
  return value as Exclude<T, symbol>;
}

/** The command line; resolves to the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    console.error(`create-telekit: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (args.help) {
    console.log(help);
    return 0;
  }
  const ask = !args.yes && process.stdin.isTTY === true && process.stdout.isTTY === true;
  if (ask) p.intro('create-telekit');
  const dir =
    args.dir ??
    (ask
      ? answer(
          await p.text({
            message: 'Where should the project go?',
            placeholder: 'my-robot',
            defaultValue: 'my-robot',
            validate: (v) => (v && /\s/.test(v) ? 'no spaces, please' : undefined),
          }),
        )
      : 'my-robot');
  const template =
    args.template ??
    (ask
      ? answer(
          await p.select<TemplateName>({
            message: 'Which template?',
            initialValue: 'teleop-sim',
            options: TEMPLATE_NAMES.map((t) => ({ value: t, label: t, hint: TEMPLATES[t].hint })),
          }),
        )
      : 'teleop-sim');
  const pm = args.pm ?? detectPackageManager();
  const install =
    args.install && (!ask || answer(await p.confirm({ message: `Install the dependencies with ${pm}?` })));
  const say = ask
    ? (line: string) => p.log.step(line)
    : (line: string) => console.error(`create-telekit: ${line}`);
  try {
    const project = await createProject({
      dir,
      template,
      packageManager: pm,
      install,
      setup: args.setup,
      force: args.force,
      ...(args.packages ? { packages: args.packages } : {}),
      log: say,
    });
    const failed = project.setup.filter((s) => !s.ok);
    const next = [
      `cd ${dir}`,
      ...(project.installed ? [] : [project.commands.install]),
      ...(failed.length || !project.installed || !args.setup
        ? project.commands.setup
          ? [`${project.commands.setup}   # mediasoup's worker and/or the simulator sidecar`]
          : []
        : []),
      `${project.commands.start}`,
      `${project.commands.test}   # drives the app headless`,
    ].join('\n');
    for (const step of failed)
      say(`${step.command} failed: see its output above; the README says what it needs`);
    if (ask) {
      p.note(next, 'Next');
      p.outro(failed.length ? 'the project is written; one set-up step failed' : 'done');
    } else {
      console.error(`\nNext:\n${next.replace(/^/gm, '  ')}`);
    }
    return failed.length ? 1 : 0;
  } catch (error) {
    if (ask) p.cancel((error as Error).message);
    else console.error(`create-telekit: ${(error as Error).message}`);
    return 1;
  }
}
