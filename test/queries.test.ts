// The core queries (daemon/queries/, dispatched by `runQuery`) on a real codebase: rxjs's
// sources, indexed once. Every expected fact below was checked by reading node_modules/rxjs/src
// (file and line given where it matters); structural invariants (sums, orderings, depth limits)
// are checked on top. A small temp project covers what rxjs lacks (type-only import cycles).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IsgError, type ErrorCode } from '../daemon/errors.ts';
import { GraphHost } from '../daemon/host.ts';
import type { BlastRadiusResult } from '../daemon/queries/blast-radius.ts';
import { CORE_QUERIES, runQuery } from '../daemon/queries/core.ts';
import { fuzzyScore } from '../daemon/queries/fuzzy.ts';
import { simpleName } from '../daemon/graph/store.ts';
import type { CyclesResult } from '../daemon/queries/cycles.ts';
import type { LookupResult } from '../daemon/queries/lookup.ts';
import type { OutlineResult } from '../daemon/queries/outline.ts';
import type { RelationResult } from '../daemon/queries/relations.ts';
import type { StatsResult } from '../daemon/queries/stats.ts';
import { packageRoot } from '../daemon/util/package-root.ts';

const RXJS = join(packageRoot(), 'node_modules', 'rxjs', 'src');
let host: GraphHost;

before(async () => {
  host = await GraphHost.index(RXJS);
});

const lookup = (args: unknown) => runQuery(host, 'lookup', args) as LookupResult;
const relation = (op: string, args: unknown) => runQuery(host, op, args) as RelationResult;
const blast = (args: unknown) => runQuery(host, 'blast-radius', args) as BlastRadiusResult;
const cycles = (args: unknown, view: GraphHost = host) => runQuery(view, 'cycles', args) as CyclesResult;
const outline = (args: unknown) => runQuery(host, 'outline', args) as OutlineResult;
const stats = (args: unknown, view: GraphHost = host) => runQuery(view, 'stats', args) as StatsResult;

const ids = (list: { id: string }[]): string[] => list.map((x) => x.id);
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sorted = (list: string[]): string[] => [...list].sort();
/** `id -> distance` of relation results. */
const distances = (r: RelationResult): Record<string, number> => Object.fromEntries(r.results.map((x) => [x.id, x.distance]));

/** Asserts `fn` throws an IsgError with `code` whose message matches `message`; returns it. */
function throwsIsg(fn: () => unknown, code: ErrorCode, message: RegExp): IsgError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof IsgError, `expected an IsgError ${code}, got ${caught === undefined ? 'no error' : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  return caught;
}

const SUBJECT = 'internal/Subject.ts#Subject';
const SUBJECT_NEXT = 'internal/Subject.ts#Subject.next';
const SUBSCRIPTION = 'internal/Subscription.ts#Subscription';
const PIPE_FROM_ARRAY = 'internal/util/pipe.ts#pipeFromArray';

describe('lookup', () => {
  test('an exact id finds that entity, with its signature and exported flag', () => {
    const r = lookup({ name: SUBJECT_NEXT });
    assert.equal(r.mode, 'exact');
    assert.equal(r.total, 1);
    const m = r.matches[0]!;
    // internal/Subject.ts:59 `  next(value: T) {`, a method of the exported class Subject.
    assert.deepEqual(
      { id: m.id, name: m.name, kind: m.kind, file: m.file, line: m.line, location: m.location, exported: m.exported, signature: m.signature },
      { id: SUBJECT_NEXT, name: 'Subject.next', kind: 'method', file: 'internal/Subject.ts', line: 59, location: 'internal/Subject.ts:59', exported: true, signature: 'next(value: T)' },
    );
  });

  test('a module id finds the module', () => {
    const r = lookup({ name: 'internal/Subject.ts' });
    assert.equal(r.mode, 'exact');
    assert.deepEqual(ids(r.matches), ['internal/Subject.ts']);
    assert.equal(r.matches[0]!.kind, 'module');
    assert.equal(r.matches[0]!.line, 1);
  });

  test('an exact simple name finds every entity so named, sorted by id (code units, as in --export)', () => {
    // `export const EMPTY` (observable/empty.ts:66) and `public static EMPTY` (Subscription.ts:17).
    const r = lookup({ name: 'EMPTY' });
    assert.equal(r.mode, 'exact');
    assert.deepEqual(ids(r.matches), ['internal/Subscription.ts#Subscription.EMPTY', 'internal/observable/empty.ts#EMPTY']);
    assert.deepEqual(r.matches.map((m) => [m.kind, m.line]), [
      ['property', 17],
      ['variable', 66],
    ]);
  });

  test('a qualified name finds the member of that class only', () => {
    // Subject.ts has two `next` methods: Subject.next (line 59) and AnonymousSubject.next (169).
    const r = lookup({ name: 'Subject.next' });
    assert.equal(r.mode, 'exact');
    assert.deepEqual(ids(r.matches), [SUBJECT_NEXT]);
    assert.deepEqual(ids(lookup({ name: 'AnonymousSubject.next' }).matches), ['internal/Subject.ts#AnonymousSubject.next']);
  });

  test('with no exact match, auto mode falls back to a prefix match', () => {
    const r = lookup({ name: 'BehaviorSub' });
    assert.equal(r.mode, 'prefix');
    assert.deepEqual(sorted(ids(r.matches)), ['internal/BehaviorSubject.ts', 'internal/BehaviorSubject.ts#BehaviorSubject']);
    // Prefix scores favour the shortest name: the class before its file.
    assert.equal(r.matches[0]!.id, 'internal/BehaviorSubject.ts#BehaviorSubject');
  });

  test('with no prefix match either, auto mode falls back to a fuzzy subsequence match', () => {
    const r = lookup({ name: 'bhvsbj' });
    assert.equal(r.mode, 'fuzzy');
    assert.equal(r.matches[0]!.id, 'internal/BehaviorSubject.ts#BehaviorSubject');
    for (const m of r.matches) assert.match(m.name, /b.*h.*v.*s.*b.*j/i, `${m.id} is not a subsequence match`);
  });

  test('an explicit mode is used even when an exact match exists', () => {
    const r = lookup({ name: 'Subject', mode: 'prefix' });
    assert.equal(r.mode, 'prefix');
    const found = ids(r.matches);
    for (const id of [SUBJECT, 'internal/Subject.ts', 'internal/types.ts#SubjectLike', 'internal/Subject.ts#Subject.next']) {
      if (id.endsWith('.next')) assert.ok(!found.includes(id), `${id} does not start with "Subject"`);
      else assert.ok(found.includes(id), `prefix Subject should find ${id}`);
    }
    assert.equal(lookup({ name: 'Subject', mode: 'exact' }).total, 1);
  });

  test('kind and path filters', () => {
    // `next` is 11 entities in rxjs; in internal/Subject.ts two methods.
    assert.equal(lookup({ name: 'next' }).total, 11);
    const inSubject = lookup({ name: 'next', kind: ['method'], path: 'internal/Subject.ts' });
    assert.deepEqual(ids(inSubject.matches), ['internal/Subject.ts#AnonymousSubject.next', SUBJECT_NEXT]);
    // Observer's `next` is a property signature: `next: (value: T) => void;` (types.ts).
    const properties = lookup({ name: 'next', kind: 'property' });
    assert.deepEqual(ids(properties.matches), [
      'internal/types.ts#CompletionObserver.next',
      'internal/types.ts#ErrorObserver.next',
      'internal/types.ts#NextObserver.next',
      'internal/types.ts#Observer.next',
    ]);
    // A comma-separated kind list is accepted like an array.
    assert.equal(lookup({ name: 'next', kind: 'method,property' }).total, lookup({ name: 'next', kind: ['method', 'property'] }).total);
    // A path prefix keeps the files under it: the four Observer-like interfaces of types.ts.
    assert.deepEqual(ids(lookup({ name: 'next', path: 'internal/types.ts' }).matches), ids(properties.matches));
    assert.equal(lookup({ name: 'next', path: 'internal/scheduler/' }).total, 0);
    // A filter that excludes the exact id finds nothing for it.
    assert.equal(lookup({ name: SUBJECT_NEXT, mode: 'exact', kind: ['class'] }).total, 0);
  });

  test('limit caps the matches but not the total', () => {
    const r = lookup({ name: 'next', limit: 3 });
    assert.equal(r.total, 11);
    assert.equal(r.matches.length, 3);
    assert.deepEqual(r.matches, lookup({ name: 'next' }).matches.slice(0, 3));
  });

  test('bad arguments are bad-args errors naming the argument', () => {
    throwsIsg(() => lookup({}), 'bad-args', /"name"/);
    throwsIsg(() => lookup({ name: 7 }), 'bad-args', /"name" must be a string, got number/);
    throwsIsg(() => lookup({ name: 'x', mode: 'regex' }), 'bad-args', /"mode" must be one of auto, exact, prefix, fuzzy/);
    throwsIsg(() => lookup({ name: 'x', kind: ['methd'] }), 'bad-args', /"kind": unknown value "methd"/);
    throwsIsg(() => lookup({ name: 'x', kind: 3 }), 'bad-args', /"kind" must be a list/);
    throwsIsg(() => lookup({ name: 'x', limit: 0 }), 'bad-args', /"limit" must be an integer from 1 to 10000, got 0/);
    throwsIsg(() => lookup({ name: 'x', limit: 2.5 }), 'bad-args', /"limit"/);
    throwsIsg(() => lookup({ name: 'x', path: ['internal'] }), 'bad-args', /"path" must be a string/);
    throwsIsg(() => lookup(['next']), 'bad-args', /arguments must be an object, got an array/);
    throwsIsg(() => lookup('next'), 'bad-args', /arguments must be an object, got string/);
  });
});

describe('implements and supertypes', () => {
  test('implements SubscriptionLike: implementors and, transitively, their subclasses', () => {
    // Subscription.ts:16 `class Subscription implements SubscriptionLike`, Subject.ts:17 `class
    // Subject<T> extends Observable<T> implements SubscriptionLike`; then their subclasses
    // (types.ts:233 `interface SchedulerAction<T> extends Subscription` counts: an interface
    // extending a class), down to the AsyncAction family at distance 4.
    const r = relation('implements', { entity: 'SubscriptionLike' });
    assert.equal(r.entity.id, 'internal/types.ts#SubscriptionLike');
    assert.deepEqual(distances(r), {
      [SUBJECT]: 1,
      [SUBSCRIPTION]: 1,
      'internal/AsyncSubject.ts#AsyncSubject': 2,
      'internal/BehaviorSubject.ts#BehaviorSubject': 2,
      'internal/ReplaySubject.ts#ReplaySubject': 2,
      'internal/Subject.ts#AnonymousSubject': 2,
      'internal/testing/HotObservable.ts#HotObservable': 2,
      'internal/Subscriber.ts#Subscriber': 2,
      'internal/scheduler/Action.ts#Action': 2,
      'internal/types.ts#SchedulerAction': 2,
      'internal/observable/dom/WebSocketSubject.ts#WebSocketSubject': 3,
      'internal/Subscriber.ts#SafeSubscriber': 3,
      'internal/operators/OperatorSubscriber.ts#OperatorSubscriber': 3,
      'internal/scheduler/AsyncAction.ts#AsyncAction': 3,
      'internal/scheduler/AnimationFrameAction.ts#AnimationFrameAction': 4,
      'internal/scheduler/AsapAction.ts#AsapAction': 4,
      'internal/scheduler/QueueAction.ts#QueueAction': 4,
      'internal/scheduler/VirtualTimeScheduler.ts#VirtualAction': 4,
    });
    assert.equal(r.total, 18);
    assert.ok(r.results.every((x) => x.resolution === 'resolved'));
    // Nearest first.
    const ds = r.results.map((x) => x.distance);
    assert.deepEqual(ds, [...ds].sort((a, b) => a - b));
  });

  test('implements Observer: classes and the interfaces extending it', () => {
    // Subscriber.ts:19 and :148 (the unexported ConsumerObserver), tap.ts:52 `interface
    // TapObserver<T> extends Observer<T>`, types.ts:223 `interface SubjectLike<T> extends Observer<T>, ...`.
    const r = relation('implements', { entity: 'internal/types.ts#Observer' });
    assert.deepEqual(distances(r), {
      'internal/Subscriber.ts#Subscriber': 1,
      'internal/Subscriber.ts#ConsumerObserver': 1,
      'internal/operators/tap.ts#TapObserver': 1,
      'internal/types.ts#SubjectLike': 1,
      'internal/Subscriber.ts#SafeSubscriber': 2,
      'internal/operators/OperatorSubscriber.ts#OperatorSubscriber': 2,
    });
  });

  test('subclasses of Subscriber and Subject; transitive:false and depth limit the walk', () => {
    assert.deepEqual(distances(relation('implements', { entity: 'internal/Subscriber.ts#Subscriber' })), {
      'internal/Subscriber.ts#SafeSubscriber': 1,
      'internal/operators/OperatorSubscriber.ts#OperatorSubscriber': 1,
    });
    const all = relation('implements', { entity: SUBJECT });
    assert.deepEqual(distances(all), {
      'internal/AsyncSubject.ts#AsyncSubject': 1,
      'internal/BehaviorSubject.ts#BehaviorSubject': 1,
      'internal/ReplaySubject.ts#ReplaySubject': 1,
      'internal/Subject.ts#AnonymousSubject': 1,
      'internal/testing/HotObservable.ts#HotObservable': 1,
      // WebSocketSubject.ts:157 `extends AnonymousSubject<T>`
      'internal/observable/dom/WebSocketSubject.ts#WebSocketSubject': 2,
    });
    const direct = relation('implements', { entity: SUBJECT, transitive: false });
    assert.equal(direct.total, 5);
    assert.ok(!ids(direct.results).includes('internal/observable/dom/WebSocketSubject.ts#WebSocketSubject'));
    assert.deepEqual(relation('implements', { entity: SUBJECT, depth: 1 }).results, direct.results);
    const limited = relation('implements', { entity: SUBJECT, limit: 2 });
    assert.equal(limited.total, 6);
    assert.deepEqual(limited.results, all.results.slice(0, 2));
  });

  test('supertypes of WebSocketSubject, up to the interfaces Observable and Subject implement', () => {
    // WebSocketSubject -> AnonymousSubject -> Subject -> Observable (implements Subscribable),
    // Subject implements SubscriptionLike (extends Unsubscribable).
    assert.deepEqual(distances(relation('supertypes', { entity: 'WebSocketSubject' })), {
      'internal/Subject.ts#AnonymousSubject': 1,
      [SUBJECT]: 2,
      'internal/Observable.ts#Observable': 3,
      'internal/types.ts#SubscriptionLike': 3,
      'internal/types.ts#Subscribable': 4,
      'internal/types.ts#Unsubscribable': 4,
    });
    assert.deepEqual(distances(relation('supertypes', { entity: 'SafeSubscriber', transitive: false })), { 'internal/Subscriber.ts#Subscriber': 1 });
    assert.equal(relation('supertypes', { entity: 'internal/types.ts#Unsubscribable' }).total, 0);
  });
});

