/**
 * A sender's file name made safe to create in our downloads dir (docs/THREAT-MODEL.md "Files"). The name is
 * remote input: it must never leave the directory, hide itself, pass for something else on a terminal, or be a
 * name the file system treats specially. So: only the last path component (both separators), NFC, every
 * control, format (bidi, zero-width), separator, unassigned, private-use or Windows-reserved character replaced
 * by "_", dots and spaces trimmed at both ends (no "..", no hidden ".name", no Windows-invisible trailing dot),
 * Windows device names (CON, NUL, COM1, …) prefixed, at most MAX_SAFE_NAME_BYTES of UTF-8 keeping the
 * extension, and "file" when nothing is left. Never throws.
 */

/** Room under the usual 255-byte name limit for " (123)" and the ".<id>.part" of the partial file. */
export const MAX_SAFE_NAME_BYTES = 200;
/** The longest extension kept whole when a long name is shortened. */
const MAX_EXTENSION_BYTES = 16;
const FALLBACK_NAME = 'file';
const UNSAFE_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cn}\p{Co}\p{Cs}<>:"|?*\u{FFFD}]/gu;
const DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$|clock\$)(\.|$)/iu;

export function safeFileName(raw: string): string {
  const last = raw.split(/[/\\]/).filter((part) => part.length > 0);
  let name = (last[last.length - 1] ?? '').normalize('NFC');
  name = name.replace(UNSAFE_CHARACTERS, '_');
  // Any other white space (no-break, ideographic...) reads as a space: keep one kind.
  name = name.replace(/\s/gu, ' ');
  name = name.replace(/^[ .]+/u, '').replace(/[ .]+$/u, '');
  if (DEVICE_NAME.test(name)) name = `_${name}`;
  name = shorten(name, MAX_SAFE_NAME_BYTES);
  return name.length === 0 ? FALLBACK_NAME : name;
}

/** The name's stem and extension ("report", ".pdf"); a leading dot or a long tail is no extension. */
export function splitExtension(name: string): { stem: string; extension: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return { stem: name, extension: '' };
  const extension = name.slice(dot);
  if (Buffer.byteLength(extension) > MAX_EXTENSION_BYTES) return { stem: name, extension: '' };
  const stem = name.slice(0, dot);
  // "archive.tar.gz" numbers as "archive (1).tar.gz".
  if (/\.tar$/iu.test(stem) && stem.length > 4)
    return { stem: stem.slice(0, -4), extension: `${stem.slice(-4)}${extension}` };
  return { stem, extension };
}

/** The nth alternative when name is taken: "report (n).pdf" (n ≥ 1); n = 0 is the name itself. */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const { stem, extension } = splitExtension(name);
  return `${stem} (${n})${extension}`;
}

function shorten(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const { stem, extension } = splitExtension(name);
  return `${fitBytes(stem, maxBytes - Buffer.byteLength(extension)).replace(/[ .]+$/u, '')}${extension}`;
}

/** The longest prefix of text within maxBytes of UTF-8, cut between code points. */
function fitBytes(text: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}
