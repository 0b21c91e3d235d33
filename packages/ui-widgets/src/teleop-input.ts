/**
 * The teleop pad's logic without a DOM: keys, a stick and gamepads in, drive commands out, at the
 * moment the input happens and then at a steady rate. `<telekit-teleop-pad>` only feeds it events
 * and draws it; a React or Vue pad (or a test) can use it the same way.
 *
 * @module
 */

/** A command to send: forward speed (m/s) and turn rate (rad/s, left positive). */
export interface DriveCommand {
  readonly linear: number;
  readonly angular: number;
}

/** What the input is now: forward and turn in −1…1 (turn left positive), and whether anything is held. */
export interface InputState {
  readonly forward: number;
  readonly turn: number;
  readonly held: boolean;
}

/** The part of the Gamepad API the pad reads. */
export interface GamepadLike {
  readonly axes: readonly number[];
  readonly buttons: readonly { readonly pressed: boolean }[];
}

/** Cancels something scheduled. */
export type Cancel = () => void;

/** Options of {@link TeleopInput}. */
export interface TeleopInputOptions {
  /** Sends one command; `inputAt` is when the input behind it happened (the `now` clock). */
  send(command: DriveCommand, inputAt: number): void;
  /** The clock of the input events' stamps, ms (a page: `performance.timeOrigin + performance.now()`). */
  now(): number;
  /** Top forward speed, m/s. Default 0.5. */
  maxLinear?: number;
  /** Top turn rate, rad/s. Default 1.5. */
  maxAngular?: number;
  /** Commands per second while anything is held (and gamepads are polled). Default 20. */
  rateHz?: number;
  /** The gamepad button that must be held for a gamepad to drive. Default 4 (the left shoulder). */
  deadmanButton?: number;
  /** The connected gamepads (a page: `() => navigator.getGamepads()`). Default: none. */
  gamepads?: () => readonly (GamepadLike | null)[];
  /** Runs `fn` after `ms`. Default `setTimeout`. */
  schedule?: (fn: () => void, ms: number) => Cancel;
  /** Called whenever the input state changes (for a view). */
  changed?: (state: InputState) => void;
}

/** Keys that drive: [forward, turn]. */
export const DRIVE_KEYS: Readonly<Record<string, readonly [number, number]>> = {
  w: [1, 0],
  arrowup: [1, 0],
  s: [-1, 0],
  arrowdown: [-1, 0],
  a: [0, 1],
  arrowleft: [0, 1],
  d: [0, -1],
  arrowright: [0, -1],
};

/** A gamepad's stick reads zero within this. */
export const GAMEPAD_DEADZONE = 0.12;

const clamp = (v: number) => Math.max(-1, Math.min(1, v));
const deadzone = (v: number) => (Math.abs(v) < GAMEPAD_DEADZONE ? 0 : v);
const defaultSchedule = (fn: () => void, ms: number): Cancel => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

/**
 * Teleop input, headless. The rule:
 *
 * 1. **An input change sends at once**, stamped with the input event's time: a key pressed or
 *    released, the stick moved or let go. The stick's moves closer together than half a period
 *    are merged into one command, sent half a period after the last (stamped with the first move
 *    it carries, so the wait shows in the latency budget); a stop is never held back.
 * 2. **While anything is held, a command goes every period** (`rateHz`), so the robot's deadman
 *    never trips under a steady hand. Each repeat is stamped with the moment it was due, not when
 *    the timer managed to run: a busy page shows up as `input` time instead of hiding.
 * 3. **Releasing everything sends one zero command**, then nothing.
 * 4. **Nothing is sent while disabled** (the client does not hold control); the state still
 *    follows the input, and enabling while something is held starts sending at once.
 * 5. Gamepads drive only while their deadman button is held; they are polled at the same rate
 *    while any is connected.
 *
 * @example
 * ```ts
 * const input = new TeleopInput({
 *   now: () => performance.timeOrigin + performance.now(),
 *   send: ({ linear, angular }, inputAt) => client.publish(Topics.twist, twist(linear, angular), { inputAt }),
 * });
 * addEventListener('keydown', (e) => input.keyDown(e.key, performance.timeOrigin + e.timeStamp) && e.preventDefault());
 * addEventListener('keyup', (e) => input.keyUp(e.key, performance.timeOrigin + e.timeStamp));
 * ```
 */
