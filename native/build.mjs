// `npm run build:native`: builds every native plugin (a directory holding Cargo.toml and
// isg-plugin.json, under native/plugins/ and test/fixtures/plugins/) with
// `napi build --platform --release`, offline, and the host of plugins in process isolation
// (native/process-host, a plain executable, copied to native/process-host/isg-process-host),
// and on Linux with glibc the daemon's own malloc-trim addon (native/malloc-trim: not a plugin;
// the daemon runs without it, it then does not give freed allocator memory back), and on Linux
// and macOS its thread-clock addon (native/thread-clock: without it, plugin workers charge
// their calls wall time instead of their thread's CPU time).
// Plain JavaScript, because it runs during `npm install` before anything is compiled.
//
// Without cargo it says so and exits 0: the rest of isg works, and the native tier reports
// these plugins unavailable (naming the missing .node file). With cargo, a failed build fails.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const PLUGIN_PARENTS = [join(here, 'plugins'), join(root, 'test', 'fixtures', 'plugins')];

const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (cargo.error || cargo.status !== 0) {
  console.warn(
    'isg: cargo was not found, so the native plugins (native/plugins/*) were not built; isg works without them and reports them unavailable.\n' +
      '     To build them, install Rust (cargo 1.82 or later) and run `npm run build:native`.',
  );
  process.exit(0);
}

const require = createRequire(import.meta.url);
const cliPackage = require.resolve('@napi-rs/cli/package.json');
const cliBin = join(dirname(cliPackage), JSON.parse(readFileSync(cliPackage, 'utf8')).bin.napi);

const plugins = PLUGIN_PARENTS.filter((p) => existsSync(p))
  .flatMap((parent) => readdirSync(parent).map((name) => join(parent, name)))
  .filter((dir) => existsSync(join(dir, 'Cargo.toml')) && existsSync(join(dir, 'isg-plugin.json')));

/** `napi build` of the crate in `dir` into `dir`; exits on failure. */
function napiBuild(dir, what) {
  const t0 = performance.now();
  // cwd native/: cargo reads native/.cargo/config.toml from the directory it runs in.
  const args = [cliBin, 'build', '--platform', '--release', '--no-js', '--manifest-path', join(dir, 'Cargo.toml'), '--package-json-path', join(dir, 'package.json'), '--output-dir', dir];
  const run = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CARGO_NET_OFFLINE: 'true' } });
  // napi build warns on every run that no JS bindings are generated: isg loads addons itself.
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.split('\n').filter((l) => !l.includes('Will skip binding generation'));
  process.stderr.write(output.join('\n'));
  if (run.status !== 0) {
    console.error(`isg: building ${what} in ${relative(root, dir)} failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`}); see the cargo output above.`);
    process.exit(1);
  }
  console.log(`isg: built ${what} ${relative(root, dir)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

for (const dir of plugins) napiBuild(dir, 'native plugin');

// malloc_trim is glibc's (musl's ldd names musl, as daemon/plugins/native-addon.ts checks).
const glibc = process.platform === 'linux' && !(existsSync('/usr/bin/ldd') && readFileSync('/usr/bin/ldd', 'latin1').includes('musl'));
if (glibc) napiBuild(join(here, 'malloc-trim'), "the daemon's malloc-trim addon");
// clock_gettime(CLOCK_THREAD_CPUTIME_ID) is POSIX's; on Windows plugin workers charge wall time.
if (process.platform === 'linux' || process.platform === 'darwin') napiBuild(join(here, 'thread-clock'), "the plugin workers' thread-clock addon");

// The process host speaks to the daemon over fd 3 and loads addons with dlopen: Unix only. On
// Windows process isolation runs the Node child (daemon/plugins/native-child.ts).
if (process.platform === 'win32') {
  console.log('isg: the native process host is not built on Windows; process isolation runs plugins in a Node child there.');
} else {
  const t0 = performance.now();
  const exe = 'isg-process-host';
  const run = spawnSync('cargo', ['build', '--release', '--package', 'isg-process-host'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CARGO_NET_OFFLINE: 'true' } });
  if (run.status !== 0) {
    console.error(`isg: building the native process host (native/process-host) failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`}); see the cargo output above.`);
    process.exit(1);
  }
  const target = process.env.CARGO_TARGET_DIR ? resolve(here, process.env.CARGO_TARGET_DIR) : join(here, 'target');
  copyFileSync(join(target, 'release', exe), join(here, 'process-host', exe));
  console.log(`isg: built the native process host native/process-host/${exe} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
