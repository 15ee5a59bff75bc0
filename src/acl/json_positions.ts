/**
 * A strict JSON parser (RFC 8259) that remembers where every value and key is, reports
 * syntax errors with line and column, flags duplicate keys, and bounds nesting depth.
 */

/** A place in the text: 1-based line and column (UTF-16 code units), 0-based offset. */
export interface JsonLocation {
  line: number;
  column: number;
  offset: number;
}

/** Where a value is, and where its members or items are. */
export interface PositionNode {
  at: JsonLocation;
  /** For an object member: where its key is. */
  keyAt?: JsonLocation;
  items?: PositionNode[];
  members?: Map<string, PositionNode>;
}

/** A duplicate object key: JSON parsers disagree on which value wins, so it is an error. */
export interface DuplicateKey {
  pointer: string;
  at: JsonLocation;
}

/** The parsed value and its positions. */
export interface ParsedJson {
  value: unknown;
  positions: PositionNode;
  duplicateKeys: DuplicateKey[];
}

/** A syntax error at a place in the text. */
export class JsonSyntaxError extends Error {
  constructor(message: string, readonly at: JsonLocation) {
    super(message);
    this.name = "JsonSyntaxError";
  }
}

/** Default bound on nesting; a policy needs 5 levels. */
export const DEFAULT_MAX_DEPTH = 64;

