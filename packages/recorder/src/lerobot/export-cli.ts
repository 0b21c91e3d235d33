import { readFileSync } from 'node:fs';
import { type ExportProgress, exportLeRobot, type LeRobotExportOptions } from './export.js';
import { LEROBOT_PRESETS, type LeRobotMapping, parseFieldList } from './mapping.js';

const FLAGS_WITH_VALUE = new Set([
  '--out',
  '--fps',
  '--preset',
  '--state',
  '--action',
  '--mapping',
  '--task',
  '--camera',
]);

/** A progress line for a terminal: `\r`-rewritten on a TTY, one line per stage (and every 10 %) otherwise. */
function progressPrinter(out: NodeJS.WriteStream): (p: ExportProgress) => void {
  const tty = out.isTTY === true;
  let lastLine = '';
  let lastDecile = -1;
  return (p) => {
    let line: string;
    let important = true;
    switch (p.stage) {
      case 'read':
        line = p.done < p.total ? `reading ${p.file} (${p.done + 1}/${p.total})` : `read ${p.total} file(s)`;
        break;
      case 'data':
        line = `data: ${p.episodes} episode(s), ${p.frames} frames`;
        break;
      case 'video': {
        const pct = Math.floor((100 * p.done) / Math.max(1, p.total));
        line = `video ${p.camera} (${p.mode}): ${p.done}/${p.total} frames ${pct}%`;
        important = Math.floor(pct / 10) !== lastDecile;
        lastDecile = Math.floor(pct / 10);
        break;
      }
      case 'stats':
        line = `video ${p.camera}: statistics`;
        lastDecile = -1;
        break;
      default:
        line = `wrote ${p.out}`;
    }
    if (tty) {
      out.write(`\r\x1b[K${line}${p.stage === 'done' ? '\n' : ''}`);
    } else if (important && line !== lastLine) out.write(`${line}\n`);
    lastLine = line;
  };
}

/** `telekit export lerobot FILE.mcap… --out DIR …`: the exit code. */
export async function runExportCli(argv: readonly string[], usage: string): Promise<number> {
  const fail = (message: string) => {
    process.stderr.write(`${message}\n${usage}\n`);
    return 2;
  };
  const [format, ...rest] = argv;
  if (format !== 'lerobot')
    return fail(`unknown export format ${format ?? '(none)'}: lerobot is the one there is`);
  const files: string[] = [];
  const cameras: string[] = [];
  const opts: Partial<LeRobotExportOptions> = {};
  let preset = 'auto';
  let state: string | undefined;
  let action: string | undefined;
  let mappingFile: string | undefined;
  let quiet = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith('--')) {
      files.push(arg);
      continue;
    }
    if (arg === '--reencode') {
      opts.video = 'reencode';
      continue;
    }
    if (arg === '--quiet') {
      quiet = true;
      continue;
    }
    if (!FLAGS_WITH_VALUE.has(arg)) return fail(`unknown option ${arg}`);
    const value = rest[++i];
    if (value === undefined) return fail(`${arg} needs a value`);
    if (arg === '--out') opts.out = value;
    else if (arg === '--fps') opts.fps = Number(value);
    else if (arg === '--preset') preset = value;
    else if (arg === '--state') state = value;
    else if (arg === '--action') action = value;
    else if (arg === '--mapping') mappingFile = value;
    else if (arg === '--task') opts.task = value;
    else cameras.push(value);
  }
  if (files.length === 0) return fail('export lerobot needs at least one FILE.mcap');
  if (!opts.out) return fail('export lerobot needs --out DIR');
  if (preset !== 'auto' && !(preset in LEROBOT_PRESETS))
    return fail(`--preset ${preset}: expected auto, ${Object.keys(LEROBOT_PRESETS).join(', ')}`);
  try {
    const mapping: LeRobotExportOptions['mapping'] = mappingFile
      ? (JSON.parse(readFileSync(mappingFile, 'utf8')) as LeRobotMapping)
      : (preset as 'auto');
    if (state) opts.state = parseFieldList(state, '--state');
    if (action) opts.action = parseFieldList(action, '--action');
    const result = await exportLeRobot(files, {
      ...opts,
      out: opts.out,
      mapping,
      ...(cameras.length ? { cameras } : {}),
      ...(quiet ? {} : { onProgress: progressPrinter(process.stderr) }),
    });
    process.stdout.write(
      `${JSON.stringify({
        out: result.out,
        fps: result.fps,
        episodes: result.episodes.length,
        frames: result.frames,
        state: result.state,
        action: result.action,
        cameras: result.cameras,
      })}\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`export failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
