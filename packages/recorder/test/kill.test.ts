import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { readRecording } from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// A real process records, is killed with SIGKILL mid-run, and the file it leaves is read back with
// @mcap/core's readers: no summary (the indexed read fails), so record by record up to the cut.
it('a process killed with SIGKILL leaves a file readable up to its last chunk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'telekit-kill-'));
  dirs.push(dir);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=source',
      fileURLToPath(new URL('./fixtures/record-child.ts', import.meta.url)),
      dir,
    ],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const flushed: { seq: number; file: string }[] = [];
  let buffered = '';
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', () => reject(new Error(`the child exited early: ${err}`)));
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const [, seq, file] = /^flushed (-?\d+) (.+)$/.exec(buffered.slice(0, nl)) ?? [];
        buffered = buffered.slice(nl + 1);
        if (seq && file) flushed.push({ seq: Number(seq), file });
        // Several flushes in, with samples flowing: kill it mid-write.
        // (a while after the fifth flush, so that a chunk is half written).
        if (flushed.length === 5)
          setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 150);
      }
    });
  });
  expect(await exited).toBe('SIGKILL');
  const last = flushed[4]!;
  expect(last.seq).toBeGreaterThan(0);
  expect(statSync(last.file).size).toBeGreaterThan(0);

  const recording = await readRecording(last.file);
  expect(recording.read).toBe('stream');
  const seqs = recording.messages
    .filter((m) => m.topic === '/telemetry/battery')
    .map((m) => (m.json as { header: { seq: number } }).header.seq);
  // Everything flushed before the kill is there, in order; what came after is there up to the cut.
  expect(Math.max(...seqs)).toBeGreaterThanOrEqual(last.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(seqs.filter((s) => s <= last.seq)).toEqual([...Array(last.seq + 1).keys()]);
  expect(recording.messages.find((m) => m.topic === '/recorder/episode')?.json).toMatchObject({
    event: 'start',
    task: 'until killed',
  });
  expect(recording.channels.get('/telemetry/battery')?.schemaName).toBe('/telemetry/battery');
});
