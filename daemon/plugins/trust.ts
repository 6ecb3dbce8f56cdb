// Whether an artifact may load: native code runs with the daemon's rights, so it loads only
// when the configuration vouches for exactly these bytes, by a pinned SHA-256 or by a detached
// Ed25519 signature (`<artifact>.sig`) from a key the configuration lists.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { existsSync, readFileSync } from 'node:fs';
import { IsgError } from '../errors.ts';
import { sha256Of } from '../util/hash.ts';

export interface TrustSettings {
  /** Hex SHA-256 of the artifact, pinned for this plugin. */
  sha256?: string;
  /** Public keys whose signatures are accepted (any plugin). */
  keys: readonly KeyObject[];
}

export type TrustVerdict = { trusted: true; by: 'sha256' | 'signature'; sha256: string };

export const SIGNATURE_SUFFIX = '.sig';

/** Throws `unauthorized` naming the plugin, its hash and how to trust it. */
export function verifyArtifact(plugin: string, artifact: string, trust: TrustSettings): TrustVerdict {
  let bytes: Buffer;
  try {
    bytes = readFileSync(artifact);
  } catch (err) {
    throw new IsgError('not-found', `plugin "${plugin}": cannot read its artifact ${artifact}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const sha256 = sha256Of(bytes);
  if (trust.sha256 !== undefined) {
    if (trust.sha256.toLowerCase() === sha256) return { trusted: true, by: 'sha256', sha256 };
    throw new IsgError('unauthorized', `plugin "${plugin}": ${artifact} has SHA-256 ${sha256}, not the ${trust.sha256} pinned in isg.config.json (plugins.${plugin}.sha256); refusing to load it`);
  }
  const sigFile = artifact + SIGNATURE_SUFFIX;
  if (existsSync(sigFile) && trust.keys.length) {
    const signature = decodeSignature(readFileSync(sigFile, 'utf8'));
    if (signature && trust.keys.some((key) => verify(null, bytes, key, signature))) return { trusted: true, by: 'signature', sha256 };
    throw new IsgError('unauthorized', `plugin "${plugin}": the signature ${sigFile} does not verify with any key in isg.config.json trustedKeys; refusing to load it`);
  }
  throw new IsgError(
    'unauthorized',
    `plugin "${plugin}" is not trusted: pin its artifact in isg.config.json as plugins.${plugin}.sha256 = "${sha256}", or sign ${artifact} (detached Ed25519 signature in ${sigFile}) with a key listed in trustedKeys`,
    { sha256 },
  );
}

/** A key from the config: PEM text, or `ed25519:<base64 of the 32-byte raw public key>`. */
export function parsePublicKey(text: string): KeyObject {
  if (text.startsWith('ed25519:')) {
    const raw = Buffer.from(text.slice('ed25519:'.length), 'base64');
    if (raw.length !== 32) throw new IsgError('bad-args', `trusted key ${text.slice(0, 20)}...: an ed25519 public key is 32 bytes, got ${raw.length}`);
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  }
  try {
    const key = createPublicKey(text);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key, not ed25519`);
    return key;
  } catch (err) {
    throw new IsgError('bad-args', `trusted key ${JSON.stringify(text.slice(0, 30))}...: not an Ed25519 public key (${(err as Error).message})`);
  }
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 key bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function decodeSignature(text: string): Buffer | undefined {
  const sig = Buffer.from(text.trim(), 'base64');
  return sig.length === 64 ? sig : undefined;
}
