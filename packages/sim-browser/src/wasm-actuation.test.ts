import type { Header } from '@telekit/core';
import type { SimAction } from '@telekit/core/contracts';
import type { CommandFate } from '@telekit/core/schemas';
import { describe, expect, it } from 'vitest';
import { PendingCommands } from './wasm-actuation.js';

const command = (seq: number): Header => ({ seq, stamp: 0, sender: 'page' });
const joints = (...name: string[]): SimAction => ({ kind: 'joints', name, position: name.map(() => 0) });

describe('PendingCommands', () => {
  const make = () => {
    const fates: [number, CommandFate, number][] = [];
    const pending = new PendingCommands((c, fate, simTime) => fates.push([c.seq, fate, simTime]));
    return { pending, fates };
  };

  it('reports every waiting command once, with the fate the step or the new scene gives it', () => {
    const { pending, fates } = make();
    pending.add(
      command(1),
      { kind: 'twist', linear: { x: 1, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
      0,
    );
    pending.add(command(2), joints('elbow'), 0);
    pending.settle('applied', 0.5);
    pending.settle('applied', 0.6);
    pending.add(command(3), joints('elbow'), 0.6);
    pending.settle('superseded', 0);
    expect(fates).toEqual([
      [1, 'applied', 0.5],
      [2, 'applied', 0.5],
      [3, 'superseded', 0],
    ]);
  });

  it('supersedes a waiting command whose actuators a later one all drives, and no other', () => {
    const { pending, fates } = make();
    pending.add(command(1), joints('elbow'), 0.1);
    pending.add(command(2), joints('wrist'), 0.1);
    pending.add(command(3), joints('elbow', 'shoulder'), 0.2);
    expect(fates).toEqual([[1, 'superseded', 0.2]]);
    pending.settle('applied', 0.3);
    expect(fates.slice(1)).toEqual([
      [2, 'applied', 0.3],
      [3, 'applied', 0.3],
    ]);
  });

  it('e-stops every waiting command at a freeze (a waiting freeze is superseded)', () => {
    const { pending, fates } = make();
    pending.add(command(1), joints('elbow'), 0.1);
    pending.add(command(2), { kind: 'freeze' }, 0.1);
    pending.add(command(3), { kind: 'freeze' }, 0.2);
    expect(fates).toEqual([
      [1, 'estop', 0.1],
      [2, 'superseded', 0.2],
    ]);
  });
});