describe('callers and callees', () => {
  test('callers of pipeFromArray: Observable.pipe and pipe', () => {
    // Observable.ts:427 `return pipeFromArray(operations)(this);` (Observable.pipe, whose first
    // overload is at line 337) and util/pipe.ts:79 `return pipeFromArray(fns);`.
    const r = relation('callers', { entity: 'pipeFromArray' });
    assert.equal(r.entity.id, PIPE_FROM_ARRAY);
    assert.deepEqual(
      r.results.map((x) => [x.id, x.line, x.distance, x.resolution]),
      [
        ['internal/Observable.ts#Observable.pipe', 337, 1, 'resolved'],
        ['internal/util/pipe.ts#pipe', 4, 1, 'resolved'],
      ],
    );
  });

  test('receivers typed through what the code declares, read in rxjs', () => {
    const resolvedCallees = (entity: string) => relation('callees', { entity }).results.filter((x) => x.resolution === 'resolved').map((x) => x.id);
    const cases: [string, string, string][] = [
      // defer.ts:54 `innerFrom(observableFactory()).subscribe(subscriber)`: innerFrom returns Observable<...>.
      ['internal/observable/defer.ts#defer', 'internal/Observable.ts#Observable.subscribe', 'a member of what a call returns'],
      // Subject.ts:66 `for (const observer of this.currentObservers) observer.next(value)`, `currentObservers: Observer<T>[] | null`.
      ['internal/Subject.ts#Subject.next', 'internal/types.ts#Observer.next', 'an element in for ... of'],
      // Subscriber.ts:149 `partialObserver: Partial<Observer<T>>`, :155 `partialObserver.next(value)`.
      ['internal/Subscriber.ts#ConsumerObserver.next', 'internal/types.ts#Observer.next', 'Partial<X> read as X'],
      // executeSchedule.ts:26 `function (this: SchedulerAction<any>)`, :29 `this.schedule(null, delay)`.
      ['internal/util/executeSchedule.ts#executeSchedule', 'internal/types.ts#SchedulerAction.schedule', "a function's declared this"],
      // ConnectableObservable.ts:67 `let connection = this._connection`, :71 `connection.add(...)`.
      ['internal/observable/ConnectableObservable.ts#ConnectableObservable.connect', 'internal/Subscription.ts#Subscription.add', 'a variable holding a member'],
    ];
    for (const [from, to, how] of cases) assert.ok(resolvedCallees(from).includes(to), `${from} calls ${to} (${how})`);
  });

  test('callees: resolved calls, and name-matched guesses only when inferred', () => {
    // Subscriber.ts:67-73: next() calls handleStoppedNotification(nextNotification(value), this) or this._next(value).
    const next = relation('callees', { entity: 'internal/Subscriber.ts#Subscriber.next' });
    assert.deepEqual(sorted(ids(next.results)), [
      'internal/NotificationFactories.ts#nextNotification',
      'internal/Subscriber.ts#Subscriber._next',
      'internal/Subscriber.ts#handleStoppedNotification',
    ]);
    assert.ok(next.results.every((x) => x.resolution === 'resolved' && x.distance === 1));
    // pipe.ts:93 `fns.reduce(...)` is Array.prototype.reduce: no resolved callee, and no guess
    // either, since `reduce` is a standard library method name.
    assert.equal(relation('callees', { entity: PIPE_FROM_ARRAY }).total, 0);
    // Subscription.ts:192 `teardown._removeParent(this)`: teardown's declared type is a union the
    // resolver does not follow; the unique method name gives an inferred edge, dropped with inferred:false.
    const guessed = relation('callees', { entity: 'internal/Subscription.ts#Subscription.remove' });
    assert.deepEqual(
      guessed.results.filter((x) => x.resolution === 'inferred').map((x) => x.id),
      ['internal/Subscription.ts#Subscription._removeParent'],
    );
    assert.ok(!relation('callees', { entity: 'internal/Subscription.ts#Subscription.remove', inferred: false }).results.some((x) => x.resolution === 'inferred'));
  });

  test('callers are one hop by default, transitive on request', () => {
    const direct = relation('callers', { entity: 'internal/Subscriber.ts#Subscriber._next', inferred: false });
    // Subscriber.ts:71 `this._next(value!)`.
    assert.ok(ids(direct.results).includes('internal/Subscriber.ts#Subscriber.next'));
    assert.ok(direct.results.every((x) => x.distance === 1));
    const transitive = relation('callers', { entity: 'internal/Subscriber.ts#Subscriber._next', inferred: false, transitive: true, depth: 3 });
    assert.ok(transitive.total > direct.total);
    assert.ok(transitive.results.some((x) => x.distance === 2));
    assert.ok(transitive.results.every((x) => x.distance <= 3));
  });
});

