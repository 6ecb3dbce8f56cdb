// Standard output for the client commands, without process.stdout. Creating process.stdout
// (and process.stderr) is not free: for a pipe it is a net.Socket, a few ms of a query's
// start-up. So the commands ask the terminal question with isatty() and write what they print
// in one fs.writeSync at the end. A closed pipe (`isg callers X | head`) ends the output, not
// with a stack trace; a non-blocking pipe that is full hands the rest to process.stdout, which
// waits for it to drain.
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

/** Set once a write had to go through process.stdout: later ones follow it, in order. */
let viaStream = false;

/** All of `text` to stdout: now, or queued behind what process.stdout still holds. */
export function writeOut(text: string): void {
  if (!text) return;
  if (viaStream) return void process.stdout.write(text);
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; ) {
    try {
      at += writeSync(1, bytes, at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') process.exit(EXIT.found);
      if (code !== 'EAGAIN') throw err;
      viaStream = true;
      process.stdout.on('error', closedPipe);
      process.stdout.write(bytes.subarray(at));
      return;
    }
  }
}

/** For commands that write through process.stdout: a closed pipe ends the output quietly. */
export function closedPipe(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
  process.exit(EXIT.found);
}
