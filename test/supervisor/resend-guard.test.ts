import test from 'ava';
import { E, FsError } from '../../daemon/src/fs/errno';
import { ResultJournal } from '../../daemon/src/upgrade/journal';
import { guardResends, keyOf, retireIntents, takeOpenIntents } from '../../daemon/src/upgrade/resend-guard';
import { tempPath } from './helpers/harness';

const ctx = { uid: 0, gid: 0, pid: 1 };

/** A tiny filesystem: names under the root, mkdir fails with EEXIST on a second try like a real one. */
function fakeFs() {
  const names = new Map<string, number>();
  let next = 2;
  const entry = (nodeid: number) => ({ nodeid, generation: 0, attr: { ino: nodeid } as never, entryTimeout: 1, attrTimeout: 1 });
  return {
    names,
    lookup: async (_c: unknown, _p: number, name: Buffer) => {
      const id = names.get(name.toString());
      if (id === undefined) throw new FsError(E.ENOENT);
      return entry(id);
    },
    mkdir: async (_c: unknown, _p: number, name: Buffer) => {
      if (names.has(name.toString())) throw new FsError(E.EEXIST);
      names.set(name.toString(), next);
      return entry(next++);
    },
    unlink: async (_c: unknown, _p: number, name: Buffer) => {
      if (!names.delete(name.toString())) throw new FsError(E.ENOENT);
    },
  };
}

test('a resent mkdir the dead daemon had done gets its entry, once; other EEXISTs stay errors', async (t) => {
  const file = tempPath(t, 'j');
  // The predecessor: it created "a" and "b" on disk but died before marking them done.
  const dead = ResultJournal.open(file, { slots: 32 });
  dead.begin(keyOf(9, 1, Buffer.from('a')), 9, 1, Buffer.from('a'));
  dead.begin(keyOf(10, 1, Buffer.from('b')), 10, 1, Buffer.from('b'));
  const vfs = fakeFs();
  vfs.names.set('a', 7);
  vfs.names.set('pre-existing', 8);

  const journal = ResultJournal.open(file, { slots: 32 });
  t.teardown(() => journal.close());
  guardResends(vfs, journal, takeOpenIntents(journal));
  const again = await vfs.mkdir(ctx, 1, Buffer.from('a'));
  t.is(again.nodeid, 7, 'answered with the directory the first execution made');
  await t.throwsAsync(vfs.mkdir(ctx, 1, Buffer.from('a')), { instanceOf: FsError }, 'only once');
  await t.throwsAsync(vfs.mkdir(ctx, 1, Buffer.from('pre-existing')), { instanceOf: FsError });
  await t.notThrowsAsync(vfs.unlink(ctx, 1, Buffer.from('b')), 'a resent unlink of a name already gone succeeds');
  t.is((await vfs.mkdir(ctx, 1, Buffer.from('c'))).nodeid, 2, 'fresh requests run normally');

  await nextTurn(); // intents close after the reply has gone out
  const later = ResultJournal.open(file, { slots: 32 });
  t.teardown(() => later.close());
  t.is(takeOpenIntents(later).size, 0, 'a later successor inherits nothing: the intents were taken');
  dead.close();
});

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test('an intent stays open until the reply is out, and an earlier call never closes a later one on the same name', async (t) => {
  const file = tempPath(t, 'j');
  const journal = ResultJournal.open(file, { slots: 32 });
  t.teardown(() => journal.close());
  const vfs = fakeFs();
  guardResends(vfs, journal, new Set());
  const openIntents = () => {
    const view = ResultJournal.open(file, { slots: 32 }); // what a successor would read after a SIGKILL now
    try {
      return takeOpenIntents(view);
    } finally {
      view.close();
    }
  };
  const key = keyOf(9, 1, Buffer.from('x'));
  await vfs.mkdir(ctx, 1, Buffer.from('x'));
  t.true(openIntents().has(key), 'the call has returned, but its reply may not be written yet');
  await nextTurn();
  t.false(openIntents().has(key), 'closed on the next turn of the event loop');

  vfs.names.delete('x');
  await vfs.mkdir(ctx, 1, Buffer.from('x'));
  vfs.names.delete('x');
  const second = vfs.mkdir(ctx, 1, Buffer.from('x')); // the same name again, before the first one's intent closed
  await nextTurn();
  t.true(openIntents().has(key), 'closing the first call left the second call\'s intent open');
  await second;
  await nextTurn();
  t.false(openIntents().has(key));
});

test('intents survive a successor that dies before the resends reach it, and are retired after the window', (t) => {
  const file = tempPath(t, 'j');
  const dead = ResultJournal.open(file, { slots: 32 });
  dead.begin(keyOf(35, 1, Buffer.from('f')), 35, 1, Buffer.from('f'));
  dead.close();
  const first = ResultJournal.open(file, { slots: 32 });
  t.is(takeOpenIntents(first).size, 1, 'the first successor inherits the open create');
  first.close(); // ... and is killed before the resent create arrives
  const second = ResultJournal.open(file, { slots: 32 });
  t.teardown(() => second.close());
  const inherited = takeOpenIntents(second);
  t.is(inherited.size, 1, 'the next successor inherits it again');
  retireIntents(second, inherited);
  t.is(inherited.size, 0);
  const third = ResultJournal.open(file, { slots: 32 });
  t.teardown(() => third.close());
  t.is(takeOpenIntents(third).size, 0, 'retired intents are inherited by nobody');
});
