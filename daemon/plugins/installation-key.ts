// The installation's signing key: `npm run build` compiles the bundled native and WASM
// plugins from the sources in this repository, then signs each artifact with a key made for
// this installation (node_modules/.cache/isg/, 0600). The daemon trusts that key like one
// listed in trustedKeys. This trusts exactly what isg's own code is trusted with already:
// whoever can rewrite the cache can rewrite isg itself. A plugin from anywhere else still needs
// a SHA-256 pin or a signature from a key the user lists.
import { generateKeyPairSync, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.ts';
import { SIGNATURE_SUFFIX } from './trust.ts';

function keyFile(): string {
  return join(packageRoot(), 'node_modules', '.cache', 'isg', 'installation-key.pem');
}

/** The public half, or undefined when this installation has built no plugins. */
export function installationPublicKey(): KeyObject | undefined {
  const file = keyFile();
  if (!existsSync(file)) return undefined;
  try {
    return createPublicKey(createPrivateKey(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/** Sign each artifact (`<artifact>.sig`, base64 Ed25519), creating the key on first use. */
export function signArtifacts(artifacts: string[]): void {
  const file = keyFile();
  if (!existsSync(file)) {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  const key = createPrivateKey(readFileSync(file, 'utf8'));
  for (const artifact of artifacts) writeFileSync(artifact + SIGNATURE_SUFFIX, `${sign(null, readFileSync(artifact), key).toString('base64')}\n`);
}
