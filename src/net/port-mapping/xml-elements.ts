/**
 * The XML a UPnP gateway sends (its device description and SOAP answers) as a tree of elements, by a small
 * strict parser made for exactly that: element names (namespace prefix dropped), their text, their children.
 * Attributes are checked for well-formedness and dropped; comments, processing instructions and the XML
 * declaration are skipped; CDATA is text. What a gateway never needs and an attacker likes is refused: a
 * DOCTYPE (so no entity can expand), entities other than the five predefined ones and character references,
 * more than `maxElements` elements or `maxDepth` levels, input over `maxChars`. It never throws: a document it
 * will not read is a value with the offset where it stopped.
 *
 * Why not a general XML library: the few elements UPnP needs do not justify one (xml2js and its sax parser are
 * ~10 times this file, expand nothing we need, and bound nothing by default).
 */

export interface XmlElement {
  /** Local name: `s:Envelope` is `Envelope`. */
  readonly name: string;
  readonly children: XmlElement[];
  /** The element's own text (not its children's), entities decoded, white space kept. */
  text: string;
}

export interface XmlLimits {
  maxChars: number;
  maxDepth: number;
  maxElements: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxChars: 65_536, maxDepth: 24, maxElements: 2048 };

export const XmlErrorCode = {
  tooLarge: 'XML_TOO_LARGE',
  tooDeep: 'XML_TOO_DEEP',
  tooManyElements: 'XML_TOO_MANY_ELEMENTS',
  doctype: 'XML_DOCTYPE',
  badEntity: 'XML_BAD_ENTITY',
  badTag: 'XML_BAD_TAG',
  mismatchedTag: 'XML_MISMATCHED_TAG',
  unterminated: 'XML_UNTERMINATED',
  noRoot: 'XML_NO_ROOT',
  textOutsideRoot: 'XML_TEXT_OUTSIDE_ROOT',
} as const;
export type XmlErrorCode = (typeof XmlErrorCode)[keyof typeof XmlErrorCode];

export type XmlParseResult =
  | { ok: true; root: XmlElement }
  | { ok: false; code: XmlErrorCode; offset: number };

const NAME = /[A-Za-z_][A-Za-z0-9._:-]*/y;
const ATTRIBUTE = /\s+[A-Za-z_][A-Za-z0-9._:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*')/y;
const SPACE = /\s*/y;
const PREDEFINED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['quot', '"'],
  ['apos', "'"],
]);

class XmlRefusal {
  readonly code: XmlErrorCode;
  readonly offset: number;
  constructor(code: XmlErrorCode, offset: number) {
    this.code = code;
    this.offset = offset;
  }
}

export function parseXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlParseResult {
  if (text.length > limits.maxChars)
    return { ok: false, code: XmlErrorCode.tooLarge, offset: limits.maxChars };
  try {
    return { ok: true, root: new XmlReader(text, limits).read() };
  } catch (error) {
    if (error instanceof XmlRefusal) return { ok: false, code: error.code, offset: error.offset };
    throw error;
  }
}

/** Every descendant of `element` (depth first, document order) named `name`. */
export function descendantsNamed(element: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement): void => {
    for (const child of e.children) {
      if (child.name === name) out.push(child);
      walk(child);
    }
  };
  walk(element);
  return out;
}

/** The trimmed text of the first child named `name`, or undefined. */
export function childText(element: XmlElement, name: string): string | undefined {
  return element.children.find((c) => c.name === name)?.text.trim();
}

class XmlReader {
  readonly #text: string;
  readonly #limits: XmlLimits;
  #at = 0;
  #elements = 0;

  constructor(text: string, limits: XmlLimits) {
    // A byte-order mark is not content.
    this.#text = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    this.#limits = limits;
  }

