/**
 * Noise handshake patterns as data (https://noiseprotocol.org/noise.html §7.4 one-way, §7.5 interactive,
 * §7.6 deferred; §9.3 psk modifiers). Written as in the spec; the engine in handshake-state.ts runs any of them.
 */

export const NOISE_TOKENS = ['e', 's', 'ee', 'es', 'se', 'ss', 'psk'] as const;
export type NoiseToken = (typeof NOISE_TOKENS)[number];

export interface HandshakePattern {
  readonly name: string;
  /** Pre-message tokens: keys the responder knows of the initiator (`-> s`) and vice versa (`<- s`). */
  readonly initiatorPre: readonly NoiseToken[];
  readonly responderPre: readonly NoiseToken[];
  /** Message i is sent by the initiator when i is even, by the responder when odd. */
  readonly messages: readonly (readonly NoiseToken[])[];
  /** One-way patterns (N, K, X): after the single message only the initiator sends. */
  readonly isOneWay: boolean;
  readonly hasPsk: boolean;
}

interface PatternText {
  readonly pre?: readonly string[];
  readonly messages: readonly string[];
}

const BASE_PATTERNS: Readonly<Record<string, PatternText>> = {
  N: { pre: ['<- s'], messages: ['-> e, es'] },
  K: { pre: ['-> s', '<- s'], messages: ['-> e, es, ss'] },
  X: { pre: ['<- s'], messages: ['-> e, es, s, ss'] },
  NN: { messages: ['-> e', '<- e, ee'] },
  NK: { pre: ['<- s'], messages: ['-> e, es', '<- e, ee'] },
  NX: { messages: ['-> e', '<- e, ee, s, es'] },
  XN: { messages: ['-> e', '<- e, ee', '-> s, se'] },
  XK: { pre: ['<- s'], messages: ['-> e, es', '<- e, ee', '-> s, se'] },
  XX: { messages: ['-> e', '<- e, ee, s, es', '-> s, se'] },
  KN: { pre: ['-> s'], messages: ['-> e', '<- e, ee, se'] },
  KK: { pre: ['-> s', '<- s'], messages: ['-> e, es, ss', '<- e, ee, se'] },
  KX: { pre: ['-> s'], messages: ['-> e', '<- e, ee, se, s, es'] },
  IN: { messages: ['-> e, s', '<- e, ee, se'] },
  IK: { pre: ['<- s'], messages: ['-> e, es, s, ss', '<- e, ee, se'] },
  IX: { messages: ['-> e, s', '<- e, ee, se, s, es'] },
  NK1: { pre: ['<- s'], messages: ['-> e', '<- e, ee, es'] },
  NX1: { messages: ['-> e', '<- e, ee, s', '-> es'] },
  X1N: { messages: ['-> e', '<- e, ee', '-> s', '<- se'] },
  X1K: { pre: ['<- s'], messages: ['-> e, es', '<- e, ee', '-> s', '<- se'] },
  XK1: { pre: ['<- s'], messages: ['-> e', '<- e, ee, es', '-> s, se'] },
  X1K1: { pre: ['<- s'], messages: ['-> e', '<- e, ee, es', '-> s', '<- se'] },
  X1X: { messages: ['-> e', '<- e, ee, s, es', '-> s', '<- se'] },
  XX1: { messages: ['-> e', '<- e, ee, s', '-> es, s, se'] },
  X1X1: { messages: ['-> e', '<- e, ee, s', '-> es, s', '<- se'] },
  K1N: { pre: ['-> s'], messages: ['-> e', '<- e, ee', '-> se'] },
  K1K: { pre: ['-> s', '<- s'], messages: ['-> e, es', '<- e, ee', '-> se'] },
  KK1: { pre: ['-> s', '<- s'], messages: ['-> e', '<- e, ee, se, es'] },
  K1K1: { pre: ['-> s', '<- s'], messages: ['-> e', '<- e, ee, es', '-> se'] },
  K1X: { pre: ['-> s'], messages: ['-> e', '<- e, ee, s, es', '-> se'] },
  KX1: { pre: ['-> s'], messages: ['-> e', '<- e, ee, se, s', '-> es'] },
  K1X1: { pre: ['-> s'], messages: ['-> e', '<- e, ee, s', '-> se, es'] },
  I1N: { messages: ['-> e, s', '<- e, ee', '-> se'] },
  I1K: { pre: ['<- s'], messages: ['-> e, es, s', '<- e, ee', '-> se'] },
  IK1: { pre: ['<- s'], messages: ['-> e, s', '<- e, ee, se, es'] },
  I1K1: { pre: ['<- s'], messages: ['-> e, s', '<- e, ee, es', '-> se'] },
  I1X: { messages: ['-> e, s', '<- e, ee, s, es', '-> se'] },
  IX1: { messages: ['-> e, s', '<- e, ee, se, s', '-> es'] },
  I1X1: { messages: ['-> e, s', '<- e, ee, s', '-> se, es'] },
};

