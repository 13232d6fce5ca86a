/**
 * The daemon's side of the supervisor protocol, one connection per transfer:
 * - sendState(): a daemon stores its latest handover state and descriptors in the supervisor;
 * - fetchState(): a successor fetches them (and learns whether its predecessor died, i.e. whether to send
 *   FUSE_NOTIFY_RESEND once it serves).
 * Every step has a timeout; on any failure the descriptors received so far are closed. The long-lived
 * link (liveness + "send your state again" requests) is in link.ts.
 */
import { closeAll, FramedChannel } from './channel';
import { FrameType } from './frame';
import { decodeMessage, encodeMessage } from './proto';
import { checkFdCount, decodeHandover, encodeHandover } from './state-codec';
import { HandoverState, StateWithFds } from './state-types';
import { DEFAULT_STEP_TIMEOUT_MS, expectAck, receiveFds, sendAck, sendWithFds } from './transfer';

export interface FetchedState extends StateWithFds {
  /** The handover schema version the state was written with. */
  version: number;
  /** True when the predecessor died: requests it had read must be resent (session.notifyResend()). */
  resend: boolean;
}

interface StateReplyMessage {
  found: boolean;
  envelope: Buffer;
  fdCount: number;
  resend: boolean;
  error: string;
}

/** Stores `state` and `fds` (in the order of state.fds) in the supervisor; resolves once it acknowledged. */
export async function sendState(supervisorSock: string, state: HandoverState, fds: number[], timeoutMs = DEFAULT_STEP_TIMEOUT_MS): Promise<void> {
  if (state.fds.length !== fds.length) throw new RangeError(`state lists ${state.fds.length} fds but ${fds.length} were given`);
  const channel = FramedChannel.connect(supervisorSock);
  try {
    const envelope = encodeHandover(state);
    await withTimeout(sendWithFds(channel, FrameType.SaveState, 'SaveState', { daemonId: state.daemonId, envelope, fdCount: fds.length }, fds), timeoutMs, 'sending the state');
    await expectAck(channel, `Saving the state of daemon ${state.daemonId}`, timeoutMs);
  } finally {
    channel.close();
  }
}

/** Fetches the latest state and descriptors the supervisor holds for `daemonId`. The caller owns the fds. */
export async function fetchState(supervisorSock: string, daemonId: string, timeoutMs = DEFAULT_STEP_TIMEOUT_MS): Promise<FetchedState> {
  const channel = FramedChannel.connect(supervisorSock);
  try {
    await channel.send(FrameType.FetchState, encodeMessage('FetchState', { daemonId }));
    const first = await channel.expect(FrameType.StateReply, timeoutMs);
    const reply = decodeMessage<StateReplyMessage>('StateReply', first.body);
    if (!reply.found) {
      closeAll(first.fds);
      throw new Error(`The supervisor has no state for daemon ${daemonId}${reply.error ? `: ${reply.error}` : ''}`);
    }
    const fds = await receiveFds(channel, first, reply.fdCount, timeoutMs);
    try {
      const decoded = decodeHandover(reply.envelope);
      checkFdCount(decoded.state, fds.length);
      await sendAck(channel, true);
      return { state: decoded.state, fds, version: decoded.version, resend: reply.resend };
    } catch (err) {
      closeAll(fds);
      await sendAck(channel, false, (err as Error).message).catch(() => undefined);
      throw err;
    }
  } finally {
    channel.close();
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
