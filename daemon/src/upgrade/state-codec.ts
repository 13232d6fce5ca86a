/**
 * Encodes a HandoverState into its versioned envelope and back. Decoding checks the magic, the version range
 * and the SHA-256 of the body before it trusts a byte, and migrates older versions to the current shape.
 * It does not touch descriptors: the fd table in the state is plain data.
 */
import { createHash } from 'crypto';
import { decodeMessage, encodeMessage } from './proto';
import { HANDOVER_MAGIC, HANDOVER_MIN_VERSION, HANDOVER_VERSION, HandoverState } from './state-types';

interface Envelope {
  magic: number;
  version: number;
  sha256: Buffer;
  body: Buffer;
}

export class HandoverDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandoverDecodeError';
  }
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** The envelope bytes for `state`, written as version `version` (tests write old versions). */
export function encodeHandover(state: HandoverState, version = HANDOVER_VERSION): Buffer {
  const body = encodeMessage('HandoverState', state);
  return encodeMessage('HandoverEnvelope', { magic: HANDOVER_MAGIC, version, sha256: sha256(body), body });
}

export interface DecodedHandover {
  version: number;
  state: HandoverState;
}

export function decodeHandover(bytes: Uint8Array): DecodedHandover {
  let envelope: Envelope;
  try {
    envelope = decodeMessage<Envelope>('HandoverEnvelope', bytes);
  } catch (err) {
    throw new HandoverDecodeError(`Cannot decode the handover envelope: ${(err as Error).message}`);
  }
  if (envelope.magic !== HANDOVER_MAGIC) {
    throw new HandoverDecodeError(`Not a handover state: magic 0x${envelope.magic.toString(16)}`);
  }
  if (envelope.version < HANDOVER_MIN_VERSION || envelope.version > HANDOVER_VERSION) {
    throw new HandoverDecodeError(
      `Cannot restore handover state version ${envelope.version}: this build reads ${HANDOVER_MIN_VERSION}..${HANDOVER_VERSION}`,
    );
  }
  if (!sha256(envelope.body).equals(envelope.sha256)) {
    throw new HandoverDecodeError('Handover state checksum mismatch: the state is corrupt');
  }
  let state: HandoverState;
  try {
    state = decodeMessage<HandoverState>('HandoverState', envelope.body);
  } catch (err) {
    throw new HandoverDecodeError(`Cannot decode the handover state: ${(err as Error).message}`);
  }
  return { version: envelope.version, state: migrate(envelope.version, state) };
}

/** Brings an older state to the current shape. v1 -> v2: no journal (a v1 daemon kept none). */
function migrate(version: number, state: HandoverState): HandoverState {
  if (version < 2) return { ...state, journalPath: '' };
  return state;
}

/** Checks the fd table against the descriptors that came with it. */
export function checkFdCount(state: HandoverState, fdCount: number): void {
  if (state.fds.length !== fdCount) {
    throw new HandoverDecodeError(`Handover state lists ${state.fds.length} fds but ${fdCount} arrived`);
  }
}