function parseTokens(line: string, arrow: '->' | '<-', where: string): NoiseToken[] {
  if (!line.startsWith(`${arrow} `)) throw new Error(`pattern ${where}: expected ${arrow} in "${line}"`);
  return line
    .slice(3)
    .split(',')
    .map((t) => {
      const token = t.trim();
      if (!(NOISE_TOKENS as readonly string[]).includes(token))
        throw new Error(`pattern ${where}: bad "${token}"`);
      return token as NoiseToken;
    });
}

/**
 * The pattern of a Noise pattern name ("XX", "IKpsk2", "NNpsk0+psk2"), or undefined if unknown. psk0 puts a
 * `psk` token first in message 1; pskN (N ≥ 1) appends one to message N (§9.3).
 */
export function handshakePattern(name: string): HandshakePattern | undefined {
  const match = /^([A-Z0-9]+?)((?:psk\d)(?:\+psk\d)*)?$/.exec(name);
  const base = match?.[1] === undefined ? undefined : BASE_PATTERNS[match[1]];
  if (match === undefined || match === null || base === undefined) return undefined;
  const pre = base.pre ?? [];
  const messages = base.messages.map((line, i) => parseTokens(line, i % 2 === 0 ? '->' : '<-', name));
  const pskPositions = (match[2] ?? '').split('+').filter((m) => m !== '');
  for (const modifier of pskPositions) {
    const position = Number(modifier.slice(3));
    if (position === 0) messages[0]?.unshift('psk');
    else if (position <= messages.length) messages[position - 1]?.push('psk');
    else return undefined;
  }
  return {
    name,
    initiatorPre: pre.filter((l) => l.startsWith('->')).flatMap((l) => parseTokens(l, '->', name)),
    responderPre: pre.filter((l) => l.startsWith('<-')).flatMap((l) => parseTokens(l, '<-', name)),
    messages,
    isOneWay: messages.length === 1,
    hasPsk: pskPositions.length > 0,
  };
}

/** What a side must be given before a handshake of this pattern can run. */
export function keysNeeded(
  pattern: HandshakePattern,
  isInitiator: boolean,
): { isStaticNeeded: boolean; isRemoteStaticNeeded: boolean; pskCount: number; hasPreEphemeral: boolean } {
  const myPre = isInitiator ? pattern.initiatorPre : pattern.responderPre;
  const theirPre = isInitiator ? pattern.responderPre : pattern.initiatorPre;
  const isMine = (i: number): boolean => i % 2 === (isInitiator ? 0 : 1);
  return {
    isStaticNeeded: myPre.includes('s') || pattern.messages.some((m, i) => isMine(i) && m.includes('s')),
    isRemoteStaticNeeded: theirPre.includes('s'),
    pskCount: pattern.messages.flat().filter((t) => t === 'psk').length,
    hasPreEphemeral: myPre.includes('e') || theirPre.includes('e'),
  };
}

export interface NoiseProtocol {
  readonly name: string;
  readonly pattern: HandshakePattern;
  /** The hash function's Noise name: BLAKE2b, BLAKE2s, SHA256 or SHA512. */
  readonly hashName: string;
}

/** Parses "Noise_<pattern>_25519_ChaChaPoly_<hash>"; undefined for anything this engine does not run. */
export function parseProtocolName(name: string): NoiseProtocol | undefined {
  const parts = name.split('_');
  if (parts.length !== 5 || parts[0] !== 'Noise' || parts[2] !== '25519' || parts[3] !== 'ChaChaPoly')
    return undefined;
  const pattern = handshakePattern(parts[1] ?? '');
  const hashName = parts[4] ?? '';
  if (pattern === undefined || !['BLAKE2b', 'BLAKE2s', 'SHA256', 'SHA512'].includes(hashName))
    return undefined;
  return { name, pattern, hashName };
}
