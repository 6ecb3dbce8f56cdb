// Running the CLI as a user does: a child process, its exit code and output. Under Node that is
// the bin, bin/isg.cjs (which runs the bundle `npm run build` makes), under Deno the .ts sources
// (selfCommand). Colour variables are not inherited, so output is plain unless a test asks.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { packageRoot } from '../../daemon/util/package-root.ts';
import { selfCommand } from '../../daemon/util/runtime.ts';

/** The command that runs the CLI on this runtime: the executable, then its first arguments. */
export const [CLI, ...CLI_ARGS] = selfCommand() as [string, ...string[]];

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Node: run this script instead of the bin (a copy of it, say). */
  script?: string;
}

/** `isg ...args`, from the package root unless `cwd` says otherwise. */
export function runCli(args: string[], o: RunOptions = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  return new Promise((resolve, reject) => {
    execFile(CLI, [...(o.script ? [o.script] : CLI_ARGS), ...args], { cwd: o.cwd ?? packageRoot(), env: { ...env, ...o.env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** Asserts the exit code, showing the output when it is not the expected one. */
export function exits(r: Run, code: number): void {
  assert.equal(r.code, code, `exit ${r.code}, expected ${code}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 2000)}`);
}
