import { describe, expect, it } from 'vitest';
import { type BodyPose, PoseSamples } from './sim-view-poses.js';

const pose = (x: number, yaw = 0): BodyPose => ({
  name: 'base',
  position: { x, y: 0, z: 0 },
  orientation: { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) },
});

describe('PoseSamples', () => {
  it('has nothing to move between before a second sample', () => {
    const samples = new PoseSamples();
    expect(samples.add(0, [pose(0)])).toBe(true);
    expect(samples.moving).toBe(false);
    expect(samples.interpolate(50)).toBeUndefined();
    expect(samples.last).toEqual([pose(0)]);
  });

  it('moves from the previous sample to the latest over one sample interval', () => {
    const samples = new PoseSamples();
    samples.add(0, [pose(0, 0)]);
    expect(samples.add(200, [pose(1, Math.PI / 2)])).toBe(false);
    expect(samples.moving).toBe(true);
    const [half] = samples.interpolate(300)!;
    expect(half!.position.x).toBeCloseTo(0.5);
    // Halfway through a quarter turn about z: an eighth of a turn.
    expect(half!.orientation.z).toBeCloseTo(Math.sin(Math.PI / 8));
    expect(half!.orientation.w).toBeCloseTo(Math.cos(Math.PI / 8));
    // Arrived: the latest sample as it is, and nothing left to move between.
    expect(samples.interpolate(400)).toEqual([pose(1, Math.PI / 2)]);
    expect(samples.moving).toBe(false);
  });

  it('takes at most half a second between samples however far apart they came', () => {
    const samples = new PoseSamples();
    samples.add(0, [pose(0)]);
    samples.add(5_000, [pose(1)]);
    expect(samples.interpolate(5_250)![0]!.position.x).toBeCloseTo(0.5);
  });

  it('draws poses set by the page as they are, without moving from earlier ones', () => {
    const samples = new PoseSamples();
    samples.add(0, [pose(0)]);
    samples.add(100, [pose(1)]);
    samples.set(150, [pose(2)]);
    expect(samples.moving).toBe(false);
    expect(samples.last).toEqual([pose(2)]);
  });

  it('draws a body new in the latest sample where it is', () => {
    const samples = new PoseSamples();
    samples.add(0, [pose(0)]);
    const other = { ...pose(3), name: 'arm' };
    samples.add(100, [pose(1), other]);
    expect(samples.interpolate(150)![1]).toEqual(other);
  });
});
