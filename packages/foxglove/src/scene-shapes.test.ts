import { readFileSync } from 'node:fs';
import { bundledScenes } from '@telekit/sim-genesis';
import { describe, expect, it } from 'vitest';
import { rotate, sceneShapes } from './scene-shapes.js';

describe('sceneShapes', () => {
  it("reads the demo's robot: the chassis, its casters and wheels, and the world's floor and markers", () => {
    const shapes = sceneShapes(readFileSync(bundledScenes['diff-drive'], 'utf8'));
    expect([...shapes.keys()].sort()).toEqual(['base', 'left_wheel', 'right_wheel', 'world']);
    const base = shapes.get('base')!;
    expect(base.map((s) => s.kind)).toEqual(['cube', 'sphere', 'sphere']);
    expect(base[0]!.size).toEqual({ x: 0.4, y: 0.3, z: 0.1 });
    expect(base[1]!.position).toEqual({ x: 0.16, y: 0, z: -0.05 });
    const wheel = shapes.get('left_wheel')![0]!;
    expect(wheel.kind).toBe('cylinder');
    expect(wheel.size).toEqual({ x: 0.12, y: 0.12, z: 0.04 });
    // euler="1.5708 0 0": the cylinder's axis (z) turned onto y.
    const axis = rotate(wheel.orientation, { x: 0, y: 0, z: 1 });
    expect(Math.abs(axis.y)).toBeCloseTo(1, 4);
    expect(shapes.get('world')!.map((s) => s.kind)).toEqual(['cube', 'cube', 'cube']);
  });

  it('leaves out what it does not read, and reads nothing from a document without a worldbody', () => {
    const shapes = sceneShapes(
      '<mujoco><worldbody><body name="b"><geom type="mesh" mesh="m"/><geom fromto="0 0 0 1 0 0" size="0.1"/><geom size="0.2"/></body></worldbody></mujoco>',
    );
    expect(shapes.get('b')!.map((s) => s.kind)).toEqual(['sphere']);
    expect(sceneShapes('<mujoco/>').size).toBe(0);
  });
});
