/**
 * How much a page's 3D view may draw: a ladder of quality levels from 60 fps with shadows down to
 * a paused view, chosen by what the page measures, so that drawing never costs the operator's
 * commands their time. Headless: `<telekit-sim-view>` uses it; a test drives it with a fake clock.
 *
 * @module
 */

/** One rung of the ladder. */
export interface RenderLevel {
  /** Short name, shown in the view's overlay. */
  readonly name: string;
  /** Frames per second to aim for. */
  readonly fps: number;
  /** Canvas resolution as a fraction of its size on screen. */
  readonly scale: number;
  readonly shadows: boolean;
}

/** The ladder, best first. Below the last rung the view pauses. */
export const RENDER_LEVELS: readonly RenderLevel[] = [
  { name: 'full', fps: 60, scale: 1, shadows: true },
  { name: 'no shadows', fps: 60, scale: 1, shadows: false },
  { name: 'reduced', fps: 30, scale: 0.75, shadows: false },
  { name: 'low', fps: 30, scale: 0.5, shadows: false },
  { name: 'minimal', fps: 15, scale: 0.5, shadows: false },
];

/** The governor's verdict, for the view and its overlay. */
export interface RenderState {
  /** Index into {@link RENDER_LEVELS}. */
  readonly level: number;
  readonly settings: RenderLevel;
  /** Paused: the view draws nothing until `resumeAt`. */
  readonly paused: boolean;
  /** Frames drawn in the last second. */
  readonly fps: number;
  /** Why it stepped down or paused last, for people; empty while all is well. */
  readonly note: string;
}

/** Options of {@link RenderGovernor}. */
export interface RenderGovernorOptions {
  /** ms; the rAF clock (`performance.now()`). */
  now(): number;
  /** The level to start at. Default 0 (a software renderer should start lower: see the view). */
  start?: number;
  /** Input lag (ms) above which drawing steps down: the page's commands come first. Default 16 (a frame at 60 Hz). */
  maxInputLagMs?: number;
  /** Main-thread time per second a view may spend drawing, ms. Default 250 (a quarter). */
  maxDrawMsPerSecond?: number;
  /** Good for this long → one level up, ms. Default 5 000. */
  upAfterMs?: number;
  /** Paused for this long → try the lowest level again, ms. Default 10 000. */
  retryAfterMs?: number;
  /** Called when the level, the pause or the note changes. */
  changed?: (state: RenderState) => void;
}

/**
 * Chooses the 3D view's quality from what the page measures. The rule, checked at most once a
 * second (after a change, a second passes before the next judgement):
 *
 * 1. **Down a level** when, over the last second, the view drew under 80 % of its target frame rate
 *    while it had a new picture for every frame (`continuous`: the GPU, or a software renderer,
 *    cannot keep up), or spent more than `maxDrawMsPerSecond` of
 *    main-thread time drawing, or the page's input lag (long tasks, late command sends) went over
 *    `maxInputLagMs`. Below the last level it **pauses**, saying why, and tries the last level
 *    again after `retryAfterMs`.
 * 2. **Up a level** after `upAfterMs` with none of these.
 *
 * The view asks {@link due} on every animation frame and draws only when it says so (frames spaced
 * for the level's rate), then reports each frame with {@link drawn}.
 */
export class RenderGovernor {
  readonly #o: Required<Omit<RenderGovernorOptions, 'changed' | 'start'>> &
    Pick<RenderGovernorOptions, 'changed'>;
  #level: number;
  #paused = false;
  #note = '';
  #frames: { at: number; ms: number }[] = [];
  #nextSlot = Number.NEGATIVE_INFINITY;
  #lagMs = 0;
  #lagAt = Number.NEGATIVE_INFINITY;
  #judgedAt: number;
  #goodSince: number;
  #resumeAt = 0;
  /**
   * Whether the view has a new picture for every frame (a simulation in the page), so that drawing
   * fewer frames than the target means it cannot keep up. Views fed by a slower source (telemetry
   * at a few Hz) are judged on draw time and input lag only.
   */
  continuous = false;

