// Loading a Node-API addon file by path with `process.dlopen` (Node and Deno both have it), for
// the native plugin tier and the daemon's own addon (malloc-trim).
import process from 'node:process';

type Dlopen = (module: { exports: unknown }, file: string) => void;

/** Whether this runtime can load Node-API addons at all. */
export function canDlopen(): boolean {
  return typeof (process as { dlopen?: Dlopen }).dlopen === 'function';
}

/** The addon's exports (its Node-API registration run); throws what the runtime throws. */
export function dlopenAddon(file: string): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  (process as unknown as { dlopen: Dlopen }).dlopen.call(process, module, file);
  return module.exports;
}
