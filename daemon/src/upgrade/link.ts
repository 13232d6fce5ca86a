/**
 * The daemon's long-lived link to its supervisor, and the only way its state travels there. It registers the
 * daemon (id, pid, API socket) and stays open: the supervisor sees the daemon die as EOF. Full states
 * (SaveState + fds, acknowledged) and table deltas (StateDelta, not acknowledged: once sendmsg returned they
 * survive our death in the supervisor's socket queue) share this one connection, so a delta never overtakes
 * the full state it applies to. The supervisor may ask for the state again (RequestState, e.g. after its own
 * restart). If the supervisor goes away the link reconnects until stopped; deltas wait for the next full state.
 * It does not decide when a state is worth sending: the daemon calls push() after INIT, Mount/Umount and
 * SendFuseFd, and sendDelta() before replies that change its tables.
 */
import { createLogger, Logger } from '../log';
import { closeAll, FramedChannel } from './channel';
import { FrameType } from './frame';
import { decodeMessage, encodeMessage } from './proto';
import { encodeHandover } from './state-codec';
import { StateWithFds } from './state-types';
import { Ack, DEFAULT_STEP_TIMEOUT_MS, expectAck, sendWithFds } from './transfer';

export interface LinkOptions {
  supervisorSock: string;
  daemonId: string;
  apiSock: string;
  /** The current state and fds, or null while there is nothing to hand over. Must be synchronous. */
  capture: () => StateWithFds | null;
  reconnectMs?: number;
  logger?: Logger;
}

interface AckWaiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class SupervisorLink {
  private channel: FramedChannel | null = null;
  /** The channel on which a full state went out: deltas are only meaningful there. */
  private baselineChannel: FramedChannel | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private pushing: Promise<void> | null = null;
  private pushAgain = false;
  private readonly ackWaiters: AckWaiter[] = [];
  private readonly linkedWaiters: Array<() => void> = [];
  /** The Link was acknowledged on `channel`. */
  private linkedReady = false;
  private readonly logger: Logger;

  constructor(private readonly options: LinkOptions) {
    this.logger = options.logger ?? createLogger('supervisor-link');
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.channel?.close('daemon stopping');
    this.channel = null;
  }

  get connected(): boolean {
    return this.channel !== null && !this.channel.closed;
  }

  /** True when deltas reach a supervisor that holds the full state they apply to. */
  get tracking(): boolean {
    return this.connected && this.baselineChannel === this.channel;
  }

  /** Captures and sends the state now (or right after a push in progress). Resolves when the supervisor acked. */
  push(reason: string): Promise<void> {
    if (this.pushing) {
      this.pushAgain = true;
      return this.pushing;
    }
    this.pushing = this.pushLoop(reason).finally(() => {
      this.pushing = null;
    });
    return this.pushing;
  }

  /**
   * Declares that the supervisor already holds the state this daemon runs on (a successor right after
   * restoring what it fetched), so deltas can flow before the first full state goes out.
   */
  async adoptBaseline(waitMs = DEFAULT_STEP_TIMEOUT_MS): Promise<void> {
    this.baselineChannel = await this.linked(waitMs);
  }

  /** Queues a delta frame (sent synchronously when the socket has room). False if no baseline is held. */
  sendDelta(message: object, fds: number[]): boolean {
    const channel = this.channel;
    if (!channel || channel.closed || this.baselineChannel !== channel) return false;
    channel.send(FrameType.StateDelta, encodeMessage('StateDelta', message), fds).catch(() => undefined);
    // The reply this delta precedes must not reach the kernel before the delta is in the supervisor's socket:
    // if the supervisor lags and the socket is full, wait for it here (back-pressure).
    if (channel.pendingSends > 0 && !channel.flushSync(DEFAULT_STEP_TIMEOUT_MS)) {
      this.logger.warn('the supervisor is not taking table changes; a crash now could lose them', { pending: channel.pendingSends });
    }
    return true;
  }

