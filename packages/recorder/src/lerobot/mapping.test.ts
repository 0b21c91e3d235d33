import { describe, expect, it } from 'vitest';
import { fieldReader, parseFieldList, resolveFields } from './mapping.js';

const yawQuat = (yaw: number) => ({ x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) });

describe('field paths', () => {
  it('reads nested keys, a quaternion as yaw/roll/pitch, list entries by name and by index', () => {
    const pose = { position: { x: 1, y: 2, z: 0 }, orientation: yawQuat(0.7) };
    expect(fieldReader('position.y')(pose)).toBe(2);
    expect(fieldReader('orientation.yaw')(pose)).toBeCloseTo(0.7, 12);
    expect(fieldReader('orientation.roll')(pose)).toBeCloseTo(0, 12);
    const joints = { name: ['a', 'b'], position: [0.1, 0.2], velocity: [1, 2] };
    expect(fieldReader('position[b]')(joints)).toBe(0.2);
    expect(fieldReader('velocity[0]')(joints)).toBe(1);
    expect(fieldReader('position[c]')(joints)).toBeUndefined();
    expect(fieldReader('effort[a]')(joints)).toBeUndefined();
    expect(fieldReader('position.w')(pose)).toBeUndefined();
  });

  it('expands [*] to every name the topic carries, drops optional fields with no sample, names what is missing', () => {
    const messages: Record<string, unknown[]> = {
      '/telemetry/joint_state': [
        { name: ['shoulder'], position: [0.1] },
        { name: ['shoulder', 'elbow'], position: [0.2, 0.3] },
      ],
    };
    const of = (t: string) => messages[t] ?? [];
    const fields = resolveFields(
      [
        { topic: '/telemetry/joint_state', path: 'position[*]' },
        { topic: '/telemetry/joint_state', path: 'velocity[*]', optional: true },
        { topic: '/telemetry/pose', path: 'position.x', optional: true },
      ],
      of,
      'observation.state',
    );
    expect(fields.map((f) => f.name)).toEqual(['shoulder.position', 'elbow.position']);
    expect(fields[1]!.read(messages['/telemetry/joint_state']![1])).toBe(0.3);
    expect(() =>
      resolveFields([{ topic: '/telemetry/pose', path: 'position.x' }], of, 'observation.state'),
    ).toThrow(/no sample of observation.state field position.x/);
    expect(() =>
      resolveFields(
        [
          { topic: '/telemetry/joint_state', path: 'position[shoulder]', name: 'q' },
          { topic: '/telemetry/joint_state', path: 'position[elbow]', name: 'q' },
        ],
        of,
        'action',
      ),
    ).toThrow(/two action fields are named q/);
  });

  it('parses the CLI field list and names a bad item', () => {
    expect(parseFieldList('x=/telemetry/pose:position.x, /controller/twist:angular.z@0', '--state')).toEqual([
      { name: 'x', topic: '/telemetry/pose', path: 'position.x' },
      { topic: '/controller/twist', path: 'angular.z', before: 0 },
    ]);
    expect(() => parseFieldList('pose.x', '--state')).toThrow(/--state: not a field \[item:pose.x\]/);
    expect(() => parseFieldList('/telemetry/pose:position..x', '--state')).toThrow(/not a field path/);
  });
});
