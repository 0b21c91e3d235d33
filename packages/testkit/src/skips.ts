/** Tests of a kit to skip, and why. The reason shows in the test's title. */
export interface SkipEntry {
  readonly reason: string;
  readonly tests: readonly string[];
}

/** Looks up why a test is skipped: from `skip`, or from a missing capability. */
export function skipReason(
  title: string,
  skip: readonly SkipEntry[] | undefined,
  missingCapability?: string | false,
): string | undefined {
  const entry = skip?.find((s) => s.tests.includes(title));
  if (entry) return entry.reason;
  if (missingCapability) return `capability ${missingCapability} not declared`;
  return undefined;
}

/**
 * Why a suite that needs something absent (ROS 2, a GPU, Genesis) cannot run here, or `undefined`
 * when it can. Use it as `describe.skipIf(reason)(\`… (skipped: ${reason})\`)` so the report says why.
 */
export function missingRequirement(
  requirements: readonly { ok: boolean; need: string }[],
): string | undefined {
  const missing = requirements.filter((r) => !r.ok).map((r) => r.need);
  return missing.length === 0 ? undefined : `needs ${missing.join(', ')}`;
}