describe('uses and used-by', () => {
  test('pipeFromArray uses UnaryFunction', () => {
    // pipe.ts:83 `pipeFromArray<T, R>(fns: Array<UnaryFunction<T, R>>): UnaryFunction<T, R>`
    const r = relation('uses', { entity: PIPE_FROM_ARRAY });
    assert.deepEqual(r.results.map((x) => [x.id, x.kind, x.resolution]), [['internal/types.ts#UnaryFunction', 'interface', 'resolved']]);
  });

  test('used-by UnaryFunction: exactly the functions whose signatures name it', () => {
    // grep UnaryFunction: pipe.ts (pipe, pipeFromArray), multicast, partition, publish,
    // publishBehavior, publishLast; types.ts only extends it (OperatorFunction), not a use.
    const r = relation('used-by', { entity: 'UnaryFunction' });
    assert.deepEqual(sorted(ids(r.results)), [
      'internal/operators/multicast.ts#multicast',
      'internal/operators/partition.ts#partition',
      'internal/operators/publish.ts#publish',
      'internal/operators/publishBehavior.ts#publishBehavior',
      'internal/operators/publishLast.ts#publishLast',
      'internal/util/pipe.ts#pipe',
      PIPE_FROM_ARRAY,
    ]);
    assert.ok(!ids(r.results).includes('internal/types.ts#OperatorFunction'));
    assert.ok(ids(relation('implements', { entity: 'UnaryFunction' }).results).includes('internal/types.ts#OperatorFunction'));
  });
});

/** The invariants every blast-radius result must satisfy. */
function assertBlastConsistent(r: BlastRadiusResult): void {
  const all = r.byDistance.flatMap((d) => d.entities);
  assert.equal(r.total, r.byDistance.reduce((s, d) => s + d.count, 0), 'total = sum of counts by distance');
  assert.equal(r.total, r.byFile.reduce((s, f) => s + f.count, 0), 'total = sum of counts by file');
  assert.equal(r.files, r.byFile.length);
  assert.equal(new Set(ids(all)).size, all.length, 'no entity twice');
  assert.ok(!ids(all).includes(r.entity.id), 'the entity itself is not in its blast radius');
  for (const d of r.byDistance) {
    assert.ok(d.distance >= 1 && d.distance <= r.depth, `distance ${d.distance} within depth ${r.depth}`);
    if (d.count <= 500) assert.equal(d.entities.length, d.count);
  }
  for (const f of r.byFile) {
    const here = r.byDistance.flatMap((d) => d.entities.filter((e) => e.file === f.file).map(() => d.distance));
    assert.equal(here.length, f.count, `count of ${f.file}`);
    assert.equal(Math.min(...here), f.minDistance, `minDistance of ${f.file}`);
  }
  // byFile: nearest first, then most entities first.
  for (let i = 1; i < r.byFile.length; i++) {
    const a = r.byFile[i - 1]!;
    const b = r.byFile[i]!;
    assert.ok(a.minDistance < b.minDistance || (a.minDistance === b.minDistance && a.count >= b.count), `byFile order at ${b.file}`);
  }
}

describe('blast-radius', () => {
  test('depth 1: the direct callers; deeper: a superset, grouped by distance and file', () => {
    const one = blast({ entity: PIPE_FROM_ARRAY, depth: 1 });
    assert.equal(one.entity.id, PIPE_FROM_ARRAY);
    assert.deepEqual(one.kinds, ['calls', 'uses-type', 'extends', 'implements']);
    assert.equal(one.total, 2);
    assert.equal(one.files, 2);
    assert.deepEqual(one.byDistance.map((d) => [d.distance, d.count, sorted(ids(d.entities))]), [
      [1, 2, ['internal/Observable.ts#Observable.pipe', 'internal/util/pipe.ts#pipe']],
    ]);
    assert.deepEqual(one.byFile, [
      { file: 'internal/Observable.ts', count: 1, minDistance: 1 },
      { file: 'internal/util/pipe.ts', count: 1, minDistance: 1 },
    ]);
    assertBlastConsistent(one);

    const two = blast({ entity: PIPE_FROM_ARRAY, depth: 2 });
    const three = blast({ entity: PIPE_FROM_ARRAY });
    assert.equal(three.depth, 3, 'default depth');
    for (const r of [two, three]) assertBlastConsistent(r);
    assert.deepEqual(two.byDistance[0], one.byDistance[0]);
    assert.ok(two.total > one.total && three.total >= two.total);
    assert.equal(two.byDistance.length, 2);
    // Whatever calls Observable.pipe is at distance 2.
    const pipeCallers = ids(relation('callers', { entity: 'internal/Observable.ts#Observable.pipe', inferred: false }).results);
    assert.ok(pipeCallers.length > 0);
    const atTwo = ids(two.byDistance[1]!.entities);
    for (const c of pipeCallers) if (c !== PIPE_FROM_ARRAY && c !== 'internal/util/pipe.ts#pipe') assert.ok(atTwo.includes(c), `${c} at distance 2`);
  });

  test('members: a change to a class reaches through its members', () => {
    const without = blast({ entity: SUBSCRIPTION, depth: 1, members: false });
    const withMembers = blast({ entity: SUBSCRIPTION, depth: 1 });
    for (const r of [without, withMembers]) assertBlastConsistent(r);
    // Heritage: Subscriber.ts:19, scheduler/Action.ts:17, types.ts:233.
    for (const id of ['internal/Subscriber.ts#Subscriber', 'internal/scheduler/Action.ts#Action', 'internal/types.ts#SchedulerAction']) {
      assert.ok(ids(without.byDistance[0]!.entities).includes(id), `${id} extends Subscription`);
    }
    // finalize.ts:72 `subscriber.add(callback)` only reaches Subscription through its member `add`.
    const finalize = 'internal/operators/finalize.ts#finalize';
    assert.ok(!ids(without.byDistance[0]!.entities).includes(finalize));
    assert.ok(ids(withMembers.byDistance[0]!.entities).includes(finalize));
    // With members, the members are where the change starts, not part of the result.
    assert.ok(ids(without.byDistance[0]!.entities).includes('internal/Subscription.ts#Subscription._hasParent'));
    assert.ok(!ids(withMembers.byDistance[0]!.entities).some((id) => id.startsWith(`${SUBSCRIPTION}.`)));
  });

  test('kinds choose the edges followed; limit caps the listed entities per distance', () => {
    const heritage = blast({ entity: SUBJECT, kinds: ['extends', 'implements'], members: false, depth: 5 });
    assertBlastConsistent(heritage);
    assert.deepEqual(sorted(heritage.byDistance.flatMap((d) => ids(d.entities))), sorted(ids(relation('implements', { entity: SUBJECT }).results)));
    const capped = blast({ entity: SUBSCRIPTION, depth: 1, limit: 5 });
    assert.equal(capped.byDistance[0]!.entities.length, 5);
    assert.equal(capped.byDistance[0]!.count, blast({ entity: SUBSCRIPTION, depth: 1 }).byDistance[0]!.count);
  });

  test('bad arguments are bad-args errors naming the argument', () => {
    throwsIsg(() => blast({ entity: SUBJECT, depth: 0 }), 'bad-args', /"depth" must be an integer from 1 to 50, got 0/);
    throwsIsg(() => blast({ entity: SUBJECT, depth: '2' }), 'bad-args', /"depth"/);
    throwsIsg(() => blast({ entity: SUBJECT, kinds: ['calls', 'imports-of'] }), 'bad-args', /"kinds": unknown value "imports-of"/);
    throwsIsg(() => blast({ entity: SUBJECT, members: 'yes' }), 'bad-args', /"members" must be true or false/);
    throwsIsg(() => blast({ entity: SUBJECT, inferred: 1 }), 'bad-args', /"inferred" must be true or false/);
    throwsIsg(() => blast({}), 'bad-args', /missing argument "entity"/);
  });
});

describe('cycles', () => {
  test('import cycles in rxjs, largest first', () => {
    const r = cycles({});
    assert.equal(r.kind, 'imports');
    assert.equal(r.total, 4);
    assert.deepEqual(r.cycles.map((c) => c.size), [10, 2, 2, 2]);
    assert.deepEqual(ids(r.cycles[0]!.members), [
      'internal/NotificationFactories.ts',
      'internal/Observable.ts',
      'internal/Operator.ts',
      'internal/Subscriber.ts',
      'internal/Subscription.ts',
      'internal/config.ts',
      'internal/types.ts',
      'internal/util/errorContext.ts',
      'internal/util/pipe.ts',
      'internal/util/reportUnhandledError.ts',
    ]);
    // Scheduler.ts:1 imports ./scheduler/Action, Action.ts:1 imports ../Scheduler; likewise
    // ConnectableObservable <-> operators/refCount and AsyncAction <-> AsyncScheduler.
    assert.deepEqual(sorted(r.cycles.slice(1).map((c) => ids(c.members).join(' '))), [
      'internal/Scheduler.ts internal/scheduler/Action.ts',
      'internal/observable/ConnectableObservable.ts internal/operators/refCount.ts',
      'internal/scheduler/AsyncAction.ts internal/scheduler/AsyncScheduler.ts',
    ]);
    for (const c of r.cycles) for (const m of c.members) assert.equal(m.kind, 'module');
    // rxjs writes its type imports as plain imports: ignoring `import type` changes nothing.
    assert.deepEqual(cycles({ ignoreTypeOnly: true }), r);
    assert.deepEqual(cycles({ limit: 1 }).cycles, r.cycles.slice(0, 1));
    assert.equal(cycles({ limit: 1 }).total, 4);
  });

  test('call cycles in rxjs, with and without self-loops', () => {
    // Subscriber.next -> this._next -> this.destination.next, `destination: Subscriber<any> | Observer<any>`
    // (Subscriber.ts:67-113); the same for error and complete.
    // And Observable.subscribe -> this._subscribe -> this.source?.subscribe, with
    // `source: Observable<any> | undefined` (Observable.ts:19, 222, 325).
    const r = cycles({ kind: 'calls' });
    assert.equal(r.kind, 'calls');
    assert.deepEqual(sorted(r.cycles.map((c) => ids(c.members).join(' '))), [
      'internal/Observable.ts#Observable._subscribe internal/Observable.ts#Observable._trySubscribe internal/Observable.ts#Observable.subscribe',
      'internal/Subscriber.ts#Subscriber._complete internal/Subscriber.ts#Subscriber.complete',
      'internal/Subscriber.ts#Subscriber._error internal/Subscriber.ts#Subscriber.error',
      'internal/Subscriber.ts#Subscriber._next internal/Subscriber.ts#Subscriber.next',
    ]);
    const withSelf = cycles({ kind: 'calls', selfLoops: true });
    const singles = withSelf.cycles.filter((c) => c.size === 1).map((c) => c.members[0]!.id);
    assert.equal(withSelf.total, r.total + singles.length);
    // mergeMap.ts:88 `return mergeMap(...)`, catchError.ts:115 `catchError(selector)(source)`,
    // VirtualTimeScheduler.ts:87 `action.schedule(...)` on a `new VirtualAction(...)`.
    for (const id of ['internal/operators/mergeMap.ts#mergeMap', 'internal/operators/catchError.ts#catchError', 'internal/scheduler/VirtualTimeScheduler.ts#VirtualAction.schedule']) {
      assert.ok(singles.includes(id), `${id} calls itself`);
    }
    // Following name-matched edges can only merge or add cycles.
    const inferred = cycles({ kind: 'calls', inferred: true });
    assert.ok(inferred.cycles[0]!.size >= r.cycles[0]!.size);
  });

  test('bad arguments are bad-args errors naming the argument', () => {
    throwsIsg(() => cycles({ kind: 'types' }), 'bad-args', /"kind" must be one of imports, calls, got "types"/);
    throwsIsg(() => cycles({ ignoreTypeOnly: 'true' }), 'bad-args', /"ignoreTypeOnly" must be true or false/);
    throwsIsg(() => cycles({ limit: -1 }), 'bad-args', /"limit"/);
  });
});

