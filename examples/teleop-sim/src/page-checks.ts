// What the demo's e2e checks of the operator's page as a page: where the stamp bar is (never in
// the picture shown), the layouts on each kind of screen, the themes, the keyboard, and axe-core.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { stampBlockSize } from '@telekit/core/media';
import type { Browser, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { until } from './browser.js';

// ------------------------------------------------------------------------------------ the stamp bar

/** Where a stamp bar was found in a picture of the camera viewer (CSS px), or null. */
export type BarFound = { x: number; y: number; block: number } | null;

/**
 * Runs in the page: looks for the glass-to-glass stamp's pattern — a white block, a black block,
 * then 24 blocks each black or white, in a row — along the top of a PNG of the viewer, for each
 * block size in `blocks` (px) and every start within `reach` px of the top-left corner.
 */
async function findBar({
  png,
  blocks,
  reach,
}: {
  png: string;
  blocks: number[];
  reach: number;
}): Promise<BarFound> {
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext('2d')!;
  g.drawImage(bitmap, 0, 0);
  const px = g.getImageData(0, 0, width, height).data;
  const luma = (x: number, y: number) => {
    const i = 4 * (Math.floor(y) * width + Math.floor(x));
    return ((px[i] ?? 0) + (px[i + 1] ?? 0) + (px[i + 2] ?? 0)) / 3;
  };
  for (const b of blocks)
    for (let y = 0; y + b <= Math.min(height, reach + b); y++)
      for (let x = 0; x + 26 * b <= width && x <= reach; x++) {
        const at = (i: number) => luma(x + (i + 0.5) * b, y + b / 2);
        if (at(0) < 180 || at(1) > 75) continue;
        let binary = true;
        for (let i = 2; i < 26 && binary; i++) {
          const v = at(i);
          binary = v < 75 || v > 180;
        }
        if (binary) return { x, y, block: b };
      }
  return null;
}

/**
 * Whether the camera viewer on `page` shows the stamp bar: screenshots the element and searches
 * its top for the pattern, at the block size the picture is drawn with (whole or cropped).
 */
export async function stampBarShown(viewer: Locator): Promise<BarFound> {
  const size = await viewer.evaluate((el) => {
    const video = el.shadowRoot!.querySelector('video')!;
    return { vw: video.videoWidth, vh: video.videoHeight, w: el.clientWidth, h: el.clientHeight };
  });
  const block = stampBlockSize(size.vw);
  // Drawn whole (object-fit: contain), or without its top rows (a little larger).
  const scales = [Math.min(size.w / size.vw, size.h / size.vh), size.w / size.vw];
  const blocks = [...new Set(scales.map((s) => Math.round(block * s * 4) / 4))];
  const png = (await viewer.screenshot()).toString('base64');
  // The function is sent to the page as its source.
  return viewer.page().evaluate(findBar, { png, blocks, reach: 48 });
}

// ------------------------------------------------------------------------------------ axe-core

/** One rule axe-core found broken, with how many elements break it. */
export interface AxeFinding {
  id: string;
  /** How bad axe rates the violation; null for what it left to review. */
  impact: string | null;
  /** Not a violation: axe could not decide and leaves it to a person. */
  review: boolean;
  help: string;
  nodes: number;
  targets: string[];
}

const axeSource = () => readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (WCAG 2.x A and AA rules, and best practices) on the page as it is: the violations,
 * and (as `review`, impact null) the rules axe could not decide — text over the 3D view's canvas or
 * the video, whose contrast it cannot compute.
 */
export async function axeCheck(page: Page): Promise<AxeFinding[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource() });
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: Document,
            options: object,
          ): Promise<
            Record<
              'violations' | 'incomplete',
              {
                id: string;
                impact: string | null;
                help: string;
                nodes: { target: unknown[] }[];
              }[]
            >
          >;
        };
      }
    ).axe;
    const result = await axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'],
      },
      resultTypes: ['violations', 'incomplete'],
    });
    const finding = (review: boolean) => (v: (typeof result.violations)[number]) => ({
      id: v.id,
      impact: review ? null : v.impact,
      help: v.help,
      nodes: v.nodes.length,
      targets: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)),
      review,
    });
    return [...result.violations.map(finding(false)), ...result.incomplete.map(finding(true))];
  });
}

