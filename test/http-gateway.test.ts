// The HTTP gateway (daemon/server/http/) against a real daemon on a copy of rxjs, on both of its
// servers: hyper-express (Node's default) and node:http (Deno's, and Node's when uWS does not
// load). The same checks run on each: the token on every request, the socket's envelope and
// answers over POST /v1/query (JSON and msgpack), status, Server-Sent Events after a file edit
// and a plugin transition, and a status code with an error naming the problem for bad input.
// Then the loopback-only default, the exclusive port, lazy loading, the fallback when uWS does
// not load, and the gateway of a daemon running under Deno.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { connect, type IsgClient } from '../client/client.ts';
import { decodeBody } from '../client/framing.ts';
import type { DaemonEvent, HttpEnvelope, LookupResult, PluginEvent, ResyncEvent, SseSubscribed, StatusResult, UpdateEvent } from '../client/protocol.ts';
import { HTTP_STATUS_OF_ERROR } from '../client/protocol.ts';
import { Daemon } from '../daemon/server/daemon.ts';
import { EventLog } from '../daemon/server/event-log.ts';
import { encodeBody } from '../daemon/server/frames.ts';
import { HttpGateway, type HttpExchange, type HttpServerKind, type StreamSink } from '../daemon/server/http/gateway.ts';
import { createLogger } from '../daemon/util/log.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { RUNTIME } from '../daemon/util/runtime.ts';
import { eventually } from './support/eventually.ts';
import { httpCall, sse, type HttpAnswer } from './support/http-client.ts';
import { smallCorpus } from './support/small-corpus.ts';
import { tempDir } from './support/temp-dirs.ts';

const ROOT = packageRoot();
const RXJS = join(ROOT, 'node_modules', 'rxjs', 'src');
const MAX_FRAME = 64 * 1024;

function corpus(config: object): string {
  const root = tempDir('isg-http-');
  cpSync(RXJS, join(root, 'src'), { recursive: true });
  writeFileSync(join(root, 'isg.config.json'), JSON.stringify(config));
  return root;
}

const SERVERS: { kind: HttpServerKind; skip: string | false }[] = [
  { kind: 'hyper-express', skip: RUNTIME === 'deno' ? 'uWebSockets.js does not load under Deno' : false },
  { kind: 'node:http', skip: false },
];

