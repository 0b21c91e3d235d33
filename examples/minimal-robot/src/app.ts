import { type App, createApp, inProcess, type Logger } from '@telekit/core';
import { type OperatorReport, scriptedOperator } from './operator-script.js';
import { robot } from './robot-plugin.js';

/**
 * Runs the minimal robot app: an in-process transport, a simulated robot behind the safety gate,
 * and a scripted operator. Resolves with what the operator saw once the script is done.
 */
export async function runMinimalRobot(
  options: { logger?: Logger; narrate?: (s: number, line: string) => void } = {},
): Promise<{
  app: App;
  report: OperatorReport;
}> {
  let finish: (r: OperatorReport) => void = () => {};
  const done = new Promise<OperatorReport>((resolve) => (finish = resolve));
  const app = createApp({
    name: 'minimal-robot',
    ...(options.logger ? { logger: options.logger } : {}),
    plugins: [
      inProcess(),
      robot(),
      scriptedOperator({ done: finish, ...(options.narrate ? { narrate: options.narrate } : {}) }),
    ],
  });
  await app.start();
  try {
    const report = await done;
    return { app, report };
  } finally {
    await app.stop();
  }
}
