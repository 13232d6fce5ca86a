/**
 * Framing of the supervisor protocol: an 8-byte header (u32 body length, u16 frame type, u16 fd count, little
 * endian) then the body. Pure functions and limits only; channel.ts moves frames over a socket.
 */

export const FRAME_HEADER_SIZE = 8;
/** Linux accepts at most 253 descriptors per sendmsg (SCM_MAX_FD); keep a margin. */
export const MAX_FDS_PER_FRAME = 250;

export enum FrameType {
  SaveState = 1,
  FetchState = 2,
  StateReply = 3,
  FdChunk = 4,
  Ack = 5,
  Link = 6,
  RequestState = 7,
  Control = 8,
  ControlReply = 9,
  StateDelta = 10,
}

export interface FrameLimits {
  /** Largest body accepted, in bytes. */
  maxBodyBytes: number;
  /** Most descriptors one connection may receive in total. */
  maxFdsTotal: number;
  /** Longest time a started frame may take to arrive completely (slow loris guard). */
  frameTimeoutMs: number;
}

export const DEFAULT_LIMITS: FrameLimits = {
  maxBodyBytes: 64 * 1024 * 1024,
  maxFdsTotal: 65536,
  frameTimeoutMs: 10_000,
};

export interface FrameHeader {
  length: number;
  type: number;
  fdCount: number;
}

export interface Frame {
  type: FrameType;
  body: Buffer;
  /** Descriptors that came with the frame; the receiver owns them. */
  fds: number[];
}

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function encodeFrameHeader(type: FrameType, bodyLength: number, fdCount: number): Buffer {
  if (fdCount > MAX_FDS_PER_FRAME) throw new RangeError(`A frame carries at most ${MAX_FDS_PER_FRAME} fds, not ${fdCount}`);
  const header = Buffer.alloc(FRAME_HEADER_SIZE);
  header.writeUInt32LE(bodyLength, 0);
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(fdCount, 6);
  return header;
}

/** Parses and validates a header; throws ProtocolError naming what is wrong. */
export function decodeFrameHeader(bytes: Buffer, limits: FrameLimits): FrameHeader {
  const header = { length: bytes.readUInt32LE(0), type: bytes.readUInt16LE(4), fdCount: bytes.readUInt16LE(6) };
  if (!(header.type in FrameType) || typeof FrameType[header.type] !== 'string') {
    throw new ProtocolError(`unknown frame type ${header.type}`);
  }
  if (header.length > limits.maxBodyBytes) {
    throw new ProtocolError(`frame of ${header.length} bytes exceeds the ${limits.maxBodyBytes}-byte limit`);
  }
  if (header.fdCount > MAX_FDS_PER_FRAME) {
    throw new ProtocolError(`frame declares ${header.fdCount} fds, more than ${MAX_FDS_PER_FRAME}`);
  }
  return header;
}
