// Trust of plugin artifacts (daemon/plugins/trust.ts): a pinned SHA-256 or a detached Ed25519
// signature by a listed key; anything else is refused with what to do about it.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { IsgError } from '../daemon/errors.ts';
import { parsePublicKey, verifyArtifact } from '../daemon/plugins/trust.ts';
import { tempDir } from './support/temp-dirs.ts';

function artifact(bytes = 'not really a .node file'): { file: string; sha256: string } {
  const file = join(tempDir('isg-trust-'), 'plugin.node');
  writeFileSync(file, bytes);
  return { file, sha256: createHash('sha256').update(bytes).digest('hex') };
}

const refused = (message: RegExp) => (err: unknown) => err instanceof IsgError && err.code === 'unauthorized' && message.test(err.message);

test('a pinned SHA-256 that matches loads; one that does not is refused naming both hashes', () => {
  const { file, sha256 } = artifact();
  assert.deepEqual(verifyArtifact('scc', file, { sha256, keys: [] }), { trusted: true, by: 'sha256', sha256 });
  const wrong = 'a'.repeat(64);
  assert.throws(() => verifyArtifact('scc', file, { sha256: wrong, keys: [] }), refused(new RegExp(`has SHA-256 ${sha256}, not the ${wrong} pinned`)));
});

test('no pin and no signature: refused, with the pin to add', () => {
  const { file, sha256 } = artifact();
  assert.throws(() => verifyArtifact('scc', file, { keys: [] }), refused(new RegExp(`plugin "scc" is not trusted: pin its artifact in isg.config.json as plugins.scc.sha256 = "${sha256}"`)));
});

test('a detached signature by a listed key loads; by another key, or over other bytes, it is refused', () => {
  const { file } = artifact();
  const good = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  writeFileSync(`${file}.sig`, sign(null, Buffer.from('not really a .node file'), good.privateKey).toString('base64'));
  assert.equal(verifyArtifact('scc', file, { keys: [good.publicKey] }).by, 'signature');
  assert.throws(() => verifyArtifact('scc', file, { keys: [other.publicKey] }), refused(/does not verify with any key/));
  writeFileSync(file, 'tampered');
  assert.throws(() => verifyArtifact('scc', file, { keys: [good.publicKey] }), refused(/does not verify/));
});

test('trusted keys are read as PEM or ed25519:<base64>; anything else is a bad-args error', () => {
  const { publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const raw = (publicKey.export({ type: 'spki', format: 'der' }) as Buffer).subarray(-32).toString('base64');
  assert.equal(parsePublicKey(pem).asymmetricKeyType, 'ed25519');
  assert.ok(parsePublicKey(`ed25519:${raw}`).equals(publicKey));
  assert.throws(() => parsePublicKey('ed25519:AAAA'), /32 bytes, got 3/);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  assert.throws(() => parsePublicKey(rsa), /not an Ed25519 public key \(a rsa key/);
});