  constructor(options: RenderGovernorOptions) {
    this.#o = {
      maxInputLagMs: 16,
      maxDrawMsPerSecond: 250,
      upAfterMs: 5_000,
      retryAfterMs: 10_000,
      ...options,
    };
    this.#level = Math.max(0, Math.min(RENDER_LEVELS.length - 1, options.start ?? 0));
    this.#judgedAt = options.now();
    this.#goodSince = this.#judgedAt;
  }

  /** The current verdict. */
  get state(): RenderState {
    const now = this.#o.now();
    return {
      level: this.#level,
      settings: RENDER_LEVELS[this.#level]!,
      paused: this.#paused,
      fps: this.#frames.filter((f) => f.at > now - 1_000).length,
      note: this.#note,
    };
  }

  /** Whether to draw a frame now: not paused, and a frame interval since the last (with a little slack). */
  due(now: number): boolean {
    this.#judge(now);
    if (this.#paused) return false;
    // Slots a frame interval apart; a rAF tick takes the slot it reaches (up to 2 ms early), so a
    // 40 Hz display still gets 30 fps, not every other tick.
    return now >= this.#nextSlot - 2;
  }

  /** A frame was drawn at `at`, costing `ms` of main-thread time. */
  drawn(at: number, ms: number): void {
    const interval = 1000 / RENDER_LEVELS[this.#level]!.fps;
    this.#nextSlot = Math.max(this.#nextSlot + interval, at + interval / 2);
    this.#frames.push({ at, ms });
    while (this.#frames.length > 0 && this.#frames[0]!.at <= at - 1_000) this.#frames.shift();
  }

  /** The page's input was late by `ms` at `at` (a long task, a command sent late). */
  inputLag(at: number, ms: number): void {
    if (ms >= this.#lagMs || at - this.#lagAt > 1_000) {
      this.#lagMs = ms;
      this.#lagAt = at;
    }
  }

  /** Leaves the pause now (the operator asked), at the lowest level. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#level = RENDER_LEVELS.length - 1;
    this.#note = '';
    this.#restart(this.#o.now());
  }

  #restart(now: number): void {
    this.#judgedAt = now;
    this.#goodSince = now;
    this.#frames = [];
    this.#lagMs = 0;
    this.#emit();
  }

  #emit(): void {
    this.#o.changed?.(this.state);
  }

  #judge(now: number): void {
    if (this.#paused) {
      if (now >= this.#resumeAt) {
        this.#paused = false;
        this.#level = RENDER_LEVELS.length - 1;
        this.#note = 'trying the 3D view again at its lowest level';
        this.#restart(now);
      }
      return;
    }
    if (now - this.#judgedAt < 1_000) return;
    this.#judgedAt = now;
    const target = RENDER_LEVELS[this.#level]!.fps;
    const recent = this.#frames.filter((f) => f.at > now - 1_000);
    const fps = recent.length;
    const drawMs = recent.reduce((sum, f) => sum + f.ms, 0);
    const lag = now - this.#lagAt <= 1_000 ? this.#lagMs : 0;
    const why =
      lag > this.#o.maxInputLagMs
        ? `the page's input ran ${lag.toFixed(0)} ms late`
        : drawMs > this.#o.maxDrawMsPerSecond
          ? `drawing took ${drawMs.toFixed(0)} ms of each second`
          : this.continuous && fps < target * 0.8
            ? `${fps} of ${target} fps drawn`
            : undefined;
    if (why === undefined) {
      if (this.#level > 0 && now - this.#goodSince >= this.#o.upAfterMs) {
        this.#level--;
        this.#note = '';
        this.#restart(now);
      }
      return;
    }
    this.#goodSince = now;
    if (this.#level < RENDER_LEVELS.length - 1) {
      this.#level++;
      this.#note = `lowered: ${why}`;
      this.#restart(now);
      return;
    }
    this.#paused = true;
    this.#resumeAt = now + this.#o.retryAfterMs;
    this.#note = `paused: ${why} — your commands come first`;
    this.#emit();
  }
}
