/**
 * Loading MuJoCo's official WebAssembly build (`@mujoco/mujoco`), once per page or process.
 *
 * @module
 */
import type { MainModule } from '@mujoco/mujoco';
import { TelekitError } from '@telekit/core';

/** The MuJoCo module: the engine's functions, classes and enums. */
export type Mujoco = MainModule;

/** The engine version this package is built against; the server sidecar pins the same one. */
export const MUJOCO_VERSION = '3.14.0';

/** Options of {@link loadEngine}. */
export interface EngineOptions {
  /**
   * Where the page serves `mujoco.wasm` (bundlers rarely copy it by themselves). Default: beside
   * the module, which is right in Node and for unbundled pages.
   */
  wasmUrl?: string;
  /** Give up after this long, ms (a stalled download must not hang the app). Default 30 000. */
  timeoutMs?: number;
}

let loading: Promise<Mujoco> | undefined;
let loadingUrl: string | undefined;

/** Whether this runtime can run the engine at all. */
export function webAssemblySupported(): boolean {
  return typeof WebAssembly === 'object' && typeof WebAssembly.instantiate === 'function';
}

/**
 * Loads the engine (once; later calls share it). Rejects with `E_SIM_NO_WASM` where WebAssembly is
 * missing and `E_SIM_ENGINE` when the module cannot be fetched or compiled in time.
 */
export function loadEngine(options: EngineOptions = {}): Promise<Mujoco> {
  if (loading && loadingUrl === options.wasmUrl) return loading;
  if (!webAssemblySupported()) {
    return Promise.reject(
      new TelekitError('E_SIM_NO_WASM', 'this runtime has no WebAssembly: use server mode', {
        operation: 'loadEngine',
      }),
    );
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const attempt = (async () => {
    const { default: loadMujoco } = await import('@mujoco/mujoco');
    const { wasmUrl } = options;
    const module = loadMujoco(wasmUrl ? { locateFile: () => wasmUrl } : {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TelekitError('E_SIM_ENGINE', 'the MuJoCo engine did not load in time', {
              operation: 'loadEngine',
              context: { ms: timeoutMs, wasm: wasmUrl ?? 'mujoco.wasm' },
            }),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([module, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  })().catch((error: unknown) => {
    loading = undefined;
    if (error instanceof TelekitError) throw error;
    throw new TelekitError('E_SIM_ENGINE', 'the MuJoCo engine could not be loaded', {
      operation: 'loadEngine',
      cause: error,
      context: { wasm: options.wasmUrl ?? 'mujoco.wasm' },
    });
  });
  loading = attempt;
  loadingUrl = options.wasmUrl;
  return attempt;
}
