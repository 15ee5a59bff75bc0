/**
 * CONNECT refusals the broker answers itself, before aedes: MQTT 5 (aedes speaks 3.1.1 only
 * and would answer in 3.1.1's format, which an MQTT 5 client misreads as a protocol error)
 * and MQTT 3.1 client ids over 23 characters (checked on the id the client sent, not on the
 * organization-namespaced one aedes would check).
 */

import type { Client } from "npm:aedes@1.2.0";
import { MQTT31_MAX_CLIENT_ID_LENGTH } from "../acl/mod.ts";

/** MQTT 3.1 / 3.1.1 CONNACK return code: identifier rejected. */
export const IDENTIFIER_REJECTED = 2;
/** MQTT 5 CONNACK reason code: unsupported protocol version. */
export const UNSUPPORTED_PROTOCOL_VERSION = 0x84;

/** Why the local broker refuses MQTT 5, sent to MQTT 5 clients as the CONNACK reason string. */
export const MQTT5_REFUSAL =
  "cloudsignal dev's local broker speaks MQTT 3.1.1 only (CloudSignal's " +
  "hosted broker speaks MQTT 5); connect with MQTT 3.1.1 (protocol version 4)";

/** A refusal: the CONNACK to send and the sentence to log. */
export interface Refusal {
  connack: Uint8Array;
  why: string;
}

/** MQTT's variable-length encoding of a remaining length (1 to 4 bytes). */
export function variableLength(length: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return bytes;
}

/** A CONNACK refusing the connection, in the format of the client's protocol version. */
export function connackBytes(protocolVersion: number, code: number, reason?: string): Uint8Array {
  if (protocolVersion !== 5) return new Uint8Array([0x20, 0x02, 0x00, code]);
  const properties: number[] = [];
  if (reason !== undefined) {
    const text = new TextEncoder().encode(reason);
    properties.push(0x1f, text.length >> 8, text.length & 0xff, ...text);
  }
  const body = [0x00, code, ...variableLength(properties.length), ...properties];
  return new Uint8Array([0x20, ...variableLength(body.length), ...body]);
}

/** The refusal a CONNECT gets before authentication, or null to let it through. */
export function refusalOf(packet: { protocolVersion?: number; clientId?: string }): Refusal | null {
  if (packet.protocolVersion === 5) {
    return {
      connack: connackBytes(5, UNSUPPORTED_PROTOCOL_VERSION, MQTT5_REFUSAL),
      why: "MQTT 5 is not supported by this local broker (MQTT 3.1.1 only); " +
        "CONNACK 0x84 unsupported protocol version",
    };
  }
  const id = packet.clientId ?? "";
  if (packet.protocolVersion === 3 && id.length > MQTT31_MAX_CLIENT_ID_LENGTH) {
    return {
      connack: connackBytes(3, IDENTIFIER_REJECTED),
      why: `MQTT 3.1 client id of ${id.length} characters (3.1 allows ` +
        `${MQTT31_MAX_CLIENT_ID_LENGTH}); CONNACK 2 identifier rejected`,
    };
  }
  return null;
}

/** Sends the refusal's CONNACK, then closes the connection and calls `done`. */
export function refuse(client: Client, refusal: Refusal, done: () => void): void {
  const socket = client.conn as unknown as {
    end(data: Uint8Array, callback: () => void): void;
  };
  socket.end(refusal.connack, done);
}
