/**
 * Loads the native addon's scanner test hooks (native/src/test-hooks.cc) for the tests in this
 * folder. A missing addon fails the tests (npm install builds it) unless SWITCHYARD_NATIVE=off,
 * which skips them with that reason.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The compiled file is dist/test/unit/native/*.js: the repository is four levels up.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const ADDON_PATH = path.join(ROOT, 'native/build/Release/switchyard_native.node');
export const SKIP: string | false = process.env['SWITCHYARD_NATIVE'] === 'off' ? 'SWITCHYARD_NATIVE=off' : false;
/** fast-check runs per property (SWITCHYARD_NATIVE_FC_RUNS lowers it, e.g. under valgrind). */
export const RUNS = Number(process.env['SWITCHYARD_NATIVE_FC_RUNS'] ?? '') || 5000;

let loaded: unknown = null;

/** The addon's exports, typed by the caller; throws when it is not built. */
export function nativeHooks<T>(): T {
  if (loaded === null) {
    loaded = existsSync(ADDON_PATH)
      ? createRequire(import.meta.url)(ADDON_PATH)
      : new Error(`the native addon is not built (${ADDON_PATH} is missing): build it with node scripts/build-native.mjs`);
  }
  if (loaded instanceof Error) throw loaded;
  return loaded as T;
}