/** One line per finding, for the test's output. */
export const describeAxe = (where: string, findings: AxeFinding[]) => {
  const violations = findings.filter((f) => !f.review);
  const review = findings.filter((f) => f.review);
  return [
    violations.length === 0 ? `axe ${where}: no violations` : '',
    ...violations.map(
      (f) => `axe ${where}: [${f.impact}] ${f.id} ×${f.nodes} — ${f.help} (${f.targets.join(' ')})`,
    ),
    review.length
      ? `axe ${where}: left to review: ${review.map((f) => `${f.id} ×${f.nodes} (${f.targets.join(' ')})`).join('; ')}`
      : '',
  ]
    .filter(Boolean)
    .join('\n');
};

// ------------------------------------------------------------------------------------ the keyboard

/** A control the keyboard reached: its name, and whether its focus was visible. */
export interface Reached {
  name: string;
  focusRing: boolean;
}

/**
 * Presses Tab until focus comes back round (at most `max` times) and returns every control it
 * reached, each with whether a focus ring showed (an outline of 2 px or more, or a box shadow).
 */
export async function tabThrough(page: Page, max = 40): Promise<Reached[]> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const reached: Reached[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const r = await page.evaluate(() => {
      let el = document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      if (!el || el === document.body) return undefined;
      const s = getComputedStyle(el);
      const ring =
        (s.outlineStyle !== 'none' && Number.parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none';
      // Its accessible name, roughly: aria-label, or its text without what is hidden from readers.
      const text = el.cloneNode(true) as Element;
      for (const hidden of text.querySelectorAll('[aria-hidden="true"]')) hidden.remove();
      const name = el.getAttribute('aria-label') ?? (text.textContent ?? '').trim().replace(/\s+/g, ' ');
      return { name: name || el.tagName.toLowerCase(), focusRing: ring };
    });
    if (!r) continue;
    if (reached.some((x) => x.name === r.name) && reached[0]?.name === r.name) break;
    reached.push(r);
  }
  return reached;
}

// ------------------------------------------------------------------------------------ layouts

/** A screen the page is laid out for, as Chromium emulates it. */
export interface Layout {
  name: string;
  context: Pick<BrowserContextOptions, 'viewport' | 'deviceScaleFactor' | 'isMobile' | 'hasTouch'>;
}

/**
 * The page's query for the layouts: server mode with the video closed — the same layout, the 3D
 * view drawn from the server's scene description, without the 11 MB simulator each fresh context
 * would compile again, nor a video to decode, on this shared 2-core machine. (The demo's first test
 * covers browser mode with the same stylesheet.)
 */
export const LAYOUT_QUERY = 'sim=server&video=closed';

