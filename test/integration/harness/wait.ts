/**
 * Polling helpers: integration tests wait for conditions, never for fixed amounts of time.
 */

/** Resolves with fn's first truthy result; rejects when `timeoutMs` passes first. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const suffix = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms${suffix}`);
    }
    await tick(10);
  }
}

/** Yields to the event loop for about `ms` (a polling interval, not a synchronisation). */
export function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects when `p` has not settled within `ms`. */
export function within<T>(p: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Resolves with fn's value once it has not changed for `quietMs` (e.g. a writer stalled by
 * backpressure). Rejects when that does not happen within `timeoutMs`.
 */
export async function waitStable<T>(fn: () => T, quietMs: number, timeoutMs = 10_000, what = 'value'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = fn();
  let since = Date.now();
  for (;;) {
    await tick(10);
    const v = fn();
    if (v !== last) {
      last = v;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return v;
    }
    if (Date.now() > deadline) throw new Error(`waitStable: ${what} kept changing for ${timeoutMs} ms`);
  }
}