/** A project of `files` in a temp dir, indexed before the describe's tests and removed after them. */
function tempProject(prefix: string, files: Record<string, string>): () => GraphHost {
  let dir: string;
  let host: GraphHost;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    host = await GraphHost.index(dir, { workers: 0 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  return () => host;
}

/** A relation query's results as `id resolution` lines, sorted. */
function relationLines(view: GraphHost, op: string, entity: string): string[] {
  return (runQuery(view, op, { entity }) as RelationResult).results.map((r) => `${r.id} ${r.resolution}`).sort();
}

/** The resolved callers of `entity`, as `relationLines` gives them. */
function resolvedCallers(view: GraphHost, entity: string): string[] {
  return relationLines(view, 'callers', entity).filter((l) => l.endsWith(' resolved'));
}

describe('cycles through type-only imports (temp project)', () => {
  const small = tempProject('isg-cycles-', {
    // a <-> b only through `import type` on one side: gone at run time.
    'a.ts': "import type { B } from './b';\nexport class A {\n  b?: B;\n}\n",
    'b.ts': "import { A } from './a';\nexport class B extends A {}\n",
    // c <-> d by value, and c() <-> d() by calls.
    'c.ts': "import { d } from './d';\nexport function c(n: number): number {\n  return n > 0 ? d(n - 1) : 0;\n}\n",
    'd.ts': "import { c } from './c';\nexport function d(n: number): number {\n  return c(n);\n}\n",
    // e imports f both ways: not type-only.
    'e.ts': "import type { F } from './f';\nimport { f } from './f';\nexport const e: F = f;\n",
    'f.ts': "import { e } from './e';\nexport type F = number;\nexport const f: F = 1;\nexport const g = e;\n",
    // A parameter property used in the constructor body, and through `this` in a method.
    's.ts': "export class Service {\n  init(): void {}\n}\nexport class Client {\n  constructor(private readonly svc: Service) {\n    svc.init();\n  }\n  again(): void {\n    this.svc.init();\n  }\n}\n",
    // Nesting for outline: namespace > class > method.
    'n.ts': "export namespace Outer {\n  export class Inner {\n    method(): void {}\n  }\n  export const flag = true;\n}\nexport function last() {}\n",
  });

  test('ignoreTypeOnly drops cycles that exist only through `import type`', () => {
    const members = (r: CyclesResult) => sorted(r.cycles.map((c) => ids(c.members).join(' ')));
    assert.deepEqual(members(cycles({}, small())), ['a.ts b.ts', 'c.ts d.ts', 'e.ts f.ts']);
    assert.deepEqual(members(cycles({ ignoreTypeOnly: true }, small())), ['c.ts d.ts', 'e.ts f.ts']);
    assert.deepEqual(members(cycles({ kind: 'calls' }, small())), ['c.ts#c d.ts#d']);
    assert.equal(stats({}, small()).files, 8);
  });

  test('a parameter property is typed in the constructor body as in methods', () => {
    const callees = (entity: string) => (runQuery(small(), 'callees', { entity }) as RelationResult).results.map((r) => [r.id, r.resolution]);
    assert.deepEqual(callees('s.ts#Client.constructor'), [['s.ts#Service.init', 'resolved']]);
    assert.deepEqual(callees('s.ts#Client.again'), [['s.ts#Service.init', 'resolved']]);
  });

  test('outline nests namespace > class > method by depth, in source order', () => {
    const r = runQuery(small(), 'outline', { file: 'n.ts' }) as OutlineResult;
    assert.deepEqual(
      r.entities.map((e) => [e.depth, e.kind, e.id, e.line]),
      [
        [0, 'namespace', 'n.ts#Outer', 1],
        [1, 'class', 'n.ts#Outer.Inner', 2],
        [2, 'method', 'n.ts#Outer.Inner.method', 3],
        [1, 'variable', 'n.ts#Outer.flag', 5],
        [0, 'function', 'n.ts#last', 7],
      ],
    );
    assert.deepEqual(r.entities.map((e) => e.signature), ['export namespace Outer', 'export class Inner', 'method(): void', 'export const flag = true', 'export function last()']);
  });
});

describe('import types (temp project)', () => {
  const small = tempProject('isg-import-types-', {
    'a.ts': 'export interface Foo {\n  x: number;\n}\nexport namespace NS {\n  export interface Inner {}\n}\nexport interface Box<T> {\n  value: T;\n}\n',
    'index.ts': "export * from './a';\n",
    'b.ts': [
      'export type Direct = import("./a").Foo;',
      "export type Nested = import('./a').NS.Inner;",
      'export type ThroughBarrel = import( "./index" ) . Foo;',
      'export function takes(x: import("./a").Foo): void {}',
      'export type Module = typeof import("./a");',
      'export type Missing = import("./a").Nope;',
      'export type Generic = import("./a").Box<import("./a").Foo>;',
      'export type Outside = import("node:fs").Stats;',
      '',
    ].join('\n'),
    // p <-> q, one way only through an import type: erased at run time, as `import type` is.
    'p.ts': "import { q } from './q';\nexport const p = q;\nexport interface P {}\n",
    'q.ts': 'export const q = 1;\nexport type UsesP = import("./p").P;\n',
  });

  test('`import("./x").A` is a type reference to the export A of that module, through barrels too', () => {
    const usedBy = (entity: string) => relationLines(small(), 'used-by', entity);
    assert.deepEqual(usedBy('a.ts#Foo'), ['b.ts#Direct resolved', 'b.ts#Generic resolved', 'b.ts#ThroughBarrel resolved', 'b.ts#takes resolved']);
    assert.deepEqual(usedBy('a.ts#NS.Inner'), ['b.ts#Nested resolved']);
    // With type arguments the grammar needs a rewrite (grammar-gaps.ts) to parse it at all.
    assert.deepEqual(usedBy('a.ts#Box'), ['b.ts#Generic resolved']);
    assert.equal(stats({}, small()).diagnostics.total, 0);
    // `typeof import(...)` is the module's value side, not a type reference.
    assert.deepEqual((runQuery(small(), 'uses', { entity: 'b.ts#Module' }) as RelationResult).results, []);
  });

  test('an import type naming no export is unresolved; one of a package is external', () => {
    const refs = stats({}, small()).references;
    assert.equal(refs.unresolved, 1);
    assert.ok(refs.external >= 1);
    assert.deepEqual((runQuery(small(), 'uses', { entity: 'b.ts#Missing' }) as RelationResult).results, []);
  });

  test('an import type is a type-only import: ignoreTypeOnly drops the cycle it closes', () => {
    const members = (r: CyclesResult) => r.cycles.map((c) => ids(c.members).join(' '));
    assert.deepEqual(members(cycles({}, small())), ['p.ts q.ts']);
    assert.deepEqual(members(cycles({ ignoreTypeOnly: true }, small())), []);
  });
});

describe('uses-type beyond annotations (temp project)', () => {
  const small = tempProject('isg-uses-type-', {
    'types.ts': "export interface A {}\nexport interface B {}\nexport type Tuple = [A, B];\nexport const KEY = 'k';\nexport namespace NS { export interface Inner {} }\n",
    'use.ts': [
      "import type { A, B, Tuple } from './types';",
      "import * as t from './types';",
      'export function isA(x: unknown): x is A { return x !== null; }',
      'export function cast(x: unknown) { return x as B; }',
      'export type Spread = [...Tuple];',
      'export type Keyed = { [t.KEY]: A };',
      'export type Deep = t.NS.Inner;',
      'export const list = new Array<A>();',
      '',
    ].join('\n'),
    // As a type a name means what has a type meaning: effect's Array.ts shadows the global
    // Array with a const only; zod merges `type DIRTY<T>` with a `const DIRTY`.
    'values.ts': [
      'export const Array = globalThis.Array;',
      'export type Numbers = Array<number>;',
      'export type DIRTY<T> = { value: T };',
      'export const DIRTY = <T>(value: T): DIRTY<T> => ({ value });',
      'export type Dirty = DIRTY<number>;',
      // And as a value, what has a value meaning: `new Error()` here is the global Error.
      'export type Error<E> = { error: E };',
      'export function boom(): never {\n  throw new Error("boom");\n}',
      '',
    ].join('\n'),
  });

  test('type predicates, `as` and `satisfies`, spreads in tuples; a computed key is a value, not a type, and so is a const alone', () => {
    const uses = (entity: string) => (runQuery(small(), 'uses', { entity }) as RelationResult).results.map((r) => r.id).sort();
    assert.deepEqual(uses('use.ts#isA'), ['types.ts#A']);
    assert.deepEqual(uses('use.ts#cast'), ['types.ts#B']);
    assert.deepEqual(uses('use.ts#Spread'), ['types.ts#Tuple']);
    assert.deepEqual(uses('use.ts#Keyed'), ['types.ts#A']);
    assert.deepEqual(uses('use.ts#Deep'), ['types.ts#NS.Inner']);
    assert.deepEqual(uses('use.ts#list'), ['types.ts#A']);
    assert.deepEqual(uses('values.ts#Numbers'), []);
    assert.deepEqual(uses('values.ts#Dirty'), ['values.ts#DIRTY']);
    assert.deepEqual((runQuery(small(), 'callees', { entity: 'values.ts#boom' }) as RelationResult).results, []);
  });
});

describe('receivers typed by a type parameter or a type alias (temp project)', () => {
  const small = tempProject('isg-type-parameters-', {
    'base.ts': 'export interface Base {\n  run(): void;\n}\nexport interface Internals<out O = unknown> extends Base {\n  out: O;\n}\n',
    'use.ts': [
      "import type { Base, Internals } from './base';",
      // zod's shape: a property typed by a type parameter with a constraint and a default,
      // the interface merged with a value of the same name.
      'export interface Schema<O = unknown, I extends Internals<O> = Internals<O>> {',
      '  _zod: I;',
      '}',
      'export const Schema: { new (): Schema } = null!;',
      'export function viaProperty(s: Schema) { s._zod.run(); }',
      'export function viaParameter<T extends Base>(x: T) { x.run(); }',
      'export class Holder<T extends Internals = Internals> {',
      '  item!: T;',
      '  use() { this.item.run(); }',
      '}',
      'export function unbounded<U>(u: U) { (u as any).run(); }',
      // A type alias has the members of the type it names; of a union, the first's.
      'export type Partial = Internals | { other: true };',
      'export function viaAlias(p: Partial) { p.run(); }',
      '',
    ].join('\n'),
  });

  test('a member of a value typed `T` is found on T\'s constraint (else its default), of an alias on what it names; an unbounded T is a guess', () => {
    const callers = relationLines(small(), 'callers', 'base.ts#Base.run');
    assert.deepEqual(callers, ['use.ts#Holder.use resolved', 'use.ts#unbounded inferred', 'use.ts#viaAlias resolved', 'use.ts#viaParameter resolved', 'use.ts#viaProperty resolved']);
  });
});

describe('destructured names (temp project)', () => {
  const small = tempProject('isg-destructured-', {
    'a.ts': [
      'export interface Clock {\n  now(): number;\n}',
      'export interface Cfg {\n  clock: Clock;\n}',
      'export class Box {\n  close(): void {}\n}',
      'export class Timer {',
      '  constructor(private readonly clock: Clock, private readonly cfg: Cfg) {}',
      '  fromThis() {\n    const { clock, cfg: c } = this;\n    clock.now();\n    c.clock.now();\n  }',
      '  fromParameter(options: Cfg) {\n    const { clock: mine = options.clock } = options;\n    mine.now();\n  }',
      '}',
      // Two arrow functions in one entity: the typed `box` of one is not shadowed by the
      // destructured `box` of the other (bindings are scoped by entity, not by arrow).
      'export function twoArrows(record: { box: Box }) {',
      '  const first = () => {\n    const { box } = record;\n    box.close();\n  };',
      '  const second = () => {\n    const box = new Box();\n    box.close();\n  };',
      '  return [first, second];',
      '}',
      '',
    ].join('\n'),
  });

  test('`const { a, b: c, d = e } = x` types each name by the member of x it holds', () => {
    const callers = (entity: string) => relationLines(small(), 'callers', entity);
    assert.deepEqual(callers('a.ts#Clock.now'), ['a.ts#Timer.fromParameter resolved', 'a.ts#Timer.fromThis resolved']);
    assert.deepEqual(callers('a.ts#Box.close'), ['a.ts#twoArrows resolved']);
  });
});

describe('object literals as namespaces (temp project)', () => {
  const small = tempProject('isg-object-literals-', {
    'schemas.ts': 'export function number() {}\nexport function string() {}\nexport function any() {}\n',
    'checks.ts': 'export function min() {}\nexport function string() {}\n',
    'iso.ts': 'export function datetime() {}\n',
    'use.ts': [
      "import * as _schemas from './schemas';",
      "import * as _checks from './checks';",
      "import * as _iso from './iso';",
      "import { any } from './schemas';",
      // zod's from-json-schema.ts: a local z made of namespaces; later members win.
      'const z = { ..._schemas, ..._checks, iso: _iso, anything: any } as const;',
      'export function build() {\n  z.number();\n  z.string();\n  z.min();\n  z.iso.datetime();\n  z.anything();\n}',
      // What a member no name gives, or a spread of what does not resolve, hides: not guessed.
      'const hidden = { ..._schemas, number: () => 1, ...makeMore() };',
      'export function unknowable() {\n  hidden.number();\n  hidden.string();\n}',
      // Exported, so an entity: the same through its members.
      'export const api = { ...{ inline: true }, any };',
      '',
    ].join('\n'),
    'other.ts': "import { api } from './use';\nexport function viaExport() {\n  api.any();\n}\n",
  });

  test('`z.f()` where `const z = { ...ns, key: g }` calls what the literal\'s last member of that name holds', () => {
    const callers = (entity: string) => relationLines(small(), 'callers', entity);
    assert.deepEqual(callers('schemas.ts#number'), ['use.ts#build resolved']);
    assert.deepEqual(callers('schemas.ts#string'), []);
    assert.deepEqual(callers('checks.ts#string'), ['use.ts#build resolved']);
    assert.deepEqual(callers('checks.ts#min'), ['use.ts#build resolved']);
    assert.deepEqual(callers('iso.ts#datetime'), ['use.ts#build resolved']);
    assert.deepEqual(callers('schemas.ts#any'), ['other.ts#viaExport resolved', 'use.ts#build resolved']);
  });
});

describe('members of what a call returns (temp project)', () => {
  const small = tempProject('isg-call-chains-', {
    'stream.ts': [
      'export class Stream<T> {',
      '  subscribe(): void {}',
      '  map(): Stream<T> { return this; }',
      '  self(): this { return this; }',
      '}',
      'export interface Builder { build(): Stream<number>; readonly load: (n: number) => Stream<number>; }',
      'export function from<T>(x: T): Stream<T> { return new Stream<T>(); }',
      'export function builder(): Builder { return null!; }',
      'export function untyped() { return new Stream(); }',
      'export const tag = (s: TemplateStringsArray) => new Stream();',
      // Declared callable types: the first signature returning a name that is no type parameter of its own.
      'export const dual: { <A>(a: A): A; (f: () => void): (s: Stream<number>) => Stream<number>; (s: Stream<number>, f: () => void): Stream<number> } = null!;',
      'export const fn: (n: number) => Builder = null!;',
      '',
    ].join('\n'),
    'use.ts': [
      "import { from, builder, untyped, tag, dual, fn, type Builder } from './stream';",
      'export function declared() { dual(from(1), () => {}).map(); fn(1).build(); }',
      'export function viaProperty(b: Builder) { b.load(1).subscribe(); }',
      // A function's declared `this`, where no class says what `this` is.
      'export function schedule(run: (f: (this: streams.Stream<number>) => void) => void) { run(function (this: streams.Stream<number>) { this.subscribe(); }); }',
      // At module level it could be an object literal's method's, and not its sibling's: not read.
      'const proto = { first(this: streams.Stream<number>) { return 1; }, second() { this.map(); } };',
      // An element of an array or collection declared of a named type, in `for ... of`.
      'export class Hub { private subs: streams.Stream<number>[] | null = []; readonly many: ReadonlyArray<Builder> = []; each() { for (const s of this.subs!) s.subscribe(); for (const b of this.many) b.build(); } }',
      'export function locals(xs: Set<streams.Stream<number>>) { for (const x of xs) x.map(); const zs: readonly Builder[] = []; for (const z of zs) z.build(); }',
      // an element of a 2-D array is an array; `for ... in` gives keys
      'export function notElements(ys: streams.Stream<number>[][], o: Builder) { for (const y of ys) y.map(); for (const k in o) k.build(); }',
      // An unannotated variable holding a member holds what the member is declared as.
      'export class Holder { stream = new streams.Stream<number>(); run() { const s = this.stream; s.map(); } }',
      // Partial<X> and the like have X's members.
      'export function viaPartial(p: Partial<Builder>, r: Readonly<streams.Stream<number>> | undefined) { p.build?.(); r!.map(); p.load!(1); }',
      // `this` as a return type: what the method was called on, of its own class.
      'export class Sub extends streams.Stream<number> { subscribe(): void {} again() { this.self().map(); } }',
      'export function viaThis(s: Sub) { s.self().self().subscribe(); const t = s.self(); t.map(); from(1).self().subscribe(); }',
      // Untyped parameters of a function declared with a function type take its parameter types, by position.
      'export const inline: (x: streams.Stream<number>, y: Builder) => void = (s, b) => { s.subscribe(); b.build(); };',
      'export const single: <T>(x: streams.Stream<T>) => void = s => { s.map(); };',
      'export function ownParameter() { const f: <Builder>(x: Builder) => void = (b) => { b.build(); }; }',
      "import * as streams from './stream';",
      'export function direct() { from(1).subscribe(); }',
      'export function chained() { streams.builder().build().map()!.subscribe(); }',
      'export function generic() { from<string>("a")?.map(); }',
      // No declared return type, a tagged template, a call of a call: not followed.
      'export function unknowable() { untyped().subscribe(); tag`x`.subscribe(); ((f: any) => f)(1)().subscribe(); }',
      'export class Local { make(): streams.Stream<number> { return from(1); } run() { this.make().subscribe(); } }',
      // A variable holding what a call returns, through `!` and parentheses.
      'export function held() { const s = from(1)!; s.subscribe(); const b = (streams.builder()); b.build(); }',
      '',
    ].join('\n'),
  });

  test("`f().m()` calls the member m of f's declared return type, through chains of calls and declared callable types", () => {
    const callers = (entity: string) => relationLines(small(), 'callers', entity);
    assert.deepEqual(callers('stream.ts#Stream.subscribe').filter((l) => l.endsWith(' resolved')), ['use.ts#Hub.each resolved', 'use.ts#Local.run resolved', 'use.ts#chained resolved', 'use.ts#direct resolved', 'use.ts#held resolved', 'use.ts#inline resolved', 'use.ts#schedule resolved', 'use.ts#viaProperty resolved', 'use.ts#viaThis resolved']);
    assert.deepEqual(callers('stream.ts#Stream.map'), ['use.ts#Holder.run resolved', 'use.ts#Sub.again resolved', 'use.ts#chained resolved', 'use.ts#declared resolved', 'use.ts#generic resolved', 'use.ts#locals resolved', 'use.ts#single resolved', 'use.ts#viaPartial resolved', 'use.ts#viaThis resolved']);
    // `b` of ownParameter is typed by the function type's own type parameter, not the interface
    assert.deepEqual(callers('stream.ts#Builder.build').filter((l) => l.endsWith(' resolved')), ['use.ts#Hub.each resolved', 'use.ts#chained resolved', 'use.ts#declared resolved', 'use.ts#held resolved', 'use.ts#inline resolved', 'use.ts#locals resolved', 'use.ts#viaPartial resolved']);
    assert.deepEqual(callers('stream.ts#builder'), ['use.ts#chained resolved', 'use.ts#held resolved']);
    assert.deepEqual(callers('use.ts#Sub.subscribe'), ['use.ts#viaThis resolved']);
    // `p.load!(1)`: a callee with `!` is the same callee
    assert.deepEqual(callers('stream.ts#Builder.load'), ['use.ts#viaPartial resolved', 'use.ts#viaProperty resolved']);
    // what is not followed is at most a name match, never resolved
    assert.ok(!callers('stream.ts#Stream.subscribe').includes('use.ts#unknowable resolved'));
  });
});

describe('`this["name"]` as a return type (temp project)', () => {
  // effect's Schema: `annotate(...): this["Rebuild"]`, where Bottom's `readonly "Rebuild": Rebuild`
  // is typed by its type parameter `Rebuild extends Top` and a schema's own interface may
  // declare the property with a type of its own.
  const small = tempProject('isg-this-property-', {
    'schema.ts': [
      'export interface Pipeable { pipe(): void }',
      'export interface Top extends Pipeable { readonly "Rebuild": Top; check(): this["Rebuild"] }',
      'export interface Bottom<out T, out Rebuild extends Top> extends Top {',
      '  readonly "Rebuild": Rebuild',
      '  annotate(note: string): this["Rebuild"]',
      '  other(): this["missing"]',
      '}',
      'export interface Str extends Bottom<string, Str> {}',
      'export declare const Str: Str',
      'export interface Codec<T> extends Top { readonly "Rebuild": Codec<T>; decode(): T }',
      'export declare const json: Codec<string>',
      '',
    ].join('\n'),
    'use.ts': [
      "import { Str, json } from './schema';",
      // the property typed by a type parameter: its bound (Top), whose members Str has too
      'export const Trimmed = Str.annotate("trimmed").pipe();',
      // the property declared with a type of the receiver's own (Codec): that type's members
      'export function decoded() { return json.check().decode(); }',
      // no such property: nothing followed
      'export function unknown() { Str.other().pipe(); }',
      '',
    ].join('\n'),
  });

  test('a call returning `this["name"]` gives the declared type of the receiver\'s property `name`', () => {
    const callers = (entity: string) => resolvedCallers(small(), entity);
    assert.deepEqual(callers('schema.ts#Pipeable.pipe'), ['use.ts#Trimmed resolved']);
    assert.deepEqual(callers('schema.ts#Codec.decode'), ['use.ts#decoded resolved']);
    assert.deepEqual(callers('schema.ts#Bottom.annotate'), ['use.ts#Trimmed resolved']);
    assert.deepEqual(callers('schema.ts#Top.check'), ['use.ts#decoded resolved']);
  });
});

describe('calls of a value whose declared type is callable (temp project)', () => {
  // effect's Schema: `interface NullOr<S>`, `interface NullOrLambda { <S>(self: S): NullOr<S> }`,
  // `const NullOr: NullOrLambda = ...`, then `NullOr(schema).pipe(...)`.
  const small = tempProject('isg-callable-', {
    'box.ts': [
      'export interface Box { open(): void }',
      'interface MakeBox { <T>(x: T): Box }',
      'export const makeBox: MakeBox = (x) => ({ open() {} });',
      'export type BoxFn = (n: number) => Box',
      'export const viaAlias: BoxFn = (n) => makeBox(n);',
      'export interface Wrap { close(): void }',
      'interface WrapLambda { (): Wrap }',
      'export const Wrap: WrapLambda = () => ({ close() {} });',
      'export interface Gen<A> { (): A }',
      'export const gen: Gen<Box> = () => makeBox(1);',
      '',
    ].join('\n'),
    'use.ts': [
      "import { makeBox, viaAlias, Wrap, gen } from './box';",
      'export function useLambda() { makeBox(1).open(); }',
      'export function useAlias() { viaAlias(2).open(); }',
      // the interface merged with the value it types
      'export function useMerged() { Wrap().close(); }',
      // what the signature returns is the type's own parameter: depends on the instantiation
      'export function useGeneric() { gen().open(); }',
      '',
    ].join('\n'),
  });

  test("the call returns what the type's call signature declares", () => {
    const callers = (entity: string) => resolvedCallers(small(), entity);
    assert.deepEqual(callers('box.ts#Box.open'), ['use.ts#useAlias resolved', 'use.ts#useLambda resolved']);
    assert.deepEqual(callers('box.ts#Wrap.close'), ['use.ts#useMerged resolved']);
  });
});

describe('zod: members of a local object of namespaces, and of what its calls return', () => {
  let zod: GraphHost;
  before(async () => {
    zod = await GraphHost.index(join(packageRoot(), 'node_modules', 'zod', 'src'));
  });

  test('from-json-schema.ts calls through `const z = { ..._schemas, ..._checks, iso: _iso }`', () => {
    const callees = (runQuery(zod, 'callees', { entity: 'v4/classic/from-json-schema.ts#convertBaseSchema' }) as RelationResult).results;
    const resolved = callees.filter((x) => x.resolution === 'resolved').map((x) => x.id);
    // :586 `z.number().int()` and `z.number()`: a spread namespace's export, then a member of what it returns (ZodNumber).
    assert.ok(resolved.includes('v4/classic/schemas.ts#number'));
    assert.ok(resolved.includes('v4/classic/schemas.ts#_ZodNumber.int'));
    // `z.iso.datetime(...)`: the namespace under the key `iso`.
    assert.ok(resolved.includes('v4/classic/iso.ts#datetime'));
  });
});

describe('parameters typed by the variable a function is assigned to (temp project)', () => {
  const small = tempProject('isg-annotated-functions-', {
    'a.ts': [
      'export interface Base {\n  run(): void;\n}',
      // zod's `const fn: $Parse = (schema, ...) => ...`, the alias generic in its parameter.
      'export type Handler = <T extends Base>(x: T, n: number) => void;',
      'export type Plain = (b: Base) => void;',
      'export const generic: Handler = (item) => {\n  item.run();\n};',
      'export const single: Plain = (b) => b.run();',
      'export const bare: Plain = (value) => value.run();',
      'export function outer() {\n  const inner: Plain = (v) => v.run();\n  return inner;\n}',
      '',
    ].join('\n'),
  });

  test('`const f: Alias = (a) => ...` types a by the alias\'s first parameter, through its type parameters', () => {
    const callers = relationLines(small(), 'callers', 'a.ts#Base.run');
    assert.deepEqual(callers, ['a.ts#bare resolved', 'a.ts#generic resolved', 'a.ts#outer resolved', 'a.ts#single resolved']);
  });
});

describe('callbacks passed to functions declared as variables of a function type (temp project)', () => {
  const small = tempProject('isg-declared-callbacks-', {
    'fiber.ts': 'export interface Fiber {\n  id(): number;\n  readonly getRef: <X>(ref: X) => X;\n}\n',
    'effect.ts': [
      "import * as F from './fiber';",
      // effect's `export const withFiber: <A, ...>(evaluate: (fiber: Fiber<...>) => ...) => ... = core.withFiber`
      'export const withFiber: <A>(evaluate: (fiber: F.Fiber) => A) => A = null!;',
      'export interface Api { readonly run: (f: (fiber: F.Fiber) => void) => void }',
      // a type parameter of the function's own, named as a type around it
      'export interface A {\n  id(): number;\n}',
      'export function own<A>(x: A, f: (a: A) => void): void {}',
      'export const ownDeclared: <A>(x: A, f: (a: A) => void) => void = null!;',
      '',
    ].join('\n'),
    'use.ts': [
      "import * as Effect from './effect';",
      "import { type Api } from './effect';",
      'export const viaVariable = () => Effect.withFiber((fiber) => fiber.getRef(fiber.id()));',
      'export function viaProperty(api: Api) { api.run((fiber) => { fiber.id(); }); }',
      'export function shadowed() { Effect.own(1, (a) => a.id()); Effect.ownDeclared(1, (a) => a.id()); }',
      '',
    ].join('\n'),
  });

  test("a callback's parameters are typed by the declared function type's, and a type parameter of its own is no type around it", () => {
    const callers = (entity: string) => resolvedCallers(small(), entity);
    assert.deepEqual(callers('fiber.ts#Fiber.id'), ['use.ts#viaProperty resolved', 'use.ts#viaVariable resolved']);
    assert.deepEqual(callers('fiber.ts#Fiber.getRef'), ['use.ts#viaVariable resolved']);
    // `a` is of the type parameter A, not the interface A (which resolved before)
    assert.deepEqual(callers('effect.ts#A.id'), []);
  });
});

describe('effect: calls found through receiver typing, each one the compiler has too', () => {
  let effect: GraphHost;
  before(async () => {
    effect = await GraphHost.index(join(packageRoot(), 'node_modules', 'effect', 'src'));
  });
  const calls = (entity: string) => (runQuery(effect, 'callees', { entity }) as RelationResult).results.filter((x) => x.resolution === 'resolved').map((x) => x.id);

  test('`this["Rebuild"]`: `const DateString = String.annotate(...)`, then `DateString.pipe(...)`', () => {
    // Schema.ts:9788; annotate is declared `annotate(...): this["Rebuild"]` in BottomWithoutNew
    assert.ok(calls('Schema.ts#DateFromString').includes('Pipeable.ts#Pipeable.pipe'));
  });

  test('a callback of a function declared as a variable of a function type: `Effect.withFiber((fiber) => fiber.getRef(ClockRef))`', () => {
    // Channel.ts:10989; Effect.ts declares `export const withFiber: <A, E, R>(evaluate: (fiber: Fiber.Fiber<unknown, unknown>) => ...) => ...`
    assert.ok(calls('Channel.ts#withSpanImpl').includes('Fiber.ts#Fiber.getRef'));
  });

  test('a variable holding `f()!`: `const fiber = Fiber.getCurrent()!; fiber.interruptUnsafe(...)`', () => {
    // cluster/internal/clusterAbandon.ts:8-9
    assert.ok(calls('cluster/internal/clusterAbandon.ts#interrupt').includes('Fiber.ts#Fiber.interruptUnsafe'));
  });

  test('a call of a value whose declared type is callable: `NullOr(schema).pipe(...)`, `const NullOr: NullOrLambda`', () => {
    // Schema.ts:16154; NullOrLambda declares `<S extends Constraint>(self: S): NullOr<S>`
    assert.ok(calls('Schema.ts#OptionFromNullOr').includes('Pipeable.ts#Pipeable.pipe'));
  });
});

describe('heritage edges (temp project)', () => {
  const small = tempProject('isg-heritage-', {
    'a.ts': [
      // effect's ai/Prompt.ts: an interface and a local const of one name (the const is its schema).
      'export interface BasePart<T extends string> {\n  type: T;\n}',
      'const BasePart = makeSchema();',
      'export interface TextPart extends BasePart<"text"> {}',
      'export class Impl {}',
      'export const Expr = class extends Impl {};',
      // Heritage of declarations that are no entities: no supertype for their containers.
      'declare global {\n  interface Error extends BasePart<"e"> {}\n}',
      'export function f() {\n  class Local extends Impl {}\n  return new Local();\n}',
      'declare function makeSchema(): unknown;',
      '',
    ].join('\n'),
  });

  test('an interface extends the interface of its name, not a local value; only classes, interfaces and consts have supertypes', () => {
    const supertypes = (entity: string) => (runQuery(small(), 'supertypes', { entity }) as RelationResult).results.map((r) => r.id);
    assert.deepEqual(supertypes('a.ts#TextPart'), ['a.ts#BasePart']);
    assert.deepEqual(supertypes('a.ts#Expr'), ['a.ts#Impl']);
    assert.deepEqual(supertypes('a.ts'), []);
    assert.deepEqual(supertypes('a.ts#f'), []);
  });
});

describe('outline', () => {
  test('the entities of Subscription.ts in source order, nested, with signatures', () => {
    const r = outline({ file: 'internal/Subscription.ts' });
    assert.equal(r.file, 'internal/Subscription.ts');
    // Subscription.ts: class at 16, members 17-187, then EMPTY_SUBSCRIPTION (197),
    // isSubscription (199) and the unexported execFinalizer (206).
    assert.deepEqual(
      r.entities.map((e) => [e.depth, e.kind, e.name, e.line]),
      [
        [0, 'class', 'Subscription', 16],
        [1, 'property', 'Subscription.EMPTY', 17],
        [1, 'property', 'Subscription.closed', 26],
        [1, 'property', 'Subscription._parentage', 28],
        [1, 'property', 'Subscription._finalizers', 34],
        [1, 'constructor', 'Subscription.constructor', 40],
        [1, 'property', 'Subscription.initialTeardown', 40],
        [1, 'method', 'Subscription.unsubscribe', 47],
        [1, 'method', 'Subscription.add', 116],
        [1, 'method', 'Subscription._hasParent', 143],
        [1, 'method', 'Subscription._addParent', 155],
        [1, 'method', 'Subscription._removeParent', 164],
        [1, 'method', 'Subscription.remove', 187],
        [0, 'variable', 'EMPTY_SUBSCRIPTION', 197],
        [0, 'function', 'isSubscription', 199],
        [0, 'function', 'execFinalizer', 206],
      ],
    );
    const byName = new Map(r.entities.map((e) => [e.name, e]));
    assert.equal(byName.get('Subscription')!.signature, 'export class Subscription implements SubscriptionLike');
    assert.equal(byName.get('Subscription.add')!.signature, 'add(teardown: TeardownLogic): void');
    assert.equal(byName.get('Subscription.initialTeardown')!.signature, 'private initialTeardown?: () => void');
    assert.equal(byName.get('isSubscription')!.signature, 'export function isSubscription(value: any): value is Subscription');
    assert.equal(byName.get('execFinalizer')!.exported, false);
    assert.equal(byName.get('isSubscription')!.exported, true);
    assert.equal(byName.get('Subscription._hasParent')!.exported, true, 'members of an exported class are exported');
    // Subscription.ts:6-15 is the class's doc comment.
    assert.match(byName.get('Subscription')!.doc ?? '', /^\/\*\*[^]*Represents a disposable resource/);
  });

  test('two classes in one file: each member follows its own class', () => {
    const r = outline({ file: 'internal/Subject.ts' });
    const depths = new Map(r.entities.map((e) => [e.name, e.depth]));
    assert.equal(depths.get('Subject'), 0);
    assert.equal(depths.get('Subject.next'), 1);
    assert.equal(depths.get('AnonymousSubject'), 0);
    assert.equal(depths.get('AnonymousSubject.next'), 1);
    // Each member follows its class: no depth-1 entity before the first class.
    const firstClass = r.entities.findIndex((e) => e.depth === 0 && e.kind === 'class');
    assert.ok(r.entities.slice(0, firstClass).every((e) => e.depth === 0));
    const lines = r.entities.filter((e) => e.depth === 0).map((e) => e.line);
    assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
  });

  test('an unknown file is not-found with suggestions; a missing file argument is bad-args', () => {
    const err = throwsIsg(() => outline({ file: 'Subscription.ts' }), 'not-found', /no indexed file Subscription\.ts; did you mean internal\/Subscription\.ts/);
    assert.deepEqual(err.details, { suggestions: ['internal/Subscription.ts'] });
    throwsIsg(() => outline({}), 'bad-args', /missing argument "file"/);
    throwsIsg(() => outline({ file: 3 }), 'bad-args', /"file" must be a string/);
  });
});

/** rxjs sources on disk: every file isg indexes, and top-level declarations by a plain regex. */
function scanSources(): { files: number; bytes: number; lines: number; counts: Record<string, number> } {
  const patterns: Record<string, RegExp> = {
    class: /^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?class\s+(\w+)/,
    interface: /^(?:export\s+)?(?:declare\s+)?interface\s+(\w+)/,
    enum: /^(?:export\s+)?(?:declare\s+)?(?:const\s+)?enum\s+(\w+)/,
    type: /^(?:export\s+)?(?:declare\s+)?type\s+(\w+)/,
  };
  const sets: Record<string, Set<string>> = Object.fromEntries(Object.keys(patterns).map((k) => [k, new Set<string>()]));
  let files = 0;
  let bytes = 0;
  let lines = 0;
  for (const rel of readdirSync(RXJS, { recursive: true, encoding: 'utf8' })) {
    if (!/\.(ts|js)$/.test(rel)) continue;
    files++;
    const text = readFileSync(join(RXJS, rel));
    bytes += text.length;
    const source = text.toString('utf8');
    // `wc -l`, plus a last line without a final newline.
    lines += source.split('\n').length - (source.endsWith('\n') ? 1 : 0);
    for (const line of source.split('\n')) {
      for (const [kind, re] of Object.entries(patterns)) {
        const m = re.exec(line);
        if (m) sets[kind]!.add(`${rel}#${m[1]}`); // merged declarations count once
      }
    }
  }
  return { files, bytes, lines, counts: Object.fromEntries(Object.entries(sets).map(([k, s]) => [k, s.size])) };
}

describe('stats', () => {
  test('counts agree with the sources on disk and with each other', () => {
    const s = stats({});
    const disk = scanSources();
    assert.equal(s.generation, 1);
    assert.equal(s.files, disk.files); // 251 .ts and Rx.global.js
    assert.equal(s.files, 252);
    assert.equal(s.bytes, disk.bytes, 'bytes are UTF-8 bytes on disk');
    assert.equal(s.lines, disk.lines, 'lines as `wc -l` counts them');
    assert.equal(s.skippedFiles, 0);
    assert.equal(s.entitiesByKind.module, s.files);
    for (const kind of ['class', 'interface', 'enum', 'type']) assert.equal(s.entitiesByKind[kind], disk.counts[kind], `${kind} count`);
    assert.equal(s.entitiesByKind.class, 33);
    assert.equal(s.entitiesByKind.enum, 1); // NotificationKind
    assert.equal(s.entitiesByKind.namespace, 0);
    assert.equal(
      Object.values(s.entitiesByKind).reduce((a, b) => a + b, 0),
      s.entities,
    );
    const kinds = Object.values(s.edgesByKind);
    assert.equal(kinds.reduce((a, k) => a + k.resolved, 0), s.edges.resolved);
    assert.equal(kinds.reduce((a, k) => a + k.inferred, 0), s.edges.inferred);
    // Containment is structural: every entity but the modules has exactly one parent.
    assert.equal(s.edgesByKind.contains!.resolved, s.entities - s.entitiesByKind.module!);
    assert.equal(s.edgesByKind.contains!.inferred, 0);
    // Heritage in rxjs: 47 extends/implements clauses naming entities (the oracle's count too).
    assert.equal(s.edgesByKind.extends!.resolved + s.edgesByKind.implements!.resolved, 47);
    assert.ok(s.edgesByKind.calls!.resolved > 1000);
    assert.equal(s.diagnostics.total, 0);
    assert.deepEqual(s.diagnostics.byCode, {});
    const r = s.references;
    assert.ok(r.resolved > 0 && r.external > 0, JSON.stringify(r));
    throwsIsg(() => stats({ diagnostics: -1 }), 'bad-args', /"diagnostics"/);
  });
});

/**
 * What prefix and fuzzy lookup must return, computed the slow way: score every entity's simple
 * name, keep the filtered ones, sort all of them by score (higher first) then id.
 */
function rankedByBruteForce(view: GraphHost, name: string, mode: 'prefix' | 'fuzzy', kinds?: string[], path?: string): string[] {
  const s = view.store;
  const scored: { key: string; score: number }[] = [];
  for (let id = 0; id < s.idLimit; id++) {
    if (!s.isAlive(id) || (kinds && !kinds.includes(s.kind(id))) || (path && !s.file(id).startsWith(path))) continue;
    const simple = simpleName(s.qualifiedName(id), s.file(id));
    const score = mode === 'prefix' ? (simple.toLowerCase().startsWith(name.toLowerCase()) ? 1000 - simple.length : 0) : fuzzyScore(name, simple);
    if (score > 0) scored.push({ key: s.key(id), score });
  }
  return scored.sort((a, b) => b.score - a.score || byCodeUnits(a.key, b.key)).map((x) => x.key);
}

describe('prefix and fuzzy ranking', () => {
  test('the first `limit` matches and the total are those of scoring and sorting every match', () => {
    const needles = ['s', 'Su', 'sub', 'OBS', 'to', 'as', 'x', 'pipe', 'Subj', 'conc'];
    for (const mode of ['prefix', 'fuzzy'] as const) {
      for (const name of [...needles, 'bhvsbj', 'mrgmp', 'schd']) {
        for (const [limit, kinds, path] of [
          [50, undefined, undefined],
          [3, undefined, undefined],
          [1000, undefined, undefined],
          [20, ['method', 'function'], undefined],
          [20, undefined, 'internal/operators/'],
        ] as const) {
          const expected = rankedByBruteForce(host, name, mode, kinds as string[] | undefined, path);
          const r = lookup({ name, mode, limit, kind: kinds, path });
          assert.equal(r.total, expected.length, `${mode} ${name} total`);
          assert.deepEqual(ids(r.matches), expected.slice(0, limit), `${mode} ${name} limit ${limit} ${kinds ?? ''} ${path ?? ''}`);
        }
      }
    }
  });

  describe('on names that are not ASCII (temp project)', () => {
    let dir: string;
    let intl: GraphHost;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'isg-intl-'));
      writeFileSync(join(dir, 'a.ts'), 'export function Éclair() {}\nexport const straße = 1;\nexport class İdentity {}\nexport function eclipse() {}\nexport function ÉCOLE() {}\n');
      intl = await GraphHost.index(dir, { workers: 0 });
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    test('prefix and fuzzy lower-case them as String.toLowerCase does', () => {
      for (const [name, mode] of [
        ['éc', 'prefix'],
        ['ÉC', 'prefix'],
        ['ec', 'prefix'],
        ['stra', 'prefix'],
        ['i', 'prefix'],
        ['éclr', 'fuzzy'],
        ['ecl', 'fuzzy'],
        ['sß', 'fuzzy'],
        ['idn', 'fuzzy'],
        ['e', 'fuzzy'],
      ] as const) {
        const r = runQuery(intl, 'lookup', { name, mode }) as LookupResult;
        assert.deepEqual(ids(r.matches), rankedByBruteForce(intl, name, mode), `${mode} ${name}`);
      }
      assert.deepEqual(ids((runQuery(intl, 'lookup', { name: 'éc', mode: 'prefix' }) as LookupResult).matches), ['a.ts#ÉCOLE', 'a.ts#Éclair']);
    });
  });
});

