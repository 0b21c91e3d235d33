import type { OperatorReport } from './operator-script.js';

/** What must be true of a run; returns the problems (empty when the run is good). */
export function checkReport(report: OperatorReport): string[] {
  const problems: string[] = [];
  const saw = (prefix: string) => report.safety.some(([, line]) => line.startsWith(prefix));
  if (report.distance < 0.5) problems.push(`the robot barely moved (${report.distance.toFixed(2)} m)`);
  if (report.actuated === 0) problems.push('no command was actuated');
  for (const [prefix, rule] of [
    ['deadman', 'deadman'],
    ['e-stop engaged', 'e-stop'],
    ['command blocked by the e-stop', 'e-stop blocking'],
    ['e-stop cleared', 'e-stop clear'],
    ['stale command dropped', 'stale-command filter'],
    ['command from a client without the lease', 'control lease'],
  ] as const) {
    if (!saw(prefix)) problems.push(`the ${rule} rule never fired`);
  }
  return problems;
}
