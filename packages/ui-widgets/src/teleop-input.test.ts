import { describe, expect, it } from 'vitest';
import { type DriveCommand, type GamepadLike, TeleopInput, type TeleopInputOptions } from './teleop-input.js';

/** A manual clock and timer queue: `advance` runs what falls due, in order, each at its time (or late). */
function harness(options: Partial<TeleopInputOptions> = {}) {
  let t = 1_000;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  const sent: { command: DriveCommand; inputAt: number; sentAt: number }[] = [];
  const input = new TeleopInput({
    now: () => t,
    send: (command, inputAt) => sent.push({ command, inputAt, sentAt: t }),
    schedule: (fn, ms) => {
      const id = ids++;
      timers.push({ at: t + ms, fn, id });
      return () => {
        timers = timers.filter((x) => x.id !== id);
      };
    },
    maxLinear: 0.5,
    maxAngular: 1.5,
    rateHz: 20,
    ...options,
  });
  input.enabled = true;
  return {
    input,
    sent,
    get now() {
      return t;
    },
    get pending() {
      return timers.length;
    },
    /** Moves the clock; each timer runs `lateMs` after it was due (a busy page). */
    advance(ms: number, lateMs = 0) {
      const end = t + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at + lateMs > end) break;
        timers.shift();
        t = Math.max(t, next.at + lateMs);
        next.fn();
      }
      t = end;
    },
  };
}

describe('TeleopInput', () => {
  it('sends at the key press, stamped with it; repeats at a steady rate while held; one zero on release', () => {
    const h = harness();
    expect(h.input.keyDown('W', 995)).toBe(true);
    expect(h.sent).toEqual([{ command: { linear: 0.5, angular: 0 }, inputAt: 995, sentAt: 1_000 }]);
    h.advance(160);
    // Every 50 ms from the press, each stamped with the moment it was due.
    expect(h.sent.map((s) => s.inputAt)).toEqual([995, 1_045, 1_095, 1_145]);
    h.input.keyUp('w', h.now);
    expect(h.sent.at(-1)).toMatchObject({ command: { linear: 0, angular: 0 }, inputAt: 1_160 });
    const n = h.sent.length;
    h.advance(500);
    expect(h.sent).toHaveLength(n);
    expect(h.pending).toBe(0);
  });

  it("ignores the keyboard's own auto-repeat and keys that do not drive", () => {
    const h = harness();
    h.input.keyDown('w', 1_000);
    h.input.keyDown('w', 1_010);
    h.input.keyDown('w', 1_020);
    expect(h.sent).toHaveLength(1);
    expect(h.input.keyDown('q', 1_030)).toBe(false);
    expect(h.sent).toHaveLength(1);
  });

  it('combines keys, clamped: forward and left together, two forward keys still full speed', () => {
    const h = harness({ rateHz: 10 });
    h.input.keyDown('w', 1_000);
    h.advance(60);
    h.input.keyDown('ArrowUp', h.now);
    expect(h.input.state).toEqual({ forward: 1, turn: 0, held: true });
    h.input.keyDown('a', h.now);
    expect(h.sent.at(-1)!.command).toEqual({ linear: 0.5, angular: 1.5 });
  });

  it('shows a busy page as input time: a late repeat keeps the stamp it was due at, and never bursts to catch up', () => {
    const h = harness();
    h.input.keyDown('w', 1_000);
    h.advance(200, 30); // every timer runs 30 ms late
    const repeats = h.sent.slice(1);
    expect(repeats.length).toBeGreaterThan(0);
    for (const r of repeats) expect(r.sentAt - r.inputAt).toBe(30);
    // A whole second stalled: one command when the page wakes, then steady again.
    const before = h.sent.length;
    h.advance(1_000, 1_000);
    expect(h.sent.length - before).toBeLessThanOrEqual(1);
  });

  it('merges changes closer than half a period into one command stamped with the first', () => {
    const h = harness(); // period 50 ms: changes within 25 ms of the last send merge
    h.input.stick(0, 0.5, 1_000);
    expect(h.sent).toHaveLength(1);
    h.advance(5);
    h.input.stick(0, 0.6, h.now);
    h.advance(5);
    h.input.stick(0, 0.7, h.now);
    expect(h.sent).toHaveLength(1);
    h.advance(20);
    expect(h.sent).toHaveLength(2);
    expect(h.sent[1]).toMatchObject({ inputAt: 1_005, sentAt: 1_025 });
    expect(h.sent[1]!.command.linear).toBeCloseTo(0.35);
    // Let go: one zero.
    h.advance(100);
    h.input.stick(0, 0, h.now);
    expect(h.sent.at(-1)!.command).toEqual({ linear: 0, angular: 0 });
  });

  it('sends nothing without control, and starts at once when control comes while a key is held', () => {
    const h = harness();
    h.input.enabled = false;
    h.input.keyDown('d', 1_000);
    h.advance(200);
    expect(h.sent).toHaveLength(0);
    expect(h.input.state).toEqual({ forward: 0, turn: -1, held: true });
    h.input.enabled = true;
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]!.command).toEqual({ linear: 0, angular: -1.5 });
    // Losing control mid-drive stops the repeats (the gateway stops the robot).
    h.input.enabled = false;
    h.advance(200);
    expect(h.sent).toHaveLength(1);
  });

  it('drives from a gamepad only while its deadman button is held, polling at the steady rate', () => {
    const pad: { axes: number[]; buttons: { pressed: boolean }[] } = {
      axes: [0, -1],
      buttons: Array.from({ length: 8 }, () => ({ pressed: false })),
    };
    const h = harness({ gamepads: () => [pad as GamepadLike, null] });
    h.input.poll(1_000);
    h.advance(200);
    expect(h.sent).toHaveLength(0); // stick pushed, deadman not held
    pad.buttons[4]!.pressed = true;
    h.advance(60);
    expect(h.sent.length).toBeGreaterThanOrEqual(1);
    expect(h.sent[0]!.command).toEqual({ linear: 0.5, angular: 0 });
    // A stick inside the dead zone reads zero.
    pad.axes = [0.05, -1];
    h.advance(50);
    expect(h.sent.at(-1)!.command.angular).toBe(0);
    pad.buttons[4]!.pressed = false;
    h.advance(60);
    expect(h.sent.at(-1)!.command).toEqual({ linear: 0, angular: 0 });
    const n = h.sent.length;
    h.advance(500);
    expect(h.sent).toHaveLength(n);
  });

  it('releaseAll lets go of everything with one zero; close stops it all', () => {
    const h = harness();
    h.input.keyDown('w', 1_000);
    h.input.keyDown('a', 1_001);
    h.advance(100);
    h.input.releaseAll(h.now);
    expect(h.sent.at(-1)!.command).toEqual({ linear: 0, angular: 0 });
    h.input.keyDown('s', h.now);
    h.input.close();
    h.input.close();
    const n = h.sent.length;
    h.advance(500);
    expect(h.sent).toHaveLength(n);
    expect(h.pending).toBe(0);
  });
});