describe('entity names: not found, ambiguous, and module file names', () => {
  test('a misspelt name is not-found with did-you-mean suggestions', () => {
    const err = throwsIsg(() => relation('callers', { entity: 'Subjet' }), 'not-found', /no entity named Subjet; did you mean Subject,/);
    const suggestions = (err.details as { suggestions: string[] }).suggestions;
    assert.equal(suggestions[0], 'Subject');
    assert.ok(suggestions.length <= 5);
    // Also for an id whose name part is misspelt.
    throwsIsg(() => relation('callers', { entity: 'internal/Subject.ts#Subjct' }), 'not-found', /did you mean Subject\b/);
    // Swapped and wrong letters are not subsequences: found by edit distance, closest first.
    throwsIsg(() => blast({ entity: 'Subscriptoin' }), 'not-found', /no entity named Subscriptoin; did you mean Subscription,/);
    throwsIsg(() => blast({ entity: 'Subjact' }), 'not-found', /did you mean Subject,/);
    // A typo in the member of a qualified name suggests the member's name.
    const member = throwsIsg(() => relation('callers', { entity: 'Subject.nxt' }), 'not-found', /no entity named Subject\.nxt; did you mean /);
    assert.ok((member.details as { suggestions: string[] }).suggestions.includes('next'));
    // A misspelt file name suggests the file.
    throwsIsg(() => blast({ entity: 'internal/Subjct.ts' }), 'not-found', /did you mean Subject\.ts/);
  });

  test('a name shared by several entities is ambiguous and lists them', () => {
    const err = throwsIsg(() => relation('callers', { entity: 'EMPTY' }), 'ambiguous', /"EMPTY" names 2 entities; pass one id: internal\/Subscription\.ts#Subscription\.EMPTY \(property\), internal\/observable\/empty\.ts#EMPTY \(variable\)/);
    const candidates = (err.details as { candidates: { id: string }[] }).candidates;
    assert.deepEqual(ids(candidates), ['internal/Subscription.ts#Subscription.EMPTY', 'internal/observable/empty.ts#EMPTY']);
    // Candidates come sorted by id (code units), as lookup lists them, whatever the order of indexing.
    const next = (throwsIsg(() => relation('callers', { entity: 'next' }), 'ambiguous', /next/).details as { candidates: { id: string }[] }).candidates;
    assert.deepEqual(ids(next), [...ids(next)].sort(byCodeUnits));
    assert.deepEqual(ids(next), ids(lookup({ name: 'next' }).matches));
    // `next` names 11 entities: the message lists 8 and says there are more.
    throwsIsg(() => relation('callees', { entity: 'next' }), 'ambiguous', /"next" names 11 entities; .*, \.\.\.$/);
    // A qualified name disambiguates.
    assert.equal(relation('callers', { entity: 'Subscription.EMPTY' }).entity.id, 'internal/Subscription.ts#Subscription.EMPTY');
  });

  test('a module can be named by its id or its file name', () => {
    assert.equal(blast({ entity: 'internal/Subject.ts', depth: 1 }).entity.kind, 'module');
    assert.equal(blast({ entity: 'Subject.ts', depth: 1 }).entity.id, 'internal/Subject.ts');
    // internal/types.ts and internal/ajax/types.ts: the bare file name is ambiguous.
    throwsIsg(() => blast({ entity: 'types.ts' }), 'ambiguous', /"types\.ts" names 2 entities; pass one id: internal\/ajax\/types\.ts \(module\), internal\/types\.ts \(module\)/);
  });

  test('relation arguments are checked and named', () => {
    throwsIsg(() => relation('callers', { entity: 42 }), 'bad-args', /argument "entity" must be a string/);
    throwsIsg(() => relation('callers', {}), 'bad-args', /missing argument "entity"/);
    throwsIsg(() => relation('implements', { entity: SUBJECT, transitive: 'no' }), 'bad-args', /"transitive" must be true or false/);
    throwsIsg(() => relation('implements', { entity: SUBJECT, depth: 101 }), 'bad-args', /"depth" must be an integer from 1 to 100, got 101/);
    throwsIsg(() => relation('callers', { entity: SUBJECT, limit: 'all' }), 'bad-args', /"limit"/);
    throwsIsg(() => relation('uses', { entity: SUBJECT, inferred: 'no' }), 'bad-args', /"inferred" must be true or false/);
  });
});

describe('runQuery', () => {
  test('an unknown op is unknown-op listing the known ones', () => {
    const err = throwsIsg(() => runQuery(host, 'who-calls', { entity: SUBJECT }), 'unknown-op', /unknown query "who-calls"; known: lookup, implements, supertypes, callers, callees, uses, used-by, blast-radius, cycles, outline, stats/);
    assert.equal(err.name, 'IsgError');
  });

  test('every core query is dispatched, and null args mean no args', () => {
    assert.deepEqual(
      CORE_QUERIES.map((q) => q.name),
      ['lookup', 'implements', 'supertypes', 'callers', 'callees', 'uses', 'used-by', 'blast-radius', 'cycles', 'outline', 'stats', 'export'],
    );
    for (const q of CORE_QUERIES) assert.ok(q.summary.length > 10, `${q.name} has a summary`);
    assert.equal((runQuery(host, 'stats', null) as StatsResult).files, 252);
    assert.equal((runQuery(host, 'cycles', undefined) as CyclesResult).kind, 'imports');
  });
});
