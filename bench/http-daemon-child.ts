// A daemon for the HTTP benchmark in its own process, on the HTTP server asked for: the CLI
// always picks hyper-express on Node, and the benchmark compares it with node:http too. Prints
// its endpoints as one line of JSON once the first index is done; SIGTERM stops it.
import { Daemon } from '../daemon/server/daemon.ts';
import type { HttpServerKind } from '../daemon/server/http/gateway.ts';

const [root, kind] = process.argv.slice(2) as [string, HttpServerKind];
if (!root || (kind !== 'hyper-express' && kind !== 'node:http')) throw new Error('usage: http-daemon-child <root> hyper-express|node:http');
const daemon = await Daemon.start({ root, http: '127.0.0.1:0', httpServer: kind, logLevel: 'warn' });
await daemon.ready();
process.once('SIGTERM', () => void daemon.stop().then(() => process.exit(0)));
console.log(JSON.stringify({ socket: daemon.endpoints.socket, http: daemon.endpoints.http, server: daemon.http!.server }));
