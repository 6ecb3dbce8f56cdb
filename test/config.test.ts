// isg.config.json (daemon/server/config.ts, daemon/util/validate.ts): every error names the
// offending key by its path and says why, and a daemon refuses to start on a config that does
// not validate, with that message and nothing left behind.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { IsgError } from '../daemon/errors.ts';
import { defaultConfig, loadConfig, validateConfig } from '../daemon/server/config.ts';
import { Daemon } from '../daemon/server/daemon.ts';
import { tempDir } from './support/temp-dirs.ts';

/** The error validating `json` throws: bad-args, with the key path in its details. */
function refusal(json: unknown): IsgError {
  try {
    validateConfig(json, '/r', 'isg.config.json');
  } catch (err) {
    assert.ok(err instanceof IsgError, `an IsgError, got ${String(err)}`);
    assert.equal(err.code, 'bad-args');
    return err;
  }
  assert.fail(`${JSON.stringify(json)} was accepted`);
}

describe('config validation names the key and why', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['an unknown key', { exclud: ['dist/'] }, 'exclud', /is not a known key; expected one of \$schema, include, exclude, /],
    ['an unknown nested key', { log: { levle: 'debug' } }, 'log.levle', /is not a known key; expected one of level, file$/],
    ['a number of the wrong type', { maxFileBytes: '5MB' }, 'maxFileBytes', /must be an integer from 1 to 1073741824, got "5MB"$/],
    ['a boolean of the wrong type', { snapshot: { enabled: 'yes' } }, 'snapshot.enabled', /must be true or false, got "yes"$/],
    ['a list of the wrong type', { exclude: 'dist/' }, 'exclude', /must be a list of strings, got "dist\/"$/],
    ['an object of the wrong type', { watch: [] }, 'watch', /must be an object, got a list$/],
    ['a level that does not exist', { log: { level: 'verbose' } }, 'log.level', /must be one of debug, info, warn, error, silent, got "verbose"$/],
    ['a number out of range', { snapshot: { intervalMs: 10 } }, 'snapshot.intervalMs', /must be an integer from 100 to 86400000, got number 10$/],
    ['an endpoint that is not host:port', { tcp: 'localhost' }, 'tcp', /must be host:port, e\.g\. 127\.0\.0\.1:7777$/],
    ['an HTTP endpoint that is not host:port', { http: 'http://127.0.0.1:7778' }, 'http', /must be host:port, e\.g\. 127\.0\.0\.1:7777$/],
    ['an HTTP endpoint of the wrong type', { http: 7778 }, 'http', /must be a non-empty string, got number 7778$/],
    ['an HTTP port out of range', { http: '127.0.0.1:70000' }, 'http', /has port 70000; ports run from 0 to 65535$/],
    ['an empty entry of a list', { include: ['src', ''] }, 'include[1]', /must be a non-empty string, got ""$/],
    ['a negated include', { include: ['!src/gen'] }, 'include[0]', /cannot be negated; put the exception in "exclude", got "!src\/gen"$/],
    ['an include outside the root', { include: ['../lib'] }, 'include[0]', /must be relative to the root/],
    ['an include glob that matches nothing', { include: ['src/[ab'] }, 'include[0]', /is not a glob that can match anything/],
    ['a plugin setting of the wrong kind', { plugins: { scc: { isolation: 'thread' } } }, 'plugins.scc.isolation', /must be one of inline, worker, process, got "thread"$/],
  ];
  for (const [what, json, key, why] of cases) {
    test(what, () => {
      const err = refusal(json);
      assert.ok(err.message.startsWith(`isg.config.json: "${key}" `), err.message);
      assert.match(err.message, why);
      assert.equal(err.details?.key, key);
    });
  }

  test('the whole file must be a JSON object, and JSON at all', () => {
    assert.match(refusal([]).message, /^isg\.config\.json: must be a JSON object, got a list$/);
    const root = tempDir('isg-config-');
    writeFileSync(join(root, 'isg.config.json'), '{ "exclude": [ }');
    assert.throws(() => loadConfig(root), (e: IsgError) => e.code === 'bad-args' && e.message.startsWith(`${join(root, 'isg.config.json')}: not valid JSON: `));
  });

  test('a valid config: paths resolved against the root, includes kept, defaults for the rest', () => {
    const config = validateConfig({ include: ['src/**/*.ts', 'lib'], log: { level: 'warn', file: 'logs/isg.log' } }, '/r', 'isg.config.json');
    assert.deepEqual(config.include, ['src/**/*.ts', 'lib']);
    assert.deepEqual(config.log, { level: 'warn', file: '/r/logs/isg.log' });
    assert.equal(config.socket, '/r/.isg/daemon.sock');
    assert.deepEqual(defaultConfig('/r').include, [], 'no include: every file');
  });
});

test('Daemon.start refuses a bad config with the message naming the key, leaving no lock or socket', async () => {
  const root = tempDir('isg-config-daemon-');
  writeFileSync(join(root, 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'isg.config.json'), JSON.stringify({ maxConnections: 0 }));
  await assert.rejects(Daemon.start({ root }), (e: IsgError) => {
    assert.equal(e.code, 'bad-args');
    assert.equal(e.message, `${join(root, 'isg.config.json')}: "maxConnections" must be an integer from 1 to 100000, got number 0`);
    return true;
  });
  assert.ok(!existsSync(join(root, '.isg', 'daemon.lock')));
  assert.ok(!existsSync(join(root, '.isg', 'daemon.sock')));
});
