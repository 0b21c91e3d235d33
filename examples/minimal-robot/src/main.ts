/**
 * The smallest real Telekit app: a simulated robot and a scripted operator in one process, talking
 * through the in-process transport, every command passing the core safety gate. It prints the story
 * as it happens, then the control round trip and the safety events it saw, and exits non-zero when
 * the robot did not move or a safety rule did not fire.
 */

import { consoleLogger } from '@telekit/core';
import { quantile } from '@telekit/testkit/bench';
import { runMinimalRobot } from './app.js';
import { checkReport } from './check.js';

console.log('telekit minimal robot: in-process transport · kinematic robot · scripted operator\n');
const { report } = await runMinimalRobot({
  logger: consoleLogger({ level: 'warn' }),
  narrate: (s, line) => console.log(`[${s.toFixed(2).padStart(5)} s] ${line}`),
});

const ms = (xs: number[], q: number) =>
  `${quantile(
    [...xs].sort((a, b) => a - b),
    q,
  ).toFixed(2)} ms`;
console.log('\ncontrol round trip (command sent → actuation report back):');
console.log(`  commands sent ${report.sent}, actuated ${report.actuated}`);
console.log(`  round trip        p50 ${ms(report.roundTripMs, 0.5)}  p99 ${ms(report.roundTripMs, 0.99)}`);
console.log(
  `  input→actuation   p50 ${ms(report.inputToActuationMs, 0.5)}  p99 ${ms(report.inputToActuationMs, 0.99)}`,
);
console.log(
  `  distance travelled ${report.distance.toFixed(2)} m, now at (${report.position.x.toFixed(2)}, ${report.position.y.toFixed(2)})`,
);
console.log('\nsafety events seen:');
const counts = new Map<string, number>();
for (const [, line] of report.safety) {
  const kind = line.replace(/\s*\[.*$/, '');
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
}
for (const [kind, n] of counts) console.log(`  ${String(n).padStart(3)} × ${kind}`);

const problems = checkReport(report);
if (problems.length > 0) {
  console.error(`\nFAILED: ${problems.join('; ')}`);
  process.exitCode = 1;
} else {
  console.log('\nok: the robot moved and every safety rule fired');
}
