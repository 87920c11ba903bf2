/**
 * Finds references from a file of the repository to paths outside it: what would make a clone fail where it
 * stands alone. Static, on the text of one file (test/standalone.test.ts runs it over the repository):
 *
 * - names of things that live beside the repository on the machine it was written on (FOREIGN_NAMES);
 * - relative module specifiers (import / export … from, import(), require()) and `new URL(spec, import.meta.url)`,
 *   resolved against the file's folder;
 * - `join(…)` / `resolve(…)` (also `path.join`, `path.resolve`) whose first argument is anchored in the repository —
 *   `import.meta.dirname`, `dirname(fileURLToPath(import.meta.url))`, a constant of this file built that way, or an
 *   imported name that says it is a root (`REPO_ROOT`) — with string-literal segments after it;
 * - Markdown links `[text](path)`, resolved against the document's folder.
 * Each must stay inside the repository root. A path built from anything else (a temp dir, user input) is not
 * followed: this catches the ways the code base actually reaches for files, not every conceivable one.
 */
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface OutsideReference {
  /** 1-based line of the reference. */
  readonly line: number;
  /** The text that refers outside, as written. */
  readonly text: string;
  readonly why: string;
}

/** Things that exist only beside the repository where it was first written; none may be named. */
export const FOREIGN_NAMES: readonly RegExp[] = [
  /\.\.\/shared(?![\w-])/,
  /\/work\//,
  /shared\/vectors/,
  /shared\/tools/,
  /DESIGN\.md/,
];

const CODE_EXTENSIONS = ['.ts', '.js', '.mjs', '.cjs'];

/** Every reference in `source` (the text of `file`, an absolute path) that leaves `repoRoot`. */
export function findOutsideReferences(source: string, file: string, repoRoot: string): OutsideReference[] {
  const found: OutsideReference[] = [];
  const lineOf = (index: number): number => source.slice(0, index).split('\n').length;
  const report = (index: number, text: string, why: string): void => {
    found.push({ line: lineOf(index), text, why });
  };
  for (const name of FOREIGN_NAMES) {
    for (const match of source.matchAll(new RegExp(name.source, 'g'))) {
      report(match.index, match[0], 'names a path outside the repository');
    }
  }
  const folder = dirname(file);
  const checkPath = (index: number, text: string, target: string): void => {
    if (!isInside(target, repoRoot)) {
      report(index, text, `resolves to ${target}, outside the repository`);
    }
  };
  if (CODE_EXTENSIONS.some((ext) => file.endsWith(ext))) {
    for (const { index, specifier } of relativeSpecifiers(source)) {
      checkPath(index, specifier, resolve(folder, specifier));
    }
    for (const { index, text, target } of anchoredPathCalls(source, folder, repoRoot)) {
      checkPath(index, text, target);
    }
  }
  if (file.endsWith('.md')) {
    for (const match of source.matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('#')) continue;
      checkPath(match.index, link, resolve(folder, link.split('#')[0]!));
    }
  }
  return found;
}

/** True when `path` is the root or below it. */
export function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return (
    rel === '' ||
    (rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep) && !/^[a-z]:/i.test(rel))
  );
}

