import test from 'ava';
import { NydusError } from '../../daemon/src/errors';
import {
  DAEMON_EVENTS,
  DaemonAction,
  DaemonEvent,
  DaemonStateMachine,
  MACHINE_STATES,
  MachineState,
} from '../../daemon/src/service/state-machine';
import { DaemonState } from '../../daemon/src/service/types';
import { setLogLevel } from '../../daemon/src/log';

setLogLevel('error');

/** The seed's table written out independently of TRANSITION_TABLE: [from, event] -> [to, action]. */
const expected: Record<string, [MachineState, DaemonAction | null]> = {
  'Init/Mount': ['Ready', null],
  'Init/Takeover': ['Ready', 'Restore'],
  'Init/Stop': ['Die', 'StopStateMachine'],
  'Ready/Start': ['Running', 'StartService'],
  'Ready/Stop': ['Die', 'Umount'],
  'Ready/Exit': ['Die', 'StopStateMachine'],
  'Running/Stop': ['Ready', 'TerminateService'],
};

const pathTo: Record<MachineState, DaemonEvent[]> = {
  Init: [],
  Ready: ['Mount'],
  Running: ['Mount', 'Start'],
  Die: ['Mount', 'Exit'],
};

async function machineIn(state: MachineState, actions: DaemonAction[], failing?: Set<DaemonAction>) {
  const machine = new DaemonStateMachine(async (action) => {
    actions.push(action);
    if (failing?.has(action)) throw new Error(`${action} failed on purpose`);
  });
  for (const event of pathTo[state]) await machine.fire(event);
  actions.length = 0;
  return machine;
}

for (const from of MACHINE_STATES) {
  for (const event of DAEMON_EVENTS) {
    const rule = expected[`${from}/${event}`];
    if (rule) {
      const [to, action] = rule;
      test(`${from} + ${event} -> ${to} running ${action ?? 'no action'}`, async (t) => {
        const actions: DaemonAction[] = [];
        const machine = await machineIn(from, actions);
        t.is(await machine.fire(event), to);
        t.is(machine.state, to);
        t.deepEqual(actions, action ? [action] : []);
      });
      if (action) {
        test(`${from} + ${event}: a failing ${action} leaves ${from}, and a retry succeeds`, async (t) => {
          const actions: DaemonAction[] = [];
          const failing = new Set<DaemonAction>([action]);
          const machine = await machineIn(from, actions, failing);
          const err = await t.throwsAsync(machine.fire(event), { message: `${action} failed on purpose` });
          t.truthy(err);
          t.is(machine.state, from);
          failing.clear();
          t.is(await machine.fire(event), to);
          t.deepEqual(actions, [action, action]);
        });
      }
    } else {
      test(`${from} + ${event} is refused with UnexpectedEvent and changes nothing`, async (t) => {
        const actions: DaemonAction[] = [];
        const machine = await machineIn(from, actions);
        t.false(machine.accepts(event));
        const err = await t.throwsAsync(machine.fire(event), { instanceOf: NydusError });
        t.is(err?.code, 'UnexpectedEvent');
        t.regex(err?.message ?? '', new RegExp(`${event} is not accepted`));
        t.is(machine.state, from);
        t.deepEqual(actions, []);
      });
    }
  }
}

test('Die is reported as STOPPED, the others by name', async (t) => {
  const machine = new DaemonStateMachine(async () => undefined);
  t.is(machine.daemonState, DaemonState.INIT);
  await machine.fire('Mount');
  t.is(machine.daemonState, DaemonState.READY);
  await machine.fire('Start');
  t.is(machine.daemonState, DaemonState.RUNNING);
  await machine.fire('Stop');
  await machine.fire('Stop');
  t.is(machine.daemonState, DaemonState.STOPPED);
});

test('queued events never overlap and run in order', async (t) => {
  let active = 0;
  let maxActive = 0;
  const seen: DaemonAction[] = [];
  const machine = new DaemonStateMachine(async (action) => {
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push(action);
    active--;
  });
  await machine.fire('Mount');
  const events: DaemonEvent[] = [];
  for (let i = 0; i < 10; i++) events.push('Start', 'Stop');
  const results = await Promise.all(events.map((event) => machine.fire(event)));
  t.is(maxActive, 1);
  t.deepEqual(results, events.map((event) => (event === 'Start' ? 'Running' : 'Ready')));
  t.is(seen.length, 20);
  t.is(machine.state, 'Ready');
});

test('a refused event in the queue does not block the ones after it', async (t) => {
  const machine = new DaemonStateMachine(async () => undefined);
  const refused = machine.fire('Start'); // Init does not accept Start
  const accepted = machine.fire('Mount');
  await t.throwsAsync(refused, { instanceOf: NydusError });
  t.is(await accepted, 'Ready');
});

test('an action that throws synchronously still leaves the machine usable', async (t) => {
  let fail = true;
  const machine = new DaemonStateMachine((() => {
    if (fail) throw new Error('sync failure');
    return Promise.resolve();
  }) as never);
  await machine.fire('Mount');
  await t.throwsAsync(machine.fire('Start'), { message: 'sync failure' });
  fail = false;
  t.is(await machine.fire('Start'), 'Running');
});

test('fireSequence() picks its events when its turn comes and runs them as one unit', async (t) => {
  const seen: string[] = [];
  const machine = new DaemonStateMachine(async (action) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push(action);
  });
  await machine.fire('Mount');
  const start = machine.fire('Start');
  const planned: string[] = [];
  const sequence = machine.fireSequence((state) => {
    planned.push(state);
    return state === 'Running' ? ['Stop', 'Exit'] : ['Exit'];
  });
  const late = machine.fire('Start'); // queued after the unit: refused in Die
  t.is(await start, 'Running');
  t.is(await sequence, 'Die');
  await t.throwsAsync(late, { instanceOf: NydusError });
  t.deepEqual(planned, ['Running']);
  t.deepEqual(seen, ['StartService', 'TerminateService', 'StopStateMachine']);
});
