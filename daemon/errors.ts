// Errors are values with a stable code and a sentence a user can act on. The socket layer
// (issue 3) turns them into wire errors; the CLI turns them into exit codes.

export type ErrorCode = 'not-found' | 'ambiguous' | 'bad-args' | 'unknown-op' | 'io' | 'internal';

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