  read(): XmlElement {
    let root: XmlElement | undefined;
    const stack: XmlElement[] = [];
    const text = this.#text;
    while (this.#at < text.length) {
      const lt = text.indexOf('<', this.#at);
      const chunk = text.slice(this.#at, lt < 0 ? text.length : lt);
      if (chunk.length > 0) {
        const top = stack[stack.length - 1];
        if (top === undefined) {
          if (chunk.trim() !== '') this.#refuse(XmlErrorCode.textOutsideRoot);
        } else {
          top.text += this.#decodeEntities(chunk);
        }
      }
      if (lt < 0) break;
      this.#at = lt;
      if (text.startsWith('<?', lt)) this.#skipPast('?>');
      else if (text.startsWith('<!--', lt)) this.#skipPast('-->');
      else if (text.startsWith('<![CDATA[', lt)) {
        const top = stack[stack.length - 1];
        if (top === undefined) this.#refuse(XmlErrorCode.textOutsideRoot);
        const end = this.#indexOrRefuse(']]>', lt + 9);
        top.text += text.slice(lt + 9, end);
        this.#at = end + 3;
      } else if (text.startsWith('<!', lt)) this.#refuse(XmlErrorCode.doctype);
      else if (text.startsWith('</', lt)) {
        this.#at += 2;
        const name = localName(this.#name());
        this.#match(SPACE);
        if (text[this.#at] !== '>') this.#refuse(XmlErrorCode.badTag);
        this.#at++;
        const open = stack.pop();
        if (open === undefined || open.name !== name) this.#refuse(XmlErrorCode.mismatchedTag);
      } else {
        if (root !== undefined && stack.length === 0) this.#refuse(XmlErrorCode.textOutsideRoot);
        this.#at++;
        const element: XmlElement = { name: localName(this.#name()), children: [], text: '' };
        if (++this.#elements > this.#limits.maxElements) this.#refuse(XmlErrorCode.tooManyElements);
        while (this.#match(ATTRIBUTE)) {
          // Attributes carry nothing UPnP needs (namespaces are matched by local name).
        }
        this.#match(SPACE);
        const parent = stack[stack.length - 1];
        if (parent === undefined) root = element;
        else parent.children.push(element);
        if (text.startsWith('/>', this.#at)) {
          this.#at += 2;
        } else if (text[this.#at] === '>') {
          this.#at++;
          stack.push(element);
          if (stack.length > this.#limits.maxDepth) this.#refuse(XmlErrorCode.tooDeep);
        } else {
          this.#refuse(XmlErrorCode.badTag);
        }
      }
    }
    if (stack.length > 0) this.#refuse(XmlErrorCode.unterminated);
    if (root === undefined) this.#refuse(XmlErrorCode.noRoot);
    return root;
  }

  #name(): string {
    NAME.lastIndex = this.#at;
    const match = NAME.exec(this.#text);
    if (match === null) this.#refuse(XmlErrorCode.badTag);
    this.#at += match[0].length;
    return match[0];
  }

  #match(pattern: RegExp): boolean {
    pattern.lastIndex = this.#at;
    const match = pattern.exec(this.#text);
    if (match === null || match[0].length === 0) return false;
    this.#at += match[0].length;
    return true;
  }

  #skipPast(terminator: string): void {
    this.#at = this.#indexOrRefuse(terminator, this.#at) + terminator.length;
  }

  #indexOrRefuse(needle: string, from: number): number {
    const index = this.#text.indexOf(needle, from);
    if (index < 0) this.#refuse(XmlErrorCode.unterminated);
    return index;
  }

  #decodeEntities(chunk: string): string {
    if (!chunk.includes('&')) return chunk;
    return chunk.replace(/&([^;&]{0,10});?/g, (whole, body: string) => {
      if (!whole.endsWith(';')) this.#refuse(XmlErrorCode.badEntity);
      const predefined = PREDEFINED_ENTITIES.get(body);
      if (predefined !== undefined) return predefined;
      const code = /^#[0-9]{1,7}$/.test(body)
        ? Number.parseInt(body.slice(1), 10)
        : /^#x[0-9A-Fa-f]{1,6}$/.test(body)
          ? Number.parseInt(body.slice(2), 16)
          : undefined;
      if (code === undefined || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || code === 0) {
        this.#refuse(XmlErrorCode.badEntity);
      }
      return String.fromCodePoint(code);
    });
  }

  #refuse(code: XmlErrorCode): never {
    throw new XmlRefusal(code, this.#at);
  }
}

function localName(name: string): string {
  const colon = name.lastIndexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}
