// Errors are values with a stable code (from the wire contract) and a sentence a user can act
// on. The socket layer turns them into wire errors; the CLI turns them into exit codes.
import type { ErrorCode, WireError } from '../client/protocol.ts';
export type { ErrorCode };

export class IsgError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'IsgError';
    this.code = code;
    this.details = details;
  }
}

/** Any thrown value as a wire error; only IsgErrors keep their code, the rest are `internal`. */
export function toWireError(err: unknown): WireError {
  if (err instanceof IsgError) return err.details ? { code: err.code, message: err.message, details: err.details } : { code: err.code, message: err.message };
  return { code: 'internal', message: `internal error: ${err instanceof Error ? err.message : String(err)}` };
}
