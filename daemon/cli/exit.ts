// The CLI's exit codes, one meaning each, so scripts can tell "nothing found" from a mistake.
export const EXIT = { found: 0, nothing: 1, usage: 2, unreachable: 3 } as const;