/** Desktop, tablet and phone, upright and sideways (sizes of common devices, in CSS px). */
export const LAYOUTS: Layout[] = [
  { name: 'desktop', context: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 } },
  {
    name: 'tablet-portrait',
    context: { viewport: { width: 820, height: 1180 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  },
  {
    name: 'tablet-landscape',
    context: { viewport: { width: 1180, height: 820 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  },
  {
    name: 'phone-portrait',
    context: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true },
  },
  {
    name: 'phone-landscape',
    context: { viewport: { width: 844, height: 390 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true },
  },
];

/** The least size of the e-stop's button on every screen, CSS px. */
export const ESTOP_MIN = { width: 120, height: 60 };
/** The least diameter of the pad's stick: a thumb's reach (and twice Apple's 44 pt target). */
export const STICK_MIN = 140;

/** What one layout showed. */
export interface LayoutReport {
  layout: string;
  viewport: { width: number; height: number };
  estop: { x: number; y: number; width: number; height: number };
  /** The e-stop's box after scrolling to the page's end (the header stays). */
  estopScrolled: { x: number; y: number; width: number; height: number };
  stick: { x: number; y: number; width: number; height: number };
  /** The twist the stick sent when dragged forward (by touch where the screen has it). */
  twist: { linear: number; angular: number; pointer: string };
  themes: { theme: string; chosen: boolean; stored: string | null }[];
  screenshots: string[];
  /** From opening the context to closing it, ms (for the log: this machine is shared). */
  ms: number;
  /** The e-stop latched by a tap and cleared by a held finger (on the upright phone only). */
  estopTouch?: { latched: boolean; cleared: boolean };
  /** Whether the page, with no choice stored, followed the system's scheme changing and back. */
  followsSystem?: boolean;
}

const box = async (l: Locator) => {
  const b = await l.boundingBox();
  if (!b) throw new Error(`${l} has no box (not shown)`);
  return b;
};

/** Whether a box lies wholly inside the viewport. */
export const inside = (
  b: { x: number; y: number; width: number; height: number },
  v: { width: number; height: number },
) => b.x >= 0 && b.y >= 0 && b.x + b.width <= v.width + 0.5 && b.y + b.height <= v.height + 0.5;

/**
 * Drags the stick forward and back to rest — by touch (CDP touch events, as a finger) where the
 * screen has touch, with the mouse otherwise — and returns the first forward twist the pad sent.
 */
async function driveByStick(page: Page, stick: Locator, touch: boolean) {
  const b = await box(stick);
  const [cx, cy] = [b.x + b.width / 2, b.y + b.height / 2];
  const twist = page.evaluate(
    () =>
      new Promise<{ linear: number; angular: number; pointer: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no twist from the stick within 20 s')), 20_000);
        let pointer = '';
        document.addEventListener('pointerdown', (e) => (pointer = e.pointerType), { capture: true });
        document.addEventListener('telekit-twist', (e) => {
          const t = (e as CustomEvent<{ linear: { x: number }; angular: { z: number } }>).detail;
          if (t.linear.x <= 0.05) return;
          clearTimeout(timer);
          resolve({ linear: t.linear.x, angular: t.angular.z, pointer });
        });
      }),
  );
  const path = [0.1, 0.2, 0.3, 0.35].map((f) => ({ x: cx, y: cy - f * b.height }));
  if (touch) {
    const cdp = await page.context().newCDPSession(page);
    const touchAt = (type: string, p?: { x: number; y: number }) =>
      cdp.send('Input.dispatchTouchEvent', {
        type,
        touchPoints: p ? [{ x: p.x, y: p.y, radiusX: 12, radiusY: 12, force: 1, id: 1 }] : [],
      } as never);
    await touchAt('touchStart', { x: cx, y: cy });
    for (const p of path) await touchAt('touchMove', p);
    const sent = await twist;
    await touchAt('touchEnd');
    await cdp.detach();
    return sent;
  }
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  for (const p of path) await page.mouse.move(p.x, p.y);
  const sent = await twist;
  await page.mouse.up();
  return sent;
}

/**
 * A finger's tap on the middle of `target`: touch start and end 60 ms apart by their timestamps,
 * however late a loaded machine delivers them (Playwright's `tap()` stamps each event when sent, and
 * a starved browser can take the pair for a long press, which clicks nothing).
 */
async function tap(page: Page, target: Locator) {
  await target.scrollIntoViewIfNeeded();
  const b = await box(target);
  const point = { x: b.x + b.width / 2, y: b.y + b.height / 2, id: 1 };
  const cdp = await page.context().newCDPSession(page);
  const at = Date.now() / 1000;
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point], timestamp: at });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [], timestamp: at + 0.06 });
  await cdp.detach();
}

