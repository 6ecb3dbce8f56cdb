// What an edit of isg.config.json changes in a running daemon. Every key is applied live except
// the few that decide how the daemon was set up: where it listens (a bound socket stays bound)
// and the keys and ejection policy the plugin host was built with. Those keep their running
// value until the next start, and the daemon says so in its log and in `status`.
import type { IsgConfig } from './config.ts';

export const RESTART_KEYS = ['socket', 'tcp', 'http', 'allowRemote', 'trustedKeys', 'policy'] as const;
type RestartKey = (typeof RESTART_KEYS)[number];

export interface ConfigChange {
  /** The config in effect after the edit: the edited one, with the running value of every restart key. */
  effective: IsgConfig;
  /** Top-level keys whose value in effect changed. */
  changed: Set<keyof IsgConfig>;
  /** Restart keys whose value in the file differs from the running one. */
  pendingRestart: RestartKey[];
}

export function configChange(running: IsgConfig, edited: IsgConfig): ConfigChange {
  const kept = Object.fromEntries(RESTART_KEYS.map((k) => [k, running[k]])) as Pick<IsgConfig, RestartKey>;
  const effective: IsgConfig = { ...edited, ...kept };
  const differs = (a: IsgConfig, b: IsgConfig) => (k: keyof IsgConfig) => JSON.stringify(a[k]) !== JSON.stringify(b[k]);
  const keys = Object.keys(effective) as (keyof IsgConfig)[];
  return {
    effective,
    changed: new Set(keys.filter(differs(running, effective))),
    pendingRestart: RESTART_KEYS.filter(differs(running, edited)),
  };
}