for (const { kind, skip } of SERVERS) {
  describe(`the HTTP gateway on ${kind}, on rxjs`, { skip }, () => {
    let root: string;
    let daemon: Daemon;
    let client: IsgClient;
    let address: string;
    let auth: Record<string, string>;
    const query = (body: unknown, headers: Record<string, string> = {}) =>
      httpCall(address, { method: 'POST', path: '/v1/query', headers: { ...auth, 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

    before(async () => {
      root = corpus({ log: { level: 'silent' }, maxFrameBytes: MAX_FRAME });
      daemon = await Daemon.start({ root, http: '127.0.0.1:0', httpServer: kind });
      await daemon.ready();
      client = await connect({ socket: daemon.endpoints.socket! });
      address = daemon.endpoints.http!;
      auth = { authorization: `Bearer ${readFileSync(join(root, '.isg', 'token'), 'utf8').trim()}` };
    });
    after(async () => {
      client?.close();
      await daemon?.stop();
    });

    test('it serves where status says, on the server asked for, with the TCP token (0600)', async () => {
      assert.match(address, /^127\.0\.0\.1:\d+$/);
      assert.notEqual(address, '127.0.0.1:0');
      assert.equal(daemon.http!.server, kind);
      assert.equal(statSync(join(root, '.isg', 'token')).mode & 0o777, 0o600);
      const status = (await client.status()) as StatusResult;
      assert.equal(status.endpoints.http, address);
      assert.ok(((await client.request('hello', {})) as { capabilities: string[] }).capabilities.includes('http'));
    });

    test('every request needs "Authorization: Bearer <token>": 401 with a challenge otherwise, whatever the path', async () => {
      const cases: [string, Record<string, string>, RegExp, string][] = [
        ['no header', {}, /missing "Authorization: Bearer <token>" header; the token is in <root>\/\.isg\/token/, 'Bearer realm="isg"'],
        ['a wrong token', { authorization: `Bearer ${'f'.repeat(64)}` }, /wrong token/, 'Bearer realm="isg", error="invalid_token"'],
        ['an empty bearer', { authorization: 'Bearer ' }, /must be "Bearer <token>"/, 'Bearer realm="isg"'],
        ['another scheme', { authorization: `Basic ${Buffer.from('isg:x').toString('base64')}` }, /must be "Bearer <token>"/, 'Bearer realm="isg"'],
      ];
      for (const [what, headers, message, challenge] of cases) {
        for (const call of [
          { method: 'GET', path: '/v1/status' },
          { method: 'POST', path: '/v1/query', body: '{"op":"status"}', headers: { 'content-type': 'application/json' } },
          { method: 'GET', path: '/v1/events' },
          { method: 'GET', path: '/no/such/path' },
        ]) {
          const r = await httpCall(address, { ...call, headers: { ...call.headers, ...headers } });
          assert.equal(r.status, 401, `${what}, ${call.method} ${call.path}`);
          assert.equal(r.headers['www-authenticate'], challenge, what);
          const body = r.json<HttpEnvelope>();
          assert.ok(!body.ok && body.error.code === 'unauthorized' && message.test(body.error.message), `${what}: ${r.body}`);
        }
      }
      // the token is case-sensitive content, the scheme is not
      assert.equal((await httpCall(address, { path: '/v1/status', headers: { authorization: auth.authorization!.replace('Bearer', 'bearer') } })).status, 200);
    });

    test('POST /v1/query answers the socket envelope with the socket answers, in JSON or msgpack', async () => {
      const args = { name: 'Subject', mode: 'exact', kind: 'class' };
      const overSocket = (await client.lookup(args as never)) as LookupResult;
      const r = await query({ op: 'lookup', args });
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      const envelope = r.json<HttpEnvelope<LookupResult>>();
      assert.ok(envelope.ok);
      assert.equal(envelope.gen, daemon.generation());
      assert.deepEqual(envelope.result, overSocket);
      assert.deepEqual(Object.keys(envelope), ['ok', 'result', 'gen']);

      // msgpack in, msgpack out (read back with the client's own codec)
      const packed = await httpCall(address, { method: 'POST', path: '/v1/query', headers: { ...auth, 'content-type': 'application/msgpack' }, body: encodeBody({ op: 'lookup', args }) });
      assert.equal(packed.status, 200);
      assert.equal(packed.headers['content-type'], 'application/msgpack');
      assert.deepEqual(decodeBody(packed.body), envelope);
      // JSON in, msgpack out when Accept asks for it; and the other way round
      const accepted = await query({ op: 'lookup', args }, { accept: 'application/msgpack' });
      assert.deepEqual(decodeBody(accepted.body), envelope);
      const back = await httpCall(address, { method: 'POST', path: '/v1/query', headers: { ...auth, 'content-type': 'application/msgpack', accept: 'application/json' }, body: encodeBody({ op: 'lookup', args }) });
      assert.deepEqual(back.json(), envelope);
      // a relation query, with the socket's answer
      const callers = await query({ op: 'callers', args: { entity: 'Subject.next' } });
      assert.deepEqual(callers.json<HttpEnvelope>(), { ok: true, result: await client.callers({ entity: 'Subject.next' }), gen: daemon.generation() });
    });

    test('plugin ops, batch and the daemon ops go through the same dispatch', async () => {
      const scc = (await query({ op: 'scc/components', args: { kinds: ['imports'], minSize: 2 } })).json<HttpEnvelope<{ total: number }>>();
      assert.ok(scc.ok && scc.result.total > 0, JSON.stringify(scc).slice(0, 300));
      assert.deepEqual(scc.result, await client.request('scc/components', { kinds: ['imports'], minSize: 2 }));

      const batch = await query({ op: 'batch', args: { requests: [{ op: 'lookup', args: { name: 'Subject', mode: 'exact', kind: 'class' } }, { op: 'callers', args: { entity: 'NoSuchEntityAnywhere' } }, { op: 'subscribe' }] } });
      assert.equal(batch.status, 200);
      const entries = batch.json<HttpEnvelope<{ ok: boolean; error?: { code: string } }[]>>();
      assert.ok(entries.ok);
      assert.deepEqual(entries.result.map((e) => (e.ok ? 'ok' : e.error!.code)), ['ok', 'not-found', 'bad-args']);

      const hello = (await query({ op: 'hello' })).json<HttpEnvelope<{ ops: string[]; capabilities: string[] }>>();
      assert.ok(hello.ok && hello.result.ops.includes('context/pack') && hello.result.capabilities.includes('http'));
      const plugins = (await query({ op: 'plugins' })).json<HttpEnvelope<{ plugins: { name: string }[] }>>();
      assert.ok(plugins.ok && plugins.result.plugins.some((p) => p.name === 'scc'));
    });

    test('GET /v1/status is the status op', async () => {
      const r = await httpCall(address, { path: '/v1/status', headers: auth });
      assert.equal(r.status, 200);
      const envelope = r.json<HttpEnvelope<StatusResult>>();
      assert.ok(envelope.ok);
      assert.equal(envelope.result.state, 'ready');
      assert.equal(envelope.result.files, 252);
      assert.equal(envelope.result.endpoints.http, address);
      assert.equal(envelope.result.httpStreams, 0);
      const packed = await httpCall(address, { path: '/v1/status', headers: { ...auth, accept: 'application/msgpack' } });
      assert.equal(packed.headers['content-type'], 'application/msgpack');
      const decoded = decodeBody(packed.body) as HttpEnvelope<StatusResult>;
      assert.ok(decoded.ok && decoded.result.state === 'ready' && decoded.gen === envelope.gen);
    });

    test('bad input gets the status code and an error naming the problem; the daemon stays up', async () => {
      const json = { ...auth, 'content-type': 'application/json' };
      const cases: [string, Parameters<typeof httpCall>[1], number, string, RegExp][] = [
        ['an unknown path', { path: '/v2/query', headers: auth }, 404, 'not-found', /no endpoint GET \/v2\/query; the endpoints are POST \/v1\/query, GET \/v1\/status, GET \/v1\/events/],
        ['GET on the query endpoint', { path: '/v1/query', headers: auth }, 405, 'bad-args', /\/v1\/query takes POST, not GET/],
        ['POST on status', { method: 'POST', path: '/v1/status', headers: json, body: '{}' }, 405, 'bad-args', /\/v1\/status takes GET, not POST/],
        ['DELETE on events', { method: 'DELETE', path: '/v1/events', headers: auth }, 405, 'bad-args', /takes GET, not DELETE/],
        ['broken JSON', { method: 'POST', path: '/v1/query', headers: json, body: '{"op": "lookup", "args": {' }, 400, 'bad-args', /request body is not valid JSON: /],
        ['invalid UTF-8', { method: 'POST', path: '/v1/query', headers: json, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }, 400, 'bad-args', /request body is not valid JSON: it is not valid UTF-8$/],
        ['broken msgpack', { method: 'POST', path: '/v1/query', headers: { ...auth, 'content-type': 'application/msgpack' }, body: Buffer.from([0x82, 0xa2, 0x6f]) }, 400, 'bad-args', /request body is not valid msgpack/],
        ['a list', { method: 'POST', path: '/v1/query', headers: json, body: '[1, 2]' }, 400, 'bad-args', /the body must be \{"op": string, "args"\?: any\}; got a list/],
        ['no op', { method: 'POST', path: '/v1/query', headers: json, body: '{"args": {}}' }, 400, 'bad-args', /got an object whose "op" is missing/],
        ['an op that is a number', { method: 'POST', path: '/v1/query', headers: json, body: '{"op": 7}' }, 400, 'bad-args', /"op" is a number/],
        ['an empty body', { method: 'POST', path: '/v1/query', headers: json }, 400, 'bad-args', /empty body/],
        ['a missing argument', { method: 'POST', path: '/v1/query', headers: json, body: '{"op": "lookup", "args": {}}' }, 400, 'bad-args', /"name"/],
        ['a bad argument', { method: 'POST', path: '/v1/query', headers: json, body: '{"op": "callers", "args": {"entity": "Subject", "limit": "many"}}' }, 400, 'bad-args', /argument "limit" must be an integer/],
        ['an unknown entity', { method: 'POST', path: '/v1/query', headers: json, body: '{"op": "callers", "args": {"entity": "Subjekt"}}' }, 404, 'not-found', /did you mean/],
        ['an unknown op', { method: 'POST', path: '/v1/query', headers: json, body: '{"op": "callerz"}' }, 404, 'unknown-op', /unknown op "callerz"/],
        ['an unknown plugin op', { method: 'POST', path: '/v1/query', headers: json, body: '{"op": "nope/op"}' }, 404, 'unknown-op', /nope\/op/],
        ['subscribe over POST', { method: 'POST', path: '/v1/query', headers: json, body: '{"op": "subscribe"}' }, 400, 'bad-args', /"subscribe" is not an HTTP query: GET \/v1\/events streams the events/],
        ['a form body (curl -d)', { method: 'POST', path: '/v1/query', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: '{"op":"status"}' }, 415, 'bad-args', /Content-Type "application\/x-www-form-urlencoded" is not accepted; send application\/json or application\/msgpack \(curl -d/],
        ['text', { method: 'POST', path: '/v1/query', headers: { ...auth, 'content-type': 'text/plain' }, body: 'status' }, 415, 'bad-args', /"text\/plain" is not accepted/],
        ['a query string on status', { path: '/v1/status?verbose=1', headers: auth }, 400, 'bad-args', /\/v1\/status takes no query parameters, got "\?verbose=1"/],
        ['an unknown event type', { path: '/v1/events?events=update,commits', headers: auth }, 400, 'bad-args', /unknown event type "commits"; "events" is a comma-separated list of update, indexing, plugin/],
        ['an unknown events parameter', { path: '/v1/events?since=3', headers: auth }, 400, 'bad-args', /unknown query parameter "since"/],
      ];
      for (const [what, call, status, code, message] of cases) {
        const r = await httpCall(address, call);
        assert.equal(r.status, status, `${what}: ${r.body}`);
        // answered in the encoding of the request (JSON unless it was msgpack)
        const packed = call.headers?.['content-type'] === 'application/msgpack';
        assert.match(String(r.headers['content-type']), packed ? /^application\/msgpack$/ : /^application\/json/, what);
        const body = (packed ? decodeBody(r.body) : r.json()) as HttpEnvelope;
        assert.ok(!body.ok, what);
        assert.equal(body.error.code, code, `${what}: ${r.body}`);
        assert.match(body.error.message, message, what);
        if (status === 405) assert.ok(r.headers.allow === 'POST' || r.headers.allow === 'GET', what);
        // 405 and 415 are bad-args with a status of their own; the rest follow the table
        if (status !== 405 && status !== 415) assert.equal(status, HTTP_STATUS_OF_ERROR[body.error.code], `${what}: the status of ${code}`);
      }
      assert.equal((await client.status()).state, 'ready');
    });

    test('a body over maxFrameBytes is 413, decided from its Content-Length without keeping the body', async () => {
      const big = `{"op": "lookup", "args": {"name": "${'x'.repeat(MAX_FRAME)}"}}`;
      const r = await query(big);
      assert.equal(r.status, 413);
      const body = r.json<HttpEnvelope>();
      assert.ok(!body.ok);
      assert.equal(body.error.code, 'frame-too-large');
      assert.equal(body.error.message, `request body of ${Buffer.byteLength(big)} bytes is larger than the limit of ${MAX_FRAME} bytes (maxFrameBytes in isg.config.json)`);
      // just under the limit is read and answered
      const under = await query(`{"op": "lookup", "args": {"name": "${'x'.repeat(MAX_FRAME - 100)}"}}`);
      assert.equal(under.status, 200);
      assert.deepEqual(under.json<HttpEnvelope<LookupResult>>().ok, true);
    });

    test('a chunked body is 411: the gateway wants its Content-Length', async () => {
      const { host, port } = { host: '127.0.0.1', port: Number(address.split(':')[1]) };
      const r = await new Promise<HttpAnswer>((resolve, reject) => {
        const req = request({ host, port, method: 'POST', path: '/v1/query', headers: { ...auth, 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), json: () => JSON.parse(Buffer.concat(chunks).toString()) }));
        });
        req.once('error', reject);
        req.write('{"op":');
        req.end('"status"}');
      });
      assert.equal(r.status, 411);
      assert.match(r.json<{ error: { message: string } }>().error.message, /Content-Length/);
    });

    test('GET /v1/events streams graph updates after a file edit, and plugin transitions', async () => {
      const stream = await sse(address, '/v1/events?events=update,plugin', auth);
      try {
        assert.equal(stream.status, 200);
        assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
        assert.equal(stream.headers['cache-control'], 'no-cache');
        const first = await stream.next();
        assert.equal(first.event, 'subscribed');
        assert.deepEqual(JSON.parse(first.data) as SseSubscribed, { subscribed: ['update', 'plugin'], gen: daemon.generation(), lastId: daemon.events.lastId });
        assert.equal(((await client.status()) as StatusResult).httpStreams, 1);

        writeFileSync(join(root, 'src', 'httpEdit.ts'), 'export function editedOverHttp(): number { return 1; }\n');
        const update = await stream.next();
        assert.equal(update.event, 'update');
        assert.equal(update.id, daemon.events.lastId, 'the id of the event in the daemon\'s log');
        const event = JSON.parse(update.data) as UpdateEvent;
        assert.equal(event.type, 'update');
        assert.ok(event.added.includes('src/httpEdit.ts#editedOverHttp'), update.data);
        assert.deepEqual(event.files, ['src/httpEdit.ts']);
        // and the graph it announces answers
        const found = (await query({ op: 'lookup', args: { name: 'editedOverHttp', mode: 'exact' } })).json<HttpEnvelope<LookupResult>>();
        assert.ok(found.ok && found.gen >= event.generation && found.result.total === 1);

        // a plugin lifecycle transition, caused over HTTP
        assert.equal((await query({ op: 'plugins.unload', args: { name: 'fan' } })).status, 200);
        let plugin: PluginEvent | undefined;
        for (let i = 0; i < 10 && !plugin; i++) {
          const next = await stream.next();
          assert.equal(next.event, 'plugin', `only the types asked for: ${next.event}`);
          const e = JSON.parse(next.data) as DaemonEvent;
          if (e.type === 'plugin' && e.plugin === 'fan' && e.to === 'unloaded') plugin = e;
        }
        assert.ok(plugin, 'the unload of fan was streamed');
        assert.equal((await query({ op: 'plugins.load', args: { name: 'fan' } })).status, 200);
      } finally {
        stream.close();
      }
      await eventually('the stream to be forgotten', async () => (((await client.status()) as StatusResult).httpStreams === 0 ? true : undefined));
    });

    test('an event stream that comes back with Last-Event-ID gets what it missed, or a resync when that is gone', async () => {
      const stream = await sse(address, '/v1/events?events=update', auth);
      let seen: string;
      try {
        assert.equal((await stream.next()).event, 'subscribed');
        writeFileSync(join(root, 'src', 'resumeA.ts'), 'export function resumeA(): void {}\n');
        const a = await stream.next();
        assert.ok(a.event === 'update' && a.id, a.data);
        seen = a.id;
      } finally {
        stream.close();
      }
      // While no stream is open: two updates, and a plugin event the next stream does not want.
      const gen = daemon.generation();
      daemon.applyChanges([{ path: 'src/resumeB.ts', text: 'export function resumeB(): void {}\n' }]);
      assert.equal((await query({ op: 'plugins.reload', args: { name: 'fan' } })).status, 200);
      daemon.applyChanges([{ path: 'src/resumeC.ts', text: 'export function resumeC(): void {}\n' }]);
      const back = await sse(address, '/v1/events?events=update', { ...auth, 'last-event-id': seen });
      try {
        assert.equal((await back.next()).event, 'subscribed');
        const b = await back.next();
        const c = await back.next();
        assert.deepEqual([b.event, c.event], ['update', 'update']);
        assert.deepEqual([(JSON.parse(b.data) as UpdateEvent).generation, (JSON.parse(c.data) as UpdateEvent).generation], [gen + 1, gen + 2]);
        assert.ok((JSON.parse(c.data) as UpdateEvent).added.includes('src/resumeC.ts#resumeC'));
        assert.equal(c.id, daemon.events.lastId);
      } finally {
        back.close();
      }
      const stale = await sse(address, '/v1/events', { ...auth, 'last-event-id': '00000000-3' });
      try {
        assert.equal((await stale.next()).event, 'subscribed');
        const resync = await stale.next();
        assert.equal(resync.event, 'resync');
        assert.match((JSON.parse(resync.data) as ResyncEvent).reason, /the daemon restarted since that event/);
      } finally {
        stale.close();
      }
    });

    test('malformed HTTP is refused by the server and does not take the daemon down', async () => {
      const port = Number(address.split(':')[1]);
      for (const garbage of ['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n', `GET /${'a'.repeat(70_000)} HTTP/1.1\r\n\r\n`, '\x00\x01\x02\x03']) {
        const answer = await new Promise<string>((resolve) => {
          const s = netConnect(port, '127.0.0.1');
          let text = '';
          s.on('data', (c: Buffer) => (text += c.toString('latin1')));
          s.on('error', () => resolve(text));
          s.on('close', () => resolve(text));
          s.once('connect', () => s.write(garbage));
          setTimeout(() => s.destroy(), 5000);
        });
        assert.ok(answer === '' || /^HTTP\/1\.1 4\d\d/.test(answer), `${JSON.stringify(garbage.slice(0, 40))}: ${answer.slice(0, 100)}`);
      }
      // a client gone halfway through its body leaves nothing waiting
      await new Promise<void>((resolve) => {
        const s = netConnect(port, '127.0.0.1');
        s.once('connect', () => {
          s.write(`POST /v1/query HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"op":`);
          setTimeout(() => {
            s.destroy();
            resolve();
          }, 100);
        });
      });
      await eventually('the half-sent request to be forgotten', () => (daemon.http!.pending === 0 ? true : undefined));
      const r = await httpCall(address, { path: '/v1/status', headers: auth });
      assert.equal(r.status, 200);
    });
  });
}

describe('where the HTTP gateway listens', () => {
  test('loopback only unless allowRemote; the "http" key of isg.config.json works like --http', async () => {
    const root = smallCorpus('isg-http-remote-', { log: { level: 'silent' } });
    await assert.rejects(Daemon.start({ root, http: '0.0.0.0:0' }), /refusing to serve HTTP on 0\.0\.0\.0:0: not a loopback address; pass --allow-remote/);
    await assert.rejects(Daemon.start({ root, http: '[::]:0' }), /not a loopback address/);
    // all interfaces when allowed, and still the token (asked here through loopback)
    const daemon = await Daemon.start({ root, http: '0.0.0.0:0', allowRemote: true });
    try {
      assert.match(daemon.endpoints.http!, /^0\.0\.0\.0:\d+$/);
      const local = `127.0.0.1:${daemon.endpoints.http!.split(':')[1]}`;
      assert.equal((await httpCall(local, { path: '/v1/status' })).status, 401);
      const token = readFileSync(join(root, '.isg', 'token'), 'utf8').trim();
      assert.equal((await httpCall(local, { path: '/v1/status', headers: { authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      await daemon.stop();
    }
    const configured = smallCorpus('isg-http-config-', { log: { level: 'silent' }, http: '127.0.0.1:0' });
    const fromConfig = await Daemon.start({ root: configured });
    try {
      assert.match(fromConfig.endpoints.http!, /^127\.0\.0\.1:\d+$/);
    } finally {
      await fromConfig.stop();
    }
    const refused = smallCorpus('isg-http-config-', { log: { level: 'silent' }, http: '192.0.2.1:80' });
    await assert.rejects(Daemon.start({ root: refused }), /refusing to serve HTTP on 192\.0\.2\.1:80: not a loopback address/);
  });

  for (const { kind, skip } of SERVERS) {
    test(`a second daemon cannot share the port (${kind}), and stopping ends the event streams`, { skip }, async () => {
      const first = await Daemon.start({ root: smallCorpus('isg-http-port-', { log: { level: 'silent' } }), http: '127.0.0.1:0', httpServer: kind });
      try {
        const port = first.endpoints.http!.split(':')[1];
        // uWS binds with SO_REUSEPORT unless told not to: the second would get half the requests
        await assert.rejects(Daemon.start({ root: smallCorpus('isg-http-port-', { log: { level: 'silent' } }), http: `127.0.0.1:${port}`, httpServer: kind }), /cannot serve HTTP on 127\.0\.0\.1:\d+/);
        await first.ready();
        const token = readFileSync(join(first.root, '.isg', 'token'), 'utf8').trim();
        const stream = await sse(first.endpoints.http!, '/v1/events', { authorization: `Bearer ${token}` });
        assert.equal((await stream.next()).event, 'subscribed');
        await first.stop();
        await stream.ended;
      } finally {
        await first.stop();
      }
    });
  }
});

describe('loading the gateway', { skip: RUNTIME === 'deno' ? 'module hooks and the CommonJS cache are Node’s' : false }, () => {
  const daemonModule = pathToFileURL(join(ROOT, 'dist', 'daemon', 'server', 'daemon.js')).href;
  const run = (script: string) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };

  test('a daemon without --http loads neither the gateway nor hyper-express', () => {
    const root = smallCorpus('isg-http-lazy-', { log: { level: 'silent' } });
    const out = run(`
      import { createRequire } from 'node:module';
      const { Daemon } = await import(${JSON.stringify(daemonModule)});
      const d = await Daemon.start({ root: ${JSON.stringify(root)} });
      await d.ready();
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /hyper-express|uWebSockets/.test(k));
      await d.stop();
      console.log(JSON.stringify({ loaded, http: d.http === undefined }));`);
    assert.deepEqual(out, { loaded: [], http: true });
  });

  test('when hyper-express (uWS) cannot be loaded, node:http serves and the log says why', () => {
    const root = smallCorpus('isg-http-fallback-', { log: { level: 'silent' } });
    // A resolve hook that makes the package unloadable, as a missing or broken uWS binary would.
    const hooks = `data:text/javascript,${encodeURIComponent(`export async function resolve(s, c, next) { if (s === 'hyper-express') throw new Error('simulated: uWS binary missing'); return next(s, c); }`)}`;
    const out = run(`
      import { register } from 'node:module';
      register(${JSON.stringify(hooks)});
      const { Daemon } = await import(${JSON.stringify(daemonModule)});
      const logs = [];
      const d = await Daemon.start({ root: ${JSON.stringify(root)}, http: '127.0.0.1:0', logLevel: 'warn' });
      const token = (await import('node:fs')).readFileSync(${JSON.stringify(join(root, '.isg', 'token'))}, 'utf8').trim();
      const r = await fetch('http://' + d.endpoints.http + '/v1/status', { headers: { authorization: 'Bearer ' + token } });
      const status = r.status;
      await r.text();
      await d.stop();
      console.log(JSON.stringify({ server: d.http.server, status }));`);
    assert.deepEqual(out, { server: 'node:http', status: 200 });
  });
});

test('under Deno the daemon serves HTTP on node:http: the token, a query, an event after an edit', { skip: RUNTIME === 'deno' ? 'run from Node: it starts the Deno daemon' : false }, async (t) => {
  const deno = join(ROOT, 'node_modules', '.bin', 'deno');
  if (!existsSync(deno)) return t.skip('deno is not installed');
  const root = corpus({ log: { level: 'warn' } });
  const child = spawn(deno, ['run', '--allow-all', '--config', join(ROOT, 'deno.json'), join(ROOT, 'daemon', 'cli', 'main.ts'), 'serve', root, '--http', '127.0.0.1:0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const status = await eventually('the Deno daemon to be ready', async () => {
      if (child.exitCode !== null) assert.fail(`the Deno daemon exited:\n${stderr}`);
      const c = await connect({ socket: join(root, '.isg', 'daemon.sock') }).catch(() => undefined);
      if (!c) return undefined;
      const s = (await c.status()) as StatusResult;
      c.close();
      return s.state === 'ready' ? s : undefined;
    });
    assert.equal(status.runtime, 'deno');
    const address = status.endpoints.http!;
    assert.match(address, /^127\.0\.0\.1:\d+$/);
    const auth = { authorization: `Bearer ${readFileSync(join(root, '.isg', 'token'), 'utf8').trim()}` };
    assert.equal((await httpCall(address, { path: '/v1/status' })).status, 401);
    const r = await httpCall(address, { method: 'POST', path: '/v1/query', headers: { ...auth, 'content-type': 'application/json' }, body: '{"op":"lookup","args":{"name":"Subject","mode":"exact","kind":"class"}}' });
    assert.equal(r.status, 200);
    const found = r.json<HttpEnvelope<LookupResult>>();
    assert.deepEqual(found.ok && found.result.matches.map((m) => m.id), ['src/internal/Subject.ts#Subject']);
    assert.equal((await httpCall(address, { method: 'POST', path: '/v1/query', headers: { ...auth, 'content-type': 'application/json' }, body: '{"op":' })).status, 400);
    const stream = await sse(address, '/v1/events?events=update', auth);
    assert.equal((await stream.next()).event, 'subscribed');
    writeFileSync(join(root, 'src', 'denoHttpEdit.ts'), 'export function editedUnderDenoHttp(): number { return 1; }\n');
    const update = await stream.next();
    assert.ok((JSON.parse(update.data) as UpdateEvent).added.includes('src/denoHttpEdit.ts#editedUnderDenoHttp'), update.data);
    stream.close();
    const stop = await httpCall(address, { method: 'POST', path: '/v1/query', headers: { ...auth, 'content-type': 'application/json' }, body: '{"op":"shutdown"}' });
    assert.deepEqual(stop.json<HttpEnvelope>().ok, true);
    assert.equal(await exited, 0, stderr);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('an event stream whose client stopped reading is closed, and it alone', async () => {
  // The gateway over a fake daemon and fake exchanges: sinks that never drain, as a client that
  // stopped reading leaves them.
  const listeners = new Set<(event: DaemonEvent, id: string) => void>();
  const events = new EventLog();
  const publish = (event: DaemonEvent) => {
    const id = events.append(event);
    listeners.forEach((l) => l(event, id));
  };
  const gateway = new HttpGateway({
    events,
    maxFrameBytes: 1 << 20,
    maxQueuedBytes: 1024,
    maxConnections: 8,
    log: createLogger({ level: 'silent' }),
    checkToken: (t) => t === 'secret',
    generation: () => 7,
    handle: () => undefined,
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  });
  const open = async (drains: boolean) => {
    const sink = { written: '', queued: 0, ended: false, closers: [] as (() => void)[] };
    const stream: StreamSink = {
      write: (text) => {
        sink.written += text;
        if (!drains) sink.queued += text.length;
      },
      get queuedBytes() {
        return sink.queued;
      },
      end: () => {
        sink.ended = true;
        sink.closers.forEach((c) => c());
      },
      onClose: (c) => void sink.closers.push(c),
    };
    const ex: HttpExchange = { method: 'GET', path: '/v1/events', query: '', header: (n) => (n === 'authorization' ? 'Bearer secret' : undefined), body: async () => new Uint8Array(), reply: () => assert.fail('an event stream was refused'), stream: () => stream };
    await gateway.serve(ex);
    return sink;
  };
  gateway.start();
  const stuck = await open(false);
  const reading = await open(true);
  assert.equal(gateway.streamCount, 2);
  assert.match(stuck.written, /^event: subscribed\ndata: \{"subscribed":\["update","indexing","plugin"\],"gen":7,"lastId":""\}\n\n$/);
  const event: DaemonEvent = { type: 'plugin', plugin: 'fan', from: 'active', to: 'unloaded' };
  for (let i = 0; i < 200 && !stuck.ended; i++) publish(event);
  assert.ok(stuck.ended, 'the stream that stopped draining is ended');
  assert.ok(stuck.queued > 4 * 1024 && stuck.queued < 4 * 1024 + 200, String(stuck.queued));
  assert.equal(reading.ended, false);
  assert.equal(gateway.streamCount, 1);
  publish(event);
  assert.match(reading.written, /id: [0-9a-f]{8}-\d+\nevent: plugin\ndata: \{"type":"plugin","plugin":"fan","from":"active","to":"unloaded"\}\n\n$/);
  gateway.close();
  assert.ok(reading.ended);
  assert.equal(listeners.size, 0, 'no listener left on the daemon');
});