export class TeleopInput {
  readonly #o: Required<Omit<TeleopInputOptions, 'changed'>> & Pick<TeleopInputOptions, 'changed'>;
  readonly #keys = new Set<string>();
  #stick: [number, number] = [0, 0];
  #pad: [number, number] | undefined;
  #enabled = false;
  #closed = false;
  /** Something was sent since the last zero: a release owes one zero command. */
  #moving = false;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  /** The first input change not sent yet (merged changes), by its time. */
  #owed: number | undefined;
  #flush: Cancel | undefined;
  #repeat: Cancel | undefined;
  #due = 0;
  #state: InputState = { forward: 0, turn: 0, held: false };

  constructor(options: TeleopInputOptions) {
    this.#o = {
      maxLinear: 0.5,
      maxAngular: 1.5,
      rateHz: 20,
      deadmanButton: 4,
      gamepads: () => [],
      schedule: defaultSchedule,
      ...options,
    };
  }

  /** The input now. */
  get state(): InputState {
    return this.#state;
  }

  /** The steady period, ms. */
  get periodMs(): number {
    return 1000 / this.#o.rateHz;
  }

  /** Whether commands are sent (this client holds control). */
  get enabled(): boolean {
    return this.#enabled;
  }

  set enabled(on: boolean) {
    if (on === this.#enabled) return;
    this.#enabled = on;
    if (!on) {
      this.#cancelFlush();
      this.#moving = false;
      this.#stopRepeat();
      return;
    }
    if (this.#state.held) this.#changed(this.#o.now());
    else this.#ensurePolling();
  }

  /** A key went down at `at`; returns true when it is a drive key (the page should not act on it too). */
  keyDown(key: string, at: number): boolean {
    const k = key.toLowerCase();
    if (!(k in DRIVE_KEYS)) return false;
    if (this.#keys.has(k)) return true; // the keyboard's own auto-repeat: nothing new
    this.#keys.add(k);
    this.#update(at);
    return true;
  }

  /** A key went up at `at`. */
  keyUp(key: string, at: number): void {
    if (this.#keys.delete(key.toLowerCase())) this.#update(at);
  }

  /** The on-screen stick moved to (x right, y up), each −1…1; (0, 0) is let go. */
  stick(x: number, y: number, at: number): void {
    const len = Math.hypot(x, y);
    const [sx, sy] = len > 1 ? [x / len, y / len] : [x, y];
    if (sx === this.#stick[0] && sy === this.#stick[1]) return;
    this.#stick = [sx, sy];
    // A stick moves continuously: its changes merge; letting go (a stop) goes at once.
    this.#update(at, sx !== 0 || sy !== 0);
  }

  /** Everything let go at once (the page lost focus or was hidden). */
  releaseAll(at: number): void {
    if (this.#keys.size === 0 && this.#stick[0] === 0 && this.#stick[1] === 0 && !this.#pad) return;
    this.#keys.clear();
    this.#stick = [0, 0];
    this.#pad = undefined;
    this.#update(at);
  }

  /** Looks at the gamepads now (call it when one connects; it then polls by itself). */
  poll(at = this.#o.now()): void {
    const before = this.#pad;
    this.#readPads();
    if (before?.[0] !== this.#pad?.[0] || before?.[1] !== this.#pad?.[1]) this.#update(at);
    else this.#ensurePolling();
  }

  /** Stops sending and polling. Safe to call twice; sends nothing (release first for a zero command). */
  close(): void {
    this.#closed = true;
    this.#cancelFlush();
    this.#stopRepeat();
  }

  #readPads(): void {
    let pad: [number, number] | undefined;
    for (const p of this.#o.gamepads()) {
      if (!p?.buttons[this.#o.deadmanButton]?.pressed) continue;
      const [fx, fy] = pad ?? [0, 0];
      pad = [fx - deadzone(p.axes[1] ?? 0), fy - deadzone(p.axes[0] ?? 0)];
    }
    this.#pad = pad;
  }

  #compute(): InputState {
    let forward = 0;
    let turn = 0;
    for (const k of this.#keys) {
      forward += DRIVE_KEYS[k]![0];
      turn += DRIVE_KEYS[k]![1];
    }
    let held = this.#keys.size > 0;
    const [kx, ky] = this.#stick;
    if (kx !== 0 || ky !== 0) {
      forward += ky;
      turn -= kx;
      held = true;
    }
    if (this.#pad) {
      forward += this.#pad[0];
      turn += this.#pad[1];
      held = true;
    }
    return { forward: clamp(forward), turn: clamp(turn), held };
  }

  #update(at: number, merge = false): void {
    const next = this.#compute();
    const s = this.#state;
    if (next.forward === s.forward && next.turn === s.turn && next.held === s.held) {
      this.#ensurePolling();
      return;
    }
    this.#state = next;
    this.#o.changed?.(next);
    this.#changed(at, merge);
  }

  /** An input change at `at`: send now, or (`merge`) into the next send half a period after the last. */
  #changed(at: number, merge = false): void {
    if (this.#closed || !this.#enabled) return;
    if (!this.#state.held && !this.#moving) return;
    this.#owed ??= at;
    const gap = this.periodMs / 2;
    const wait = this.#lastSentAt + gap - this.#o.now();
    if (!merge || wait <= 0) {
      const first = this.#owed; // the oldest change this command carries
      this.#cancelFlush();
      this.#owed = first;
      this.#sendOwed();
      return;
    }
    this.#flush ??= this.#o.schedule(() => {
      this.#flush = undefined;
      this.#sendOwed();
    }, wait);
  }

  #sendOwed(): void {
    const at = this.#owed ?? this.#o.now();
    this.#owed = undefined;
    this.#send(at);
    // The steady repeats count from this command.
    this.#stopRepeat();
    if (this.#state.held) this.#scheduleRepeat(at + this.periodMs);
    else this.#ensurePolling();
  }

  #send(inputAt: number): void {
    const { forward, turn, held } = this.#state;
    if (!held && !this.#moving) return;
    const command = { linear: forward * this.#o.maxLinear, angular: turn * this.#o.maxAngular };
    this.#lastSentAt = this.#o.now();
    this.#moving = held;
    this.#o.send(command, inputAt);
  }

  #scheduleRepeat(due: number): void {
    this.#due = due;
    this.#repeat = this.#o.schedule(
      () => {
        this.#repeat = undefined;
        this.#tick();
      },
      Math.max(0, due - this.#o.now()),
    );
  }

  #stopRepeat(): void {
    this.#repeat?.();
    this.#repeat = undefined;
  }

  #cancelFlush(): void {
    this.#flush?.();
    this.#flush = undefined;
    this.#owed = undefined;
  }

  /** A repeat (or a gamepad poll) fell due. */
  #tick(): void {
    if (this.#closed) return;
    const due = this.#due;
    const now = this.#o.now();
    this.#readPads();
    const next = this.#compute();
    const s = this.#state;
    if (next.forward !== s.forward || next.turn !== s.turn || next.held !== s.held) {
      this.#state = next;
      this.#o.changed?.(next);
    }
    if (this.#enabled && this.#flush === undefined && (this.#state.held || this.#moving)) {
      // Stamped with the moment it was due: lateness is the page's, and shows. (A timer may fire a
      // hair before its time on the page's clock: never stamp an input after the send.)
      this.#send(Math.min(due, now));
    }
    // Steady: the next one is due a period after this one was, unless the page fell a whole period behind.
    let following = due + this.periodMs;
    if (following <= now) following = now + this.periodMs;
    if (this.#state.held || this.#padsConnected()) this.#scheduleRepeat(following);
  }

  #padsConnected(): boolean {
    return this.#o.gamepads().some((p) => p !== null);
  }

  /** Gamepads connected and nothing scheduled: poll at the steady rate. */
  #ensurePolling(): void {
    if (this.#closed || this.#repeat || !this.#padsConnected()) return;
    this.#scheduleRepeat(this.#o.now() + this.periodMs);
  }
}
