import test from 'ava';
import { isResent, JournalPhase, originalUnique, replay, ResultJournal, RESEND_BIT } from '../../daemon/src/upgrade/journal';
import { tempPath } from './helpers/harness';

function reply(unique: bigint, error: number, body: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32LE(16 + body.length, 0);
  header.writeInt32LE(error, 4);
  header.writeBigUInt64LE(unique, 8);
  return Buffer.concat([header, body]);
}

test('a successor opening the journal finds what its predecessor recorded', (t) => {
  const file = tempPath(t, 'd.journal');
  const first = ResultJournal.open(file, { slots: 64 });
  first.begin(10n, 35 /* CREATE */, 1, Buffer.from('new-file'));
  first.complete(10n, 35, 1, reply(10n, 0, Buffer.alloc(144, 7)));
  first.begin(11n, 10 /* UNLINK */, 1, Buffer.from('old-file'));
  // no close(): the predecessor was SIGKILLed

  const second = ResultJournal.open(file, { slots: 64 });
  t.teardown(() => second.close());
  const resentCreate = 10n | RESEND_BIT;
  t.true(isResent(resentCreate));
  const done = second.lookup(resentCreate);
  t.is(done?.phase, JournalPhase.Done);
  t.deepEqual(done?.detail, Buffer.from(''));
  const again = replay(done!, resentCreate);
  t.is(again.readBigUInt64LE(8), resentCreate, 'the replayed reply answers the resent unique');
  t.deepEqual(again.subarray(16), Buffer.alloc(144, 7));
  const intent = second.lookup(11n | RESEND_BIT);
  t.is(intent?.phase, JournalPhase.Intent);
  t.deepEqual(intent?.detail, Buffer.from('old-file'));
  t.is(second.lookup(12n), undefined);
  first.close();
});

test('a journal opened early sees what the predecessor wrote since once it reloads', (t) => {
  const file = tempPath(t, 'early.journal');
  const predecessor = ResultJournal.open(file, { slots: 64 });
  predecessor.begin(20n, 35 /* CREATE */, 1, Buffer.from('before'));
  const successor = ResultJournal.open(file, { slots: 64 }); // opened while it waits, before the crash
  t.teardown(() => successor.close());
  predecessor.complete(20n, 35, 1, reply(20n, 0, Buffer.alloc(8, 1)));
  predecessor.begin(21n, 10 /* UNLINK */, 1, Buffer.from('after'));
  predecessor.close();
  t.is(successor.lookup(21n), undefined, 'the early read predates the intent');
  successor.reload();
  t.is(successor.lookup(20n)?.phase, JournalPhase.Done);
  t.deepEqual(successor.lookup(21n)?.detail, Buffer.from('after'));
  successor.begin(22n, 10, 1);
  t.is(successor.lookup(22n)?.seq, 4, 'numbering goes on from the predecessor\'s last record');
});

test('the ring forgets old entries, not new ones, and keeps counting after a reopen', (t) => {
  const file = tempPath(t, 'ring.journal');
  const journal = ResultJournal.open(file, { slots: 8 });
  for (let u = 1n; u <= 20n; u++) journal.complete(u, 9, 1, reply(u, -17, Buffer.alloc(0)));
  t.is(journal.lookup(12n), undefined);
  t.is(journal.lookup(13n)?.phase, JournalPhase.Done);
  t.is(journal.size, 8);
  journal.close();
  const reopened = ResultJournal.open(file, { slots: 8 });
  t.teardown(() => reopened.close());
  t.is(reopened.size, 8);
  reopened.complete(21n, 9, 1, reply(21n, 0, Buffer.alloc(0)));
  t.is(reopened.lookup(13n), undefined, 'slot of the oldest entry reused');
  t.is(reopened.lookup(20n)?.reply.readInt32LE(4), -17);
});

test('an entry larger than a slot is refused', (t) => {
  const journal = ResultJournal.open(tempPath(t, 'j'), { slots: 4, slotSize: 128 });
  t.teardown(() => journal.close());
  t.throws(() => journal.complete(1n, 35, 1, Buffer.alloc(200)), { instanceOf: RangeError });
  t.is(originalUnique(5n | RESEND_BIT), 5n);
});