/** Escapes one JSON Pointer reference token (RFC 6901). */
export function escapePointerToken(token: string): string {
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** Parses JSON text, keeping positions. Throws `JsonSyntaxError`. */
export function parseJsonWithPositions(
  text: string,
  maxDepth: number = DEFAULT_MAX_DEPTH,
): ParsedJson {
  return new Parser(text, maxDepth).parseDocument();
}

function describeChar(code: number): string {
  if (Number.isNaN(code)) return "the end of the file";
  if (code < 0x20) return `control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return `'${String.fromCharCode(code)}'`;
}

class Parser {
  #at = 0;
  #line = 1;
  #lineStart = 0;
  #depth = 0;
  readonly #duplicates: DuplicateKey[] = [];
  /** Keys and indexes from the root to the value being parsed. */
  readonly #path: (string | number)[] = [];

  constructor(readonly text: string, readonly maxDepth: number) {}

  parseDocument(): ParsedJson {
    if (this.text.charCodeAt(0) === 0xfeff) {
      this.#at = 1;
      this.#lineStart = 1;
    }
    this.skipSpace();
    if (this.#at >= this.text.length) this.fail("the file is empty; expected a JSON object");
    const positions: PositionNode = { at: this.location() };
    const value = this.parseValue(positions);
    this.skipSpace();
    if (this.#at < this.text.length) {
      this.fail(`unexpected ${this.describeHere()} after the end of the JSON value`);
    }
    return { value, positions, duplicateKeys: this.#duplicates };
  }

  pointer(): string {
    return this.#path.map((token) => `/${escapePointerToken(String(token))}`).join("");
  }

  location(offset = this.#at): JsonLocation {
    return { line: this.#line, column: offset - this.#lineStart + 1, offset };
  }

  fail(message: string, offset = this.#at): never {
    throw new JsonSyntaxError(message, this.location(offset));
  }

  describeHere(): string {
    return describeChar(this.text.charCodeAt(this.#at));
  }

  skipSpace(): void {
    const text = this.text;
    for (;;) {
      const code = text.charCodeAt(this.#at);
      if (code === 0x20 || code === 0x09 || code === 0x0d) this.#at++;
      else if (code === 0x0a) {
        this.#at++;
        this.#line++;
        this.#lineStart = this.#at;
      } else if (code === 0x2f) {
        const next = text.charCodeAt(this.#at + 1);
        if (next === 0x2f || next === 0x2a) this.fail("comments are not allowed in JSON");
        return;
      } else return;
    }
  }

  parseValue(node: PositionNode): unknown {
    const code = this.text.charCodeAt(this.#at);
    switch (code) {
      case 0x7b:
        return this.parseObject(node);
      case 0x5b:
        return this.parseArray(node);
      case 0x22:
        return this.parseString();
      case 0x74:
        return this.parseWord("true", true);
      case 0x66:
        return this.parseWord("false", false);
      case 0x6e:
        return this.parseWord("null", null);
    }
    if (code === 0x2d || (code >= 0x30 && code <= 0x39)) return this.parseNumber();
    if (code === 0x27) this.fail("strings must use double quotes, not single quotes");
    return this.fail(
      `expected a value (an object, array, string, number, true, false or null) but found ${this.describeHere()}`,
    );
  }

  enter(): void {
    if (++this.#depth > this.maxDepth) {
      this.fail(`nesting is deeper than ${this.maxDepth} levels`);
    }
  }

  parseObject(node: PositionNode): Record<string, unknown> {
    this.enter();
    const result: Record<string, unknown> = {};
    const members = new Map<string, PositionNode>();
    node.members = members;
    this.#at++;
    this.skipSpace();
    if (this.text.charCodeAt(this.#at) === 0x7d) {
      this.#at++;
      this.#depth--;
      return result;
    }
    for (;;) {
      const code = this.text.charCodeAt(this.#at);
      if (code !== 0x22) {
        if (code === 0x7d) this.fail("trailing comma before '}'");
        this.fail(`expected a property name in double quotes but found ${this.describeHere()}`);
      }
      const keyAt = this.location();
      const key = this.parseString();
      this.skipSpace();
      if (this.text.charCodeAt(this.#at) !== 0x3a) {
        this.fail(`expected ':' after the property name "${key}" but found ${this.describeHere()}`);
      }
      this.#at++;
      this.skipSpace();
      const child: PositionNode = { at: this.location(), keyAt };
      this.#path.push(key);
      const value = this.parseValue(child);
      if (members.has(key)) this.#duplicates.push({ pointer: this.pointer(), at: keyAt });
      this.#path.pop();
      members.set(key, child);
      if (key === "__proto__") {
        Object.defineProperty(result, key, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else result[key] = value;
      this.skipSpace();
      const next = this.text.charCodeAt(this.#at);
      if (next === 0x2c) {
        this.#at++;
        this.skipSpace();
        continue;
      }
      if (next === 0x7d) {
        this.#at++;
        this.#depth--;
        return result;
      }
      this.fail(
        `expected ',' or '}' after the value of "${key}" but found ${this.describeHere()}`,
      );
    }
  }

  parseArray(node: PositionNode): unknown[] {
    this.enter();
    const result: unknown[] = [];
    const items: PositionNode[] = [];
    node.items = items;
    this.#at++;
    this.skipSpace();
    if (this.text.charCodeAt(this.#at) === 0x5d) {
      this.#at++;
      this.#depth--;
      return result;
    }
    for (;;) {
      if (this.text.charCodeAt(this.#at) === 0x5d) this.fail("trailing comma before ']'");
      const child: PositionNode = { at: this.location() };
      this.#path.push(items.length);
      result.push(this.parseValue(child));
      this.#path.pop();
      items.push(child);
      this.skipSpace();
      const next = this.text.charCodeAt(this.#at);
      if (next === 0x2c) {
        this.#at++;
        this.skipSpace();
        continue;
      }
      if (next === 0x5d) {
        this.#at++;
        this.#depth--;
        return result;
      }
      this.fail(`expected ',' or ']' after an array item but found ${this.describeHere()}`);
    }
  }

  parseString(): string {
    const text = this.text;
    const start = ++this.#at;
    let at = start;
    for (;;) {
      const code = text.charCodeAt(at);
      if (code === 0x22) {
        this.#at = at + 1;
        return text.slice(start, at);
      }
      if (code === 0x5c) break;
      if (code < 0x20 || Number.isNaN(code)) this.stringError(code, at, start);
      at++;
    }
    let out = text.slice(start, at);
    for (;;) {
      const code = text.charCodeAt(at);
      if (code === 0x22) {
        this.#at = at + 1;
        return out;
      }
      if (code === 0x5c) {
        const escape = text.charCodeAt(at + 1);
        switch (escape) {
          case 0x22:
            out += '"';
            break;
          case 0x5c:
            out += "\\";
            break;
          case 0x2f:
            out += "/";
            break;
          case 0x62:
            out += "\b";
            break;
          case 0x66:
            out += "\f";
            break;
          case 0x6e:
            out += "\n";
            break;
          case 0x72:
            out += "\r";
            break;
          case 0x74:
            out += "\t";
            break;
          case 0x75: {
            const hex = text.slice(at + 2, at + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              this.fail("invalid \\u escape: expected four hex digits", at);
            }
            out += String.fromCharCode(parseInt(hex, 16));
            at += 4;
            break;
          }
          default:
            if (Number.isNaN(escape)) this.stringError(escape, at + 1, start);
            this.fail(`invalid escape '\\${String.fromCharCode(escape)}' in a string`, at);
        }
        at += 2;
        continue;
      }
      if (code < 0x20 || Number.isNaN(code)) this.stringError(code, at, start);
      out += text[at];
      at++;
    }
  }

  stringError(code: number, at: number, start: number): never {
    if (Number.isNaN(code)) {
      this.fail("unterminated string: the file ends before its closing quote", start - 1);
    }
    if (code === 0x0a) {
      this.fail("unterminated string: a line ends before its closing quote", start - 1);
    }
    this.fail(`${describeChar(code)} inside a string must be escaped`, at);
  }

  parseNumber(): number {
    const text = this.text;
    const start = this.#at;
    let at = start;
    if (text.charCodeAt(at) === 0x2d) at++;
    const digits = () => {
      const from = at;
      while (text.charCodeAt(at) >= 0x30 && text.charCodeAt(at) <= 0x39) at++;
      return at - from;
    };
    if (text.charCodeAt(at) === 0x30) {
      at++;
      if (text.charCodeAt(at) >= 0x30 && text.charCodeAt(at) <= 0x39) {
        this.fail("numbers cannot have leading zeros", start);
      }
    } else if (digits() === 0) this.fail("expected a digit after '-'", at);
    if (text.charCodeAt(at) === 0x2e) {
      at++;
      if (digits() === 0) this.fail("expected a digit after the decimal point", at);
    }
    const e = text.charCodeAt(at);
    if (e === 0x65 || e === 0x45) {
      at++;
      const sign = text.charCodeAt(at);
      if (sign === 0x2b || sign === 0x2d) at++;
      if (digits() === 0) this.fail("expected a digit in the exponent", at);
    }
    this.#at = at;
    return Number(text.slice(start, at));
  }

  parseWord<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.#at)) {
      const found = /^[A-Za-z_]+/.exec(this.text.slice(this.#at, this.#at + 20))?.[0];
      this.fail(
        `expected a value but found ${
          found ? `"${found}"` : this.describeHere()
        } (JSON words are true, false and null)`,
      );
    }
    this.#at += word.length;
    return value;
  }
}

/** Decodes a JSON Pointer into its reference tokens. */
export function pointerTokens(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer.slice(1).split("/").map((token) =>
    token.replaceAll("~1", "/").replaceAll("~0", "~")
  );
}

/**
 * Finds a pointer's place: the value's, or with `key` the member's key. A pointer that
 * reaches past the document gives the place of its deepest existing part.
 */
export function locate(root: PositionNode, pointer: string, key = false): JsonLocation {
  let node = root;
  for (const token of pointerTokens(pointer)) {
    const next = node.members?.get(token) ?? node.items?.[Number(token)];
    if (!next) return node.at;
    node = next;
  }
  return key && node.keyAt ? node.keyAt : node.at;
}
