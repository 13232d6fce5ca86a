import test from 'ava';
import { BusyPoll } from '../../daemon/src/transport/busy-poll';

const us = (n: number) => BigInt(Math.round(n * 1000));

/** The queue runs dry at `at` (after the current window passed in vain), the next request wakes it `gapUs` later. */
function idleThenWake(p: BusyPoll, at: number, gapUs: number): number {
  p.sleeping(us(at));
  p.woken(us(at + gapUs));
  return p.windowUs;
}

test('the window starts off, opens on quick requests and doubles up to the maximum', (t) => {
  const p = new BusyPoll(100, 25);
  t.is(p.windowUs, 0, 'an idle reader does not poll');
  t.is(idleThenWake(p, 0, 10), 25, 'a request 10 us after the queue ran dry: polling would have caught it');
  t.is(idleThenWake(p, 1000, 10), 50, 'the 25 us window plus 10 us of sleep is still within the maximum');
  t.is(idleThenWake(p, 2000, 10), 100);
  t.is(idleThenWake(p, 3000, 0), 100, 'never beyond the maximum');
});

test('long gaps halve the window and below the start value turn it off', (t) => {
  const p = new BusyPoll(100, 25);
  idleThenWake(p, 0, 1);
  idleThenWake(p, 100, 1);
  idleThenWake(p, 200, 1);
  t.is(p.windowUs, 100);
  t.is(idleThenWake(p, 1000, 5000), 50, 'a request 5 ms later: polling was wasted');
  t.is(idleThenWake(p, 10_000, 5000), 25);
  t.is(idleThenWake(p, 20_000, 5000), 0, 'below the start value: off');
  t.is(idleThenWake(p, 30_000, 5000), 0, 'and it stays off while requests are far apart');
});

test('the time already spent polling counts towards the gap', (t) => {
  const p = new BusyPoll(100, 25);
  idleThenWake(p, 0, 1);
  idleThenWake(p, 100, 1);
  t.is(p.windowUs, 50);
  // 50 us of polling in vain, then a request 60 us later: 110 us in all, beyond what the maximum window covers.
  t.is(idleThenWake(p, 1000, 60), 25);
});

test('a wake-up without a recorded idle moment (a full batch, the first request) changes nothing', (t) => {
  const p = new BusyPoll(100, 25);
  p.woken(us(5));
  t.is(p.windowUs, 0);
  idleThenWake(p, 10, 1);
  p.woken(us(10_000));
  t.is(p.windowUs, 25, 'the idle moment was accounted for once');
});
