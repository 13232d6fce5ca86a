/** Sends one operator command (a Control frame) to a running supervisor and returns its JSON result. */
import { FramedChannel } from '../../daemon/src/upgrade/channel';
import { FrameType } from '../../daemon/src/upgrade/frame';
import { decodeMessage, encodeMessage } from '../../daemon/src/upgrade/proto';

export async function callSupervisor<T = unknown>(sockPath: string, command: string, args: object = {}, timeoutMs = 120_000): Promise<T> {
  const channel = FramedChannel.connect(sockPath);
  try {
    await channel.send(FrameType.Control, encodeMessage('Control', { command, json: JSON.stringify(args) }));
    const frame = await channel.expect(FrameType.ControlReply, timeoutMs);
    const reply = decodeMessage<{ ok: boolean; error: string; json: string }>('ControlReply', frame.body);
    if (!reply.ok) throw new Error(reply.error);
    return (reply.json ? JSON.parse(reply.json) : null) as T;
  } finally {
    channel.close();
  }
}
