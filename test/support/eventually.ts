// Waiting for a running daemon to get somewhere, with a generous deadline and no timed
// assertion: a loaded machine is slower, never wrong.
import assert from 'node:assert/strict';

const DEADLINE_MS = 60_000;

/** Calls `probe` until it gives a value other than undefined, and returns that value. */
export async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
