// Standard output and error for the client commands, without process.stdout and
// process.stderr. Creating those is not free: for a pipe each is a net.Socket, a few ms of a
// query's start-up. So the commands ask the terminal question with isatty() and write what they
// print with fs.writeSync, stdout in one write at the end. A closed pipe (`isg callers X | head`)
// ends the output, not with a stack trace; a non-blocking pipe that is full hands the rest to
// the stream, which waits for it to drain. When nothing was handed over, everything printed is
// out, and the process may exit at once (`written`).
import { Buffer } from 'node:buffer';
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { EXIT } from './exit.ts';

export function isTerminal(fd: 1 | 2): boolean {
  return isatty(fd);
}

/** Columns of the terminal stdout is, if it is one. */
export function terminalWidth(): number | undefined {
  return isatty(1) ? process.stdout.columns || undefined : undefined;
}

/** Per fd, set once a write had to go through the stream: later ones follow it, in order. */
const viaStream = { 1: false, 2: false };

/** All of `text` to stdout: now, or queued behind what process.stdout still holds. */
export function writeOut(text: string): void {
  write(1, text);
}

/** All of `text` to stderr, likewise. */
export function writeErr(text: string): void {
  write(2, text);
}

/** Whether everything printed so far is out (nothing waits in a stream). */
export function written(): boolean {
  return !viaStream[1] && !viaStream[2];
}

function write(fd: 1 | 2, text: string): void {
  if (!text) return;
  const stream = () => (fd === 1 ? process.stdout : process.stderr);
  if (viaStream[fd]) return void stream().write(text);
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; ) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') process.exit(EXIT.found);
      if (code !== 'EAGAIN') throw err;
      viaStream[fd] = true;
      stream().on('error', closedPipe);
      stream().write(bytes.subarray(at));
      return;
    }
  }
}

/** For commands that write through process.stdout: a closed pipe ends the output quietly. */
export function closedPipe(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
  process.exit(EXIT.found);
}
