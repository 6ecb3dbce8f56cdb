// The plugin lifecycle as an explicit state machine: only the transitions listed here happen,
// and each one is reported to a listener (the plugin host logs it and publishes it to
// subscribers of the daemon's `plugin` events).
import type { PluginState } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';

export type { PluginState };

const TRANSITIONS: Record<PluginState, readonly PluginState[]> = {
  // found in the config or registered; lazy plugins wait here for their first call
  discovered: ['loading', 'unloaded'],
  loading: ['active', 'failed'],
  // serving; reload goes through loading again
  active: ['ejected', 'loading', 'unloaded'],
  // out of rotation for a while; re-admitted on probation (loading again when its runtime died)
  ejected: ['active', 'loading', 'quarantined', 'unloaded'],
  // ejected too often: only a reload by hand brings it back
  quarantined: ['loading', 'unloaded'],
  failed: ['loading', 'unloaded'],
  unloaded: ['loading'],
};

export type TransitionListener = (from: PluginState, to: PluginState, reason: string | undefined) => void;

export class Lifecycle {
  private current: PluginState = 'discovered';
  private readonly plugin: string;
  private readonly listener: TransitionListener;

  constructor(plugin: string, listener: TransitionListener) {
    this.plugin = plugin;
    this.listener = listener;
  }

  get state(): PluginState {
    return this.current;
  }

  can(to: PluginState): boolean {
    return TRANSITIONS[this.current].includes(to);
  }

  to(next: PluginState, reason?: string): void {
    if (!this.can(next)) {
      throw new IsgError('bad-args', `plugin "${this.plugin}" cannot go from ${this.current} to ${next}; from ${this.current} it can go to ${TRANSITIONS[this.current].join(', ')}`);
    }
    const from = this.current;
    this.current = next;
    this.listener(from, next, reason);
  }
}

export function validTransitions(): Readonly<Record<PluginState, readonly PluginState[]>> {
  return TRANSITIONS;
}
