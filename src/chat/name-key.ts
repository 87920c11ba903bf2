/**
 * The keys of a contact name: what two names share when a reader could take one for the other. Names pick
 * contacts on the command line (`send alice hi`) and label their messages, so two contacts whose names differ
 * only by case ("Alice", "alice") or by look-alike characters ("Аlice" with a Cyrillic А, "a1ice", "rn" for "m")
 * must never both exist, and a name typed one way must find the contact written the other way. Two names clash
 * when either of their keys is equal:
 *
 *   folded        = F(name)            F(x) = fold(skeleton(fold(x))): the skeleton of the NFKC-casefolded name,
 *                                      folded again because prototypes can be capitals ("0" → "O"):
 *                                      "Alice" = "alice" = "Аlice" = "a1ice", "B0b" = "bob"
 *   skeletonFirst = F(skeleton(name))  look-alikes that only a case-sensitive reading sees: a capital I looks
 *                                      like a small L, so "Ian" = "lan" and "AIice" = "alice" (folding first
 *                                      turns that I into an i and erases the likeness)
 *
 *   fold(x)     = NFKC(full case folding of NFKC(x)), default-ignorable code points removed: UAX #44's
 *                 NFKC_Casefold composed from its parts (CaseFolding.txt statuses C and F)
 *   skeleton(x) = NFD(the prototype of each code point of NFD(x)), default ignorables removed (UTS #39 §4)
 *
 * The outer fold of `folded` is there because prototypes can be capitals ("0" → "O"). The tables come from
 * Unicode's data through ICU (name-key-data.ts, generated); the normalizations are the engine's own
 * (String.prototype.normalize). NAME_KEY_VERSION names both, so the store recomputes stored keys when either
 * changes (a newer Node or newer data) instead of comparing keys made by two different rules.
 */
import { CASE_FOLDING, CONFUSABLE_PROTOTYPES, NAME_KEY_DATA_VERSION } from './name-key-data.ts';

/** A code point → string table (a confusables prototype or a case folding); undefined: maps to itself. */
export interface CodePointTable {
  get(codePoint: number): string | undefined;
}

export interface NameKeyTables {
  readonly prototypes: CodePointTable;
  readonly caseFolding: CodePointTable;
}

/** Changes whenever a key could come out differently: the data, the engine's Unicode version, this algorithm. */
export const NAME_KEY_VERSION = `1/${NAME_KEY_DATA_VERSION}/engine-unicode-${engineUnicodeVersion()}`;

const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

let builtIn: NameKeyTables | undefined;

/** The tables generated from Unicode's data, parsed on first use (~6,000 entries). */
export function builtInNameKeyTables(): NameKeyTables {
  builtIn ??= {
    prototypes: parseCodePointTable(CONFUSABLE_PROTOTYPES),
    caseFolding: parseCodePointTable(CASE_FOLDING),
  };
  return builtIn;
}

export interface NameKeys {
  /** F(name): equal for names that differ by case and look-alikes. */
  readonly folded: string;
  /** F(skeleton(name)): also equal for look-alikes through a capital ("Ian", "lan"). */
  readonly skeletonFirst: string;
}

/** The keys two names share when they could be taken for each other (see the top of this file). */
export function nameKeys(name: string, tables: NameKeyTables = builtInNameKeyTables()): NameKeys {
  const f = (text: string): string => {
    const folded = nfkcCaseFold(text, tables.caseFolding);
    return nfkcCaseFold(skeleton(folded, tables.prototypes), tables.caseFolding);
  };
  return { folded: f(name), skeletonFirst: f(skeleton(name, tables.prototypes)) };
}

/** True when a reader could take one name for the other. */
export function areConfusable(a: NameKeys, b: NameKeys): boolean {
  return a.folded === b.folded || a.skeletonFirst === b.skeletonFirst;
}

export function nfkcCaseFold(text: string, caseFolding: CodePointTable): string {
  const folded = mapCodePoints(text.normalize('NFKC'), caseFolding);
  return folded.replace(DEFAULT_IGNORABLE, '').normalize('NFKC');
}

/** UTS #39's skeleton: two strings are confusable when their skeletons are equal. */
export function skeleton(text: string, prototypes: CodePointTable): string {
  const decomposed = text.normalize('NFD').replace(DEFAULT_IGNORABLE, '');
  return mapCodePoints(decomposed, prototypes).normalize('NFD');
}

function mapCodePoints(text: string, table: CodePointTable): string {
  let out = '';
  for (const char of text) out += table.get(char.codePointAt(0) as number) ?? char;
  return out;
}

/**
 * Parses the generated encoding: space-separated `<source hex>[+<run>]:<target hex>[.<target hex>...]`, where a
 * run maps consecutive sources to consecutive single code points.
 */
export function parseCodePointTable(encoded: string): CodePointTable {
  const map = new Map<number, string>();
  for (const entry of encoded.split(' ')) {
    if (entry === '') continue;
    const [head = '', target = ''] = entry.split(':');
    const [sourceHex = '', runText] = head.split('+');
    const source = Number.parseInt(sourceHex, 16);
    const targets = target.split('.').map((hex) => Number.parseInt(hex, 16));
    const run = runText === undefined ? 1 : Number(runText);
    for (let i = 0; i < run; i++) {
      const text =
        run === 1 ? String.fromCodePoint(...targets) : String.fromCodePoint((targets[0] as number) + i);
      map.set(source + i, text);
    }
  }
  return map;
}

function engineUnicodeVersion(): string {
  // The engine's normalization and property data follow its Unicode version; no clock or I/O involved.
  return typeof process === 'undefined' ? 'unknown' : (process.versions.unicode ?? 'unknown');
}
