/**
 * Moving a message with any number of descriptors over a FramedChannel: the first frame carries the message and
 * up to 250 fds, FdChunk frames carry the rest. The receiver checks the count and the order and closes what it
 * collected if anything is off. Message meaning stays with the caller.
 */
import { ChannelClosedError, closeAll, FramedChannel } from './channel';
import { Frame, FrameType, MAX_FDS_PER_FRAME, ProtocolError } from './frame';
import { decodeMessage, encodeMessage } from './proto';

export const DEFAULT_STEP_TIMEOUT_MS = 10_000;

/** Sends `message` (protobuf type `messageName`) as a `type` frame followed by FdChunk frames for the fds. */
export async function sendWithFds(channel: FramedChannel, type: FrameType, messageName: string, message: object, fds: number[]): Promise<void> {
  const first = fds.slice(0, MAX_FDS_PER_FRAME);
  const sends = [channel.send(type, encodeMessage(messageName, message), first)];
  for (let index = first.length; index < fds.length; index += MAX_FDS_PER_FRAME) {
    const chunk = fds.slice(index, index + MAX_FDS_PER_FRAME);
    sends.push(channel.send(FrameType.FdChunk, encodeMessage('FdChunk', { index }), chunk));
  }
  await Promise.all(sends);
}

/** Collects the `total` descriptors of a transfer whose first frame is `first`. The caller owns the result. */
export async function receiveFds(channel: FramedChannel, first: Frame, total: number, timeoutMs = DEFAULT_STEP_TIMEOUT_MS): Promise<number[]> {
  const fds = [...first.fds];
  try {
    while (fds.length < total) {
      const frame = await channel.receive(timeoutMs);
      fds.push(...frame.fds);
      if (frame.type !== FrameType.FdChunk) throw new ProtocolError(`expected an FdChunk frame, got ${FrameType[frame.type]}`);
      const { index } = decodeMessage<{ index: number }>('FdChunk', frame.body);
      if (index !== fds.length - frame.fds.length) throw new ProtocolError(`fd chunk at index ${index}, expected ${fds.length - frame.fds.length}`);
    }
    if (fds.length !== total) throw new ProtocolError(`transfer declared ${total} fds but ${fds.length} arrived`);
    return fds;
  } catch (err) {
    closeAll(fds);
    if (err instanceof ProtocolError) channel.close(err.message);
    throw err;
  }
}

export interface Ack {
  ok: boolean;
  error: string;
}

export async function sendAck(channel: FramedChannel, ok: boolean, error = ''): Promise<void> {
  await channel.send(FrameType.Ack, encodeMessage('Ack', { ok, error }));
}

/** Waits for the peer's Ack; throws its error text if it refused. */
export async function expectAck(channel: FramedChannel, what: string, timeoutMs = DEFAULT_STEP_TIMEOUT_MS): Promise<void> {
  let frame: Frame;
  try {
    frame = await channel.expect(FrameType.Ack, timeoutMs);
  } catch (err) {
    if (err instanceof ChannelClosedError) throw new Error(`${what}: the supervisor closed the connection before acknowledging`);
    throw err;
  }
  closeAll(frame.fds);
  const ack = decodeMessage<Ack>('Ack', frame.body);
  if (!ack.ok) throw new Error(`${what} refused: ${ack.error}`);
}
