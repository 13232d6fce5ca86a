import test from 'ava';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { native } from '../../daemon/src/native';
import { BusyPoll } from '../../daemon/src/transport/busy-poll';
import { FuseChannel } from '../../daemon/src/transport/fuse-channel';

/** A FIFO opened read-write (so opening does not block): the channel reads what the test writes to it. */
function fifo(t: { teardown(fn: () => void): void }): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydus-chan-'));
  const file = path.join(dir, 'fifo');
  execFileSync('mkfifo', [file]);
  const fd = fs.openSync(file, fs.constants.O_RDWR);
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return fd;
}

/** A window that is open: one quick wake-up after the queue ran dry. */
function openWindow(): BusyPoll {
  const poll = new BusyPoll(100, 100);
  poll.sleeping(0n);
  poll.woken(1000n);
  return poll;
}

/** Notes 'poll' in `events` whenever the channel busy-polls; the test's teardown undoes that and closes the channel. */
function recordPolls(t: { teardown(fn: () => void): void }, channel: FuseChannel, events: string[]): void {
  const readSpin = native.readSpin;
  native.readSpin = (fd, buf, off, len, us) => {
    events.push('poll');
    return readSpin(fd, buf, off, len, us);
  };
  t.teardown(() => {
    native.readSpin = readSpin;
    channel.close();
  });
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 20));

test.serial('the reader polls only once the reply of an asynchronous handler is out', async (t) => {
  const fd = fifo(t);
  const events: string[] = [];
  let pending = 0;
  const channel = new FuseChannel(fd, 8192, () => {
    pending++;
    events.push('request');
    queueMicrotask(() => {
      pending--;
      events.push('replied');
    });
  }, () => events.push('end'));
  channel.busyPoll = openWindow();
  channel.repliesPending = () => pending > 0;
  recordPolls(t, channel, events);
  channel.start();
  fs.writeSync(fd, Buffer.from('one request'));
  await turn();
  t.deepEqual(events.slice(0, 3), ['request', 'replied', 'poll']);
});

test.serial('with synchronous replies the reader polls at once, and not at all with busy polling off', async (t) => {
  const fd = fifo(t);
  const events: string[] = [];
  const channel = new FuseChannel(fd, 8192, () => events.push('request+reply'), () => events.push('end'));
  channel.busyPoll = openWindow();
  recordPolls(t, channel, events);
  channel.start();
  fs.writeSync(fd, Buffer.from('one request'));
  await turn();
  t.deepEqual(events.slice(0, 2), ['request+reply', 'poll']);
  channel.busyPoll = undefined;
  events.length = 0;
  fs.writeSync(fd, Buffer.from('another'));
  await turn();
  t.deepEqual(events, ['request+reply']);
});

test.serial('left to other readers, the channel reads nothing; it reads again when they stop, but only while started', async (t) => {
  const fd = fifo(t);
  const got: string[] = [];
  const channel = new FuseChannel(fd, 8192, (msg) => got.push(msg.toString()), () => got.push('end'));
  t.teardown(() => channel.close());
  channel.start();
  channel.leaveTo(true);
  t.true(channel.reading, 'the requests are still being read, by the others');
  fs.writeSync(fd, Buffer.from('first'));
  await turn();
  t.deepEqual(got, [], 'left to the others: not read here');
  channel.leaveTo(false);
  await turn();
  t.deepEqual(got, ['first'], 'they stopped: read here');

  channel.leaveTo(true);
  channel.stop();
  channel.leaveTo(false);
  fs.writeSync(fd, Buffer.from('second'));
  await turn();
  t.deepEqual(got, ['first'], 'stopped: the others stopping does not start it');
  t.false(channel.reading);
  channel.start();
  await turn();
  t.deepEqual(got, ['first', 'second']);
});
