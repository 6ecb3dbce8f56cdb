// The public face of the client package: the typed client, daemon discovery and the protocol.
export { connect, IsgClient, IsgClientError, type Answer, type ConnectOptions, type Endpoint, type RequestOptions } from './client.ts';
export { locateDaemon, type Located } from './locate.ts';
export * from './protocol.ts';