/** A finger held on `target` for `ms` (real time: the e-stop times the hold itself). */
async function hold(page: Page, target: Locator, ms: number) {
  const b = await box(target);
  const point = { x: b.x + b.width / 2, y: b.y + b.height / 2, id: 1 };
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
  await new Promise((r) => setTimeout(r, ms));
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

/**
 * The e-stop by touch: a tap latches it (the alert shows), a finger held on "Hold to clear" for
 * longer than its hold time clears it (a long press must not turn into a menu that cancels it).
 */
async function estopByTouch(page: Page): Promise<{ latched: boolean; cleared: boolean }> {
  const state = page.locator('telekit-estop [data-field="latched"]');
  await tap(page, page.getByRole('button', { name: 'Emergency stop' }));
  await page.getByRole('alert').filter({ hasText: 'E-STOP LATCHED' }).waitFor({ timeout: 20_000 });
  const latched = /LATCHED/.test((await state.textContent()) ?? '');
  const clear = page.getByRole('button', { name: 'Hold to clear' });
  // The widget's hold (1.5 s) plus room for a loaded machine's timers; tried twice at most.
  for (let i = 0; i < 2 && /LATCHED/.test((await state.textContent()) ?? ''); i++) {
    await hold(page, clear, 2_200);
    await page
      .waitForFunction(
        () =>
          document
            .querySelector('telekit-estop')
            ?.shadowRoot?.querySelector('[data-field="latched"]')
            ?.textContent?.includes('armed'),
        undefined,
        { timeout: 10_000 },
      )
      .catch(() => undefined);
  }
  return { latched, cleared: /armed/.test((await state.textContent()) ?? '') };
}

interface PageSide {
  theme: string | undefined;
  stored: string | null;
}
const themeOf = (page: Page) =>
  page.evaluate(
    (): PageSide => ({
      theme: document.documentElement.dataset.theme,
      stored: localStorage.getItem('telekit-theme'),
    }),
  );

/**
 * Loads the operator's page once per layout (one browser context each, emulating the device) and
 * checks it: the e-stop inside the viewport and at least {@link ESTOP_MIN}, there still after
 * scrolling to the end; the stick inside the viewport at first sight, at least {@link STICK_MIN}
 * across, and driving when dragged by touch; the page following the system's scheme, the toggle
 * switching it and storing the choice (and one layout loaded with a choice stored, which wins over
 * the system). Screenshots `layout-<name>-<theme>.png` into `results`; `each` runs more checks
 * on each page in each theme (axe, widget pictures).
 */
export async function checkLayouts(
  browser: Browser,
  url: string,
  results: string,
  each?: (page: Page, layout: Layout, theme: string, step: number) => Promise<void>,
): Promise<LayoutReport[]> {
  const reports: LayoutReport[] = [];
  const only = process.env.TELEKIT_LAYOUTS?.split(',');
  for (const [i, layout] of LAYOUTS.entries()) {
    if (only && !only.includes(layout.name)) continue;
    // Alternate the system's scheme; the last layout starts with a choice stored against it.
    const system = i % 2 === 0 ? 'dark' : 'light';
    const storedFirst = i === LAYOUTS.length - 1 ? (system === 'dark' ? 'light' : 'dark') : undefined;
    const started = performance.now();
    const context = await browser.newContext({ ...layout.context, colorScheme: system });
    const page = await context.newPage();
    try {
      if (storedFirst) await page.addInitScript((t) => localStorage.setItem('telekit-theme', t), storedFirst);
      await page.goto(`${url}${url.includes('?') ? '&' : '?'}${LAYOUT_QUERY}`);
      await until(page, (s) => s.link?.rtt != null && s.sim.mode.mode !== 'starting', 60_000, 'the page up');
      const viewport = layout.context.viewport!;
      const estopButton = page.getByRole('button', { name: 'Emergency stop' });
      const stick = page.locator('telekit-teleop-pad [role="application"]');
      const estop = await box(estopButton);
      const stickBox = await box(stick);
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await page.waitForFunction(
        () => window.scrollY > 0 || document.documentElement.scrollHeight <= innerHeight,
      );
      const estopScrolled = await box(estopButton);
      await page.evaluate(() => window.scrollTo(0, 0));

      await page.evaluate(() =>
        (
          window as unknown as { telekit: { client: { requestControl(): Promise<unknown> } } }
        ).telekit.client.requestControl(),
      );
      await until(page, (s) => s.holdsControl, 10_000, 'the lease');
      const twist = await driveByStick(page, stick, layout.context.hasTouch === true);
      await page.evaluate(() =>
        (
          window as unknown as { telekit: { client: { releaseControl(): Promise<unknown> } } }
        ).telekit.client.releaseControl(),
      );

      const estopTouch = layout.name === 'phone-portrait' ? await estopByTouch(page) : undefined;

      // With no choice stored, the page follows the system as it changes (once, on the first screen).
      let followsSystem: boolean | undefined;
      if (i === 0 && !storedFirst) {
        const other = system === 'dark' ? 'light' : 'dark';
        const themeIs = (t: string) =>
          page
            .waitForFunction((x) => document.documentElement.dataset.theme === x, t, { timeout: 20_000 })
            .then(() => true)
            .catch(() => false);
        await page.emulateMedia({ colorScheme: other });
        const followed = await themeIs(other);
        await page.emulateMedia({ colorScheme: system });
        followsSystem = followed && (await themeIs(system));
      }

      const themes: LayoutReport['themes'] = [];
      const screenshots: string[] = [];
      for (const step of [0, 1]) {
        if (step === 1) {
          const toggle = page.getByRole('button', { name: 'Dark theme' });
          if (layout.context.hasTouch) await tap(page, toggle);
          else await toggle.click();
        }
        const before = themes.at(-1)?.theme;
        await page
          .waitForFunction(
            (b) => document.documentElement.dataset.theme && document.documentElement.dataset.theme !== b,
            before,
            { timeout: 20_000 },
          )
          .catch(async (error: Error) => {
            await page.screenshot({ path: join(results, `layout-${layout.name}-failed.png`), scale: 'css' });
            throw new Error(`${layout.name}: the theme stayed ${JSON.stringify(await themeOf(page))}`, {
              cause: error,
            });
          });
        const t = await themeOf(page);
        themes.push({ theme: t.theme!, chosen: t.stored !== null, stored: t.stored });
        // The page as it opens (the keyboard's tour may have scrolled it), drawn in the new theme.
        await page.evaluate(() => {
          (document.activeElement as HTMLElement | null)?.blur();
          window.scrollTo(0, 0);
          return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        });
        const file = join(results, `layout-${layout.name}-${t.theme}.png`);
        await page.screenshot({ path: file, scale: 'css' });
        screenshots.push(file);
        await each?.(page, layout, t.theme!, step);
      }
      reports.push({
        layout: layout.name,
        viewport,
        estop,
        estopScrolled,
        stick: stickBox,
        twist,
        themes: [{ ...themes[0]!, chosen: storedFirst !== undefined }, themes[1]!],
        screenshots,
        ms: performance.now() - started,
        ...(estopTouch ? { estopTouch } : {}),
        ...(followsSystem !== undefined ? { followsSystem } : {}),
      });
      // What the page followed at first: the system, or the choice stored before it loaded.
      if (themes[0]!.theme !== (storedFirst ?? system))
        throw new Error(
          `${layout.name}: the page started ${themes[0]!.theme}, expected ${storedFirst ?? system} (system ${system}, stored ${storedFirst ?? 'nothing'})`,
        );
    } finally {
      await context.close();
    }
  }
  return reports;
}

// ------------------------------------------------------------------------------------ widget pictures

/** The widgets pictured in the README, by tag. */
export const PICTURED = [
  'telekit-estop',
  'telekit-teleop-pad',
  'telekit-link-health',
  'telekit-telemetry-plot',
  'telekit-sim-view',
  'telekit-theme-toggle',
  'telekit-recorder',
] as const;

/**
 * Screenshots each widget of the page into `results/widgets/<tag>-<theme>.png` and, when `docs`
 * is given (`TELEKIT_UPDATE_DOCS=1`), copies them there too (the README's pictures).
 */
export async function pictureWidgets(
  page: Page,
  theme: string,
  results: string,
  docs: string | undefined,
  tags: readonly string[] = PICTURED,
): Promise<string[]> {
  const dir = join(results, 'widgets');
  mkdirSync(dir, { recursive: true });
  if (docs) mkdirSync(docs, { recursive: true });
  const files: string[] = [];
  // The sticky header would cover the top of a widget scrolled up under it.
  await page.evaluate(() => {
    const style = document.createElement('style');
    style.id = 'pictures';
    style.textContent = 'header { position: static !important; }';
    document.head.append(style);
  });
  for (const tag of tags) {
    const el = page.locator(tag).first();
    // (The recorder shows only when the server records.)
    if ((await el.count()) === 0 || !(await el.isVisible())) continue;
    // A 3D view paused by a loaded machine is pictured drawing, as an operator's "Draw anyway" does.
    const drawAnyway = el.getByRole('button', { name: 'Draw anyway' });
    if (tag === 'telekit-sim-view' && (await drawAnyway.isVisible())) {
      await drawAnyway.click();
      await page.waitForTimeout(600);
    }
    const file = join(dir, `${tag.replace(/^telekit-/, '')}-${theme}.png`);
    await el.screenshot({ path: file, scale: 'css' });
    if (docs) copyFileSync(file, join(docs, `${tag.replace(/^telekit-/, '')}-${theme}.png`));
    files.push(file);
  }
  await page.evaluate(() => document.getElementById('pictures')?.remove());
  return files;
}
