/**
 * The daemon's lifecycle as a table (the seed's, kept exact) run by javascript-state-machine. Each transition may
 * name an action; the action runs BEFORE the machine moves, so a failed action leaves the state where it was and
 * the same event can be retried (upstream moves first and reports a state it is not in). Events are queued: one
 * runs to completion (action included) before the next starts. An event the table refuses for the current state
 * is an UnexpectedEvent error and changes nothing. The machine's state is the only record of the daemon's state.
 *
 * What the actions do (mount, serve, unmount...) is not known here: the owner passes an ActionRunner.
 */
import StateMachine = require('javascript-state-machine');
import { NydusError } from '../errors';
import { createLogger, Logger } from '../log';
import { DaemonState, daemonStateName } from './types';

export type DaemonEvent = 'Mount' | 'Takeover' | 'Start' | 'Stop' | 'Exit';
export type MachineState = 'Init' | 'Ready' | 'Running' | 'Die';
export type DaemonAction = 'Restore' | 'StartService' | 'TerminateService' | 'Umount' | 'StopStateMachine';

export const DAEMON_EVENTS: readonly DaemonEvent[] = ['Mount', 'Takeover', 'Start', 'Stop', 'Exit'];
export const MACHINE_STATES: readonly MachineState[] = ['Init', 'Ready', 'Running', 'Die'];

export interface TransitionRule {
  from: MachineState;
  event: DaemonEvent;
  to: MachineState;
  action?: DaemonAction;
}

/** Every transition there is; any (state, event) pair not listed is refused. */
export const TRANSITION_TABLE: readonly TransitionRule[] = [
  { from: 'Init', event: 'Mount', to: 'Ready' },
  { from: 'Init', event: 'Takeover', to: 'Ready', action: 'Restore' },
  { from: 'Init', event: 'Stop', to: 'Die', action: 'StopStateMachine' },
  { from: 'Ready', event: 'Start', to: 'Running', action: 'StartService' },
  { from: 'Ready', event: 'Stop', to: 'Die', action: 'Umount' },
  { from: 'Ready', event: 'Exit', to: 'Die', action: 'StopStateMachine' },
  { from: 'Running', event: 'Stop', to: 'Ready', action: 'TerminateService' },
];

export function findRule(from: MachineState, event: DaemonEvent): TransitionRule | undefined {
  return TRANSITION_TABLE.find((rule) => rule.from === from && rule.event === event);
}

/** The state clients see: Die is STOPPED. */
export function reportedState(state: MachineState): DaemonState {
  switch (state) {
    case 'Init':
      return DaemonState.INIT;
    case 'Ready':
      return DaemonState.READY;
    case 'Running':
      return DaemonState.RUNNING;
    case 'Die':
      return DaemonState.STOPPED;
  }
}

export type ActionRunner = (action: DaemonAction, rule: TransitionRule) => Promise<void>;
export type TransitionListener = (rule: TransitionRule) => void;

/** jsm transitions become methods of the machine, so they are named in lower case. */
const methodName = (event: DaemonEvent): string => event.toLowerCase();
const eventOfMethod = new Map<string, DaemonEvent>(DAEMON_EVENTS.map((event) => [methodName(event), event]));

export class DaemonStateMachine {
  private readonly fsm: StateMachine;
  private queueTail: Promise<unknown> = Promise.resolve();
  private readonly listeners: TransitionListener[] = [];

  constructor(
    private readonly runAction: ActionRunner,
    private readonly logger: Logger = createLogger('state-machine'),
  ) {
    this.fsm = new StateMachine({
      init: 'Init',
      transitions: TRANSITION_TABLE.map((rule) => ({ name: methodName(rule.event), from: rule.from, to: rule.to })),
      methods: {
        // Runs before the state changes; a rejected promise cancels the transition (jsm's failTransit).
        onBeforeTransition: (lifecycle) => this.beforeTransition(lifecycle),
      },
    });
  }

  get state(): MachineState {
    return this.fsm.state as MachineState;
  }

  get daemonState(): DaemonState {
    return reportedState(this.state);
  }

  /** Whether the table accepts `event` in the current state (queued events not counted). */
  accepts(event: DaemonEvent): boolean {
    return findRule(this.state, event) !== undefined;
  }

  onTransition(listener: TransitionListener): void {
    this.listeners.push(listener);
  }

  /** Queues `event`; resolves with the new state, or rejects (UnexpectedEvent, or the action's error). */
  fire(event: DaemonEvent): Promise<MachineState> {
    return this.enqueue(() => this.transit(event));
  }

  /**
   * Queues several events as one unit: `plan` picks them from the state the machine is in when the unit's turn
   * comes, and no other event runs in between. Stops at the first failure (state left where that event found it).
   */
  fireSequence(plan: (state: MachineState) => DaemonEvent[]): Promise<MachineState> {
    return this.enqueue(async () => {
      for (const event of plan(this.state)) await this.transit(event);
      return this.state;
    });
  }

  private enqueue(work: () => Promise<MachineState>): Promise<MachineState> {
    const run = this.queueTail.then(work);
    this.queueTail = run.catch(() => undefined);
    return run;
  }

  private async transit(event: DaemonEvent): Promise<MachineState> {
    const from = this.state;
    const rule = findRule(from, event);
    if (!rule || !this.fsm.can(methodName(event))) {
      throw new NydusError(
        'UnexpectedEvent',
        `Event ${event} is not accepted in state ${daemonStateName(reportedState(from))}`,
      );
    }
    this.logger.debug('state transition begins', { event, from, to: rule.to, action: rule.action });
    const method = (this.fsm as unknown as Record<string, () => unknown>)[methodName(event)];
    await method.call(this.fsm);
    this.logger.info('state changed', { event, from, to: this.state, state: daemonStateName(this.daemonState) });
    for (const listener of this.listeners) {
      try {
        listener(rule);
      } catch (err) {
        this.logger.error('state listener failed', { err });
      }
    }
    return this.state;
  }

  private beforeTransition(lifecycle: StateMachine.Lifecycle): Promise<void> | undefined {
    if (lifecycle.transition === 'init') return undefined; // jsm's own construction step
    const event = eventOfMethod.get(lifecycle.transition);
    const rule = event && findRule(lifecycle.from as MachineState, event);
    if (!rule?.action) return Promise.resolve();
    const action = rule.action;
    // Always a promise (never a synchronous throw, which would leave jsm "pending" forever).
    return Promise.resolve()
      .then(() => this.runAction(action, rule))
      .catch((err: unknown) => {
        this.logger.warn('state transition failed; state unchanged', { event: rule.event, from: rule.from, action, err });
        throw err;
      });
  }
}