/** Module specifiers and import.meta.url-relative URLs that start with "." or "/". */
function relativeSpecifiers(source: string): Array<{ index: number; specifier: string }> {
  const patterns = [
    /\bfrom\s+(['"])([^'"]+)\1/g,
    /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g,
    /\brequire\s*\(\s*(['"])([^'"]+)\1\s*\)/g,
    /\bimport\s+(['"])([^'"]+)\1/g,
    /\bnew\s+URL\s*\(\s*(['"`])([^'"`$]*)[^)]*?,\s*import\.meta\.url\s*\)/g,
  ];
  const out: Array<{ index: number; specifier: string }> = [];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      const specifier = match[2]!;
      if (specifier.startsWith('.') || specifier.startsWith('/')) out.push({ index: match.index, specifier });
    }
  }
  return out;
}

/**
 * join/resolve calls anchored in the repository, evaluated with this file's constants (in source order, so a
 * constant is known to the calls after it).
 */
function anchoredPathCalls(
  source: string,
  folder: string,
  repoRoot: string,
): Array<{ index: number; text: string; target: string }> {
  const constants = new Map<string, string>();
  const out: Array<{ index: number; text: string; target: string }> = [];
  const evaluate = (expression: string): string | undefined =>
    evaluatePath(expression.trim(), folder, repoRoot, constants);
  const call = /\b(?:path\.)?(join|resolve)\s*\(/g;
  const constant = /\b(?:const|let)\s+([A-Za-z_$][\w$]*)\s*=\s*/g;
  const events = [
    ...[...source.matchAll(call)].map((m) => ({
      kind: 'call' as const,
      index: m.index,
      open: m.index + m[0].length,
    })),
    ...[...source.matchAll(constant)].map((m) => ({
      kind: 'const' as const,
      index: m.index,
      name: m[1]!,
      start: m.index + m[0].length,
    })),
  ].sort((a, b) => a.index - b.index);
  for (const event of events) {
    if (event.kind === 'const') {
      const value = evaluate(source.slice(event.start, statementEnd(source, event.start)));
      if (value !== undefined) constants.set(event.name, value);
      continue;
    }
    const close = matchingParen(source, event.open - 1);
    if (close === undefined) continue;
    const text = source.slice(event.index, close + 1);
    const target = evaluate(text);
    if (target !== undefined) out.push({ index: event.index, text, target });
  }
  return out;
}

/**
 * The absolute path an expression stands for, when it is anchored in the repository; undefined otherwise
 * (including join/resolve calls that start from anything we cannot place, such as a string relative to cwd).
 */
function evaluatePath(
  expression: string,
  folder: string,
  repoRoot: string,
  constants: ReadonlyMap<string, string>,
): string | undefined {
  if (expression === 'import.meta.dirname' || expression === '__dirname') return folder;
  if (/^(?:path\.)?dirname\(\s*fileURLToPath\(\s*import\.meta\.url\s*\)\s*\)$/.test(expression))
    return folder;
  const url = /^fileURLToPath\(\s*new URL\(\s*(['"])([^'"]*)\1\s*,\s*import\.meta\.url\s*\)\s*\)$/.exec(
    expression,
  );
  if (url !== null) return resolve(folder, url[2]!);
  if (/^[A-Za-z_$][\w$]*$/.test(expression)) {
    // An imported name that calls itself a root (REPO_ROOT, repoRoot) is taken at its word.
    return constants.get(expression) ?? (/root$/i.test(expression) ? repoRoot : undefined);
  }
  const call = /^(?:path\.)?(join|resolve)\s*\(/.exec(expression);
  if (call === null || matchingParen(expression, call[0].length - 1) !== expression.length - 1)
    return undefined;
  const args = splitArguments(expression.slice(call[0].length, -1));
  const base = args[0] === undefined ? undefined : evaluatePath(args[0], folder, repoRoot, constants);
  if (base === undefined) return undefined;
  const segments: string[] = [];
  for (const arg of args.slice(1)) {
    const literal = /^(['"])([^'"]*)\1$/.exec(arg);
    if (literal === null) {
      // A segment we cannot see: judge the path built up to it.
      const nested = evaluatePath(arg, folder, repoRoot, constants);
      if (nested === undefined) break;
      segments.push(nested);
      continue;
    }
    segments.push(literal[2]!);
  }
  return call[1] === 'join' ? join(base, ...segments) : resolve(base, ...segments);
}

/** Index of the parenthesis closing the one at `open`, skipping strings; undefined when unbalanced. */
function matchingParen(text: string, open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') {
      i = stringEnd(text, i);
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return c === ')' ? i : undefined;
    }
  }
  return undefined;
}

/** Index of the quote that closes the string starting at `start`. */
function stringEnd(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return text.length;
}

/** Top-level comma-separated arguments of an argument list's inside. */
function splitArguments(inside: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inside.length; i++) {
    const c = inside[i]!;
    if (c === "'" || c === '"' || c === '`') i = stringEnd(inside, i);
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      args.push(inside.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = inside.slice(start).trim();
  if (last !== '') args.push(last);
  return args;
}

/** End of the statement starting at `start`: the first `;` or line end outside brackets and strings. */
function statementEnd(source: string, start: number): number {
  let depth = 0;
  for (let i = start; i < source.length; i++) {
    const c = source[i]!;
    if (c === "'" || c === '"' || c === '`') i = stringEnd(source, i);
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if ((c === ';' || c === '\n') && depth <= 0) return i;
  }
  return source.length;
}
