// The commands that load the graph, tree-sitter and the daemon, as one module: the entry of the
// daemon's bundle, dist/isg-daemon.cjs (daemon/cli/bundle.ts says why there is one, and
// graph-command-loader.ts when it is used).
export * as serve from './serve-command.ts';
export * as index from './index-command.ts';