  private async pushLoop(reason: string): Promise<void> {
    do {
      this.pushAgain = false;
      const channel = await this.linked(DEFAULT_STEP_TIMEOUT_MS);
      const captured = this.options.capture();
      if (!captured) {
        this.logger.debug('no state to send yet', { reason });
        return;
      }
      const { state, fds } = captured;
      const acked = this.nextAck(channel);
      // Queued in this same turn as the capture: any delta computed later is queued behind it.
      const sent = sendWithFds(channel, FrameType.SaveState, 'SaveState', { daemonId: state.daemonId, envelope: encodeHandover(state), fdCount: fds.length }, fds);
      this.baselineChannel = channel;
      await sent;
      await acked;
      this.logger.debug('state sent to the supervisor', { reason, fds: fds.length, sequence: state.sequence });
    } while (this.pushAgain);
  }

  private nextAck(channel: FramedChannel): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.ackWaiters.findIndex((w) => w.timer === timer);
        if (i >= 0) this.ackWaiters.splice(i, 1);
        reject(new Error(`The supervisor did not acknowledge the state within ${DEFAULT_STEP_TIMEOUT_MS} ms`));
        channel.close('state not acknowledged');
      }, DEFAULT_STEP_TIMEOUT_MS);
      this.ackWaiters.push({ resolve, reject, timer });
    });
  }

  private linked(ms: number): Promise<FramedChannel> {
    if (this.channel && !this.channel.closed && this.linkedReady) return Promise.resolve(this.channel);
    return new Promise<FramedChannel>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Not linked to the supervisor at ${this.options.supervisorSock} within ${ms} ms`)), ms);
      this.linkedWaiters.push(() => {
        clearTimeout(timer);
        if (this.channel) resolve(this.channel);
        else reject(new Error('The supervisor link closed'));
      });
    });
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let channel: FramedChannel;
    try {
      channel = FramedChannel.connect(this.options.supervisorSock);
    } catch (err) {
      this.logger.debug('supervisor not reachable, retrying', { error: (err as Error).message });
      return this.scheduleReconnect();
    }
    this.channel = channel;
    this.linkedReady = false;
    channel.onClose((reason) => {
      if (this.channel === channel) {
        this.channel = null;
        this.linkedReady = false;
      }
      for (const waiter of this.ackWaiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`The supervisor link closed: ${reason.message}`));
      }
      if (!this.stopped) {
        this.logger.info('supervisor link lost, reconnecting', { reason: reason.message });
        this.scheduleReconnect();
      }
    });
    try {
      const { daemonId, apiSock } = this.options;
      await channel.send(FrameType.Link, encodeMessage('Link', { daemonId, pid: process.pid, apiSock }));
      await expectAck(channel, 'Linking to the supervisor');
    } catch (err) {
      this.logger.warn('supervisor refused the link', { error: (err as Error).message });
      channel.close();
      return;
    }
    this.linkedReady = true;
    for (const waiter of this.linkedWaiters.splice(0)) waiter();
    void this.serve(channel);
  }

  private async serve(channel: FramedChannel): Promise<void> {
    while (!channel.closed) {
      let frame;
      try {
        frame = await channel.receive(Infinity);
      } catch {
        return;
      }
      closeAll(frame.fds);
      if (frame.fds.length > 0) {
        channel.close('the supervisor sent descriptors on the link');
        return;
      }
      if (frame.type === FrameType.Ack) {
        const waiter = this.ackWaiters.shift();
        if (!waiter) continue;
        clearTimeout(waiter.timer);
        const ack = decodeMessage<Ack>('Ack', frame.body);
        if (ack.ok) waiter.resolve();
        else waiter.reject(new Error(`The supervisor refused the state: ${ack.error}`));
      } else if (frame.type === FrameType.RequestState) {
        this.push('requested by the supervisor').catch((err: Error) => this.logger.warn('cannot send the state', { error: err.message }));
      } else {
        channel.close(`unexpected ${FrameType[frame.type] ?? frame.type} frame on the link`);
        return;
      }
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, this.options.reconnectMs ?? 500);
    this.retryTimer.unref();
  }
}
