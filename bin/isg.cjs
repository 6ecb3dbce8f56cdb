#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// (isg makes no TLS connection, and Node parses the NODE_EXTRA_CA_CERTS bundle before running any
// JavaScript: 40-75 ms of every command on a machine that sets it. `env -S` is GNU coreutils
// 8.30+ or BSD env.)
// The `isg` command on Node: runs the bundle that `npm run build` makes (dist/isg.cjs, from
// daemon/cli/main.ts; daemon/cli/bundle.ts says why it is one file). For the commands that talk
// to a daemon, which are done in a few tens of ms, it compiles the bundle with a V8 code cache
// kept in dist/.v8-cache/, so that the functions a query runs are not parsed and compiled again
// at every start (~4 ms of a warm `isg callers X`). The first run of each command with a build
// writes its cache when it is done (then the functions it ran are compiled); V8 checks a cache
// (its version, flags and the source) and rejects one that does not fit, which is then written
// anew. `serve` and `index` own their process for
// seconds or more, and load the daemon's own bundle (dist/isg-daemon.cjs, or the tsc build when
// that is older; daemon/cli/graph-command-loader.ts): they, and their help, run the bundle as it is.
'use strict';
const { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '..', 'dist', 'isg.cjs');
const [command, target] = process.argv.slice(2);
const lingers = (name) => name === 'serve' || name === 'index';

if (lingers(command) || (command === 'help' && lingers(target))) {
  require(bundle);
} else {
  // What main.ts sets for these commands (see shortLived there), set before compiling: V8
  // rejects a code cache made under other flags.
  require('node:v8').setFlagsFromString('--interrupt-budget=1000000');
  const fd = openSync(bundle, 'r');
  const stat = fstatSync(fd);
  const source = readFileSync(fd, 'utf8');
  closeSync(fd);
  // Named after the build (its size and time), the runtime and the command (each runs other
  // functions): a rebuilt bundle or another Node gets files of its own, and V8 still checks.
  const dir = join(__dirname, '..', 'dist', '.v8-cache');
  const build = `${stat.size}-${Math.round(stat.mtimeMs)}`;
  const runtime = `${process.version}-${process.arch}`;
  const name = `isg-${runtime}-${build}-${/^[a-z][a-z-]{0,19}$/.test(command ?? '') ? command : 'other'}.bin`;
  let cached;
  try {
    cached = readFileSync(join(dir, name));
  } catch {
    cached = undefined;
  }
  // As Node's own loader runs a CommonJS file: in a function of exports, require, module, ...
  const body = source.startsWith('#!') ? `//${source}` : source;
  const { Script } = require('node:vm');
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${body}\n})`, { filename: bundle, ...(cached ? { cachedData: cached } : {}) });
  if (!cached || script.cachedDataRejected) {
    // When the command is done, the functions it ran are compiled: they go in its cache. Not
    // after a usage error (a mistyped command would leave a cache of its own) or a failure.
    process.on('exit', (code) => {
      if (code > 1) return;
      try {
        mkdirSync(dir, { recursive: true });
        const tmp = join(dir, `${name}.${process.pid}.tmp`);
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, join(dir, name));
        // earlier builds' caches for this runtime
        for (const old of readdirSync(dir)) if (old.startsWith(`isg-${runtime}-`) && !old.startsWith(`isg-${runtime}-${build}-`)) rmSync(join(dir, old), { force: true });
      } catch {
        // a read-only install, a full disk: the next run compiles the bundle, as without a cache
      }
    });
  }
  const exports = {};
  script.runInThisContext().call(exports, exports, require, { exports, filename: bundle }, bundle, join(__dirname, '..', 'dist'));
}
