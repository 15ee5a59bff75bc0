/**
 * Release archives and checksums, written in TypeScript so they are the same on every build
 * machine: `.tar.gz` (ustar) and `.zip` (deflate) with fixed owners and times, and a
 * SHA-256 list in the format `sha256sum -c` reads.
 */

/** A file to put in an archive. */
export interface ArchiveEntry {
  /** Path inside the archive, with `/` separators. */
  name: string;
  data: Uint8Array;
  /** POSIX mode, e.g. 0o755 for an executable. */
  mode: number;
}

const encoder = new TextEncoder();

async function compress(data: Uint8Array, format: CompressionFormat): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream(format),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Hex SHA-256 of `data`. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function octal(value: number, width: number): string {
  const text = value.toString(8);
  if (text.length > width - 1) throw new Error(`${value} does not fit a tar header field`);
  return text.padStart(width - 1, "0") + "\0";
}

function tarHeader(entry: ArchiveEntry, mtime: number): Uint8Array {
  const name = encoder.encode(entry.name);
  if (name.length > 100) throw new Error(`archive path too long for ustar: ${entry.name}`);
  const header = new Uint8Array(512);
  const put = (offset: number, text: string | Uint8Array) =>
    header.set(typeof text === "string" ? encoder.encode(text) : text, offset);
  put(0, name);
  put(100, octal(entry.mode, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(entry.data.length, 12));
  put(136, octal(mtime, 12));
  put(148, "        ");
  put(156, "0");
  put(257, "ustar\0");
  put(263, "00");
  put(265, "root");
  put(297, "root");
  const sum = header.reduce((total, byte) => total + byte, 0);
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  return header;
}

/** A gzip-compressed ustar archive of `entries`, every file dated `mtime` (Unix seconds). */
export async function tarGz(entries: ArchiveEntry[], mtime: number): Promise<Uint8Array> {
  const blocks: Uint8Array[] = [];
  let size = 0;
  const push = (block: Uint8Array) => {
    blocks.push(block);
    size += block.length;
  };
  for (const entry of entries) {
    push(tarHeader(entry, mtime));
    push(entry.data);
    const padding = (512 - (entry.data.length % 512)) % 512;
    if (padding > 0) push(new Uint8Array(padding));
  }
  push(new Uint8Array(1024));
  const record = 10240;
  if (size % record !== 0) push(new Uint8Array(record - (size % record)));
  const tar = new Uint8Array(size);
  let offset = 0;
  for (const block of blocks) {
    tar.set(block, offset);
    offset += block.length;
  }
  return await compress(tar, "gzip");
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function dosDateTime(mtime: number): { time: number; date: number } {
  const d = new Date(Math.max(mtime, 315532800) * 1000);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/** A zip archive of `entries` (deflate, Unix modes), every file dated `mtime` (Unix seconds). */
export async function zip(entries: ArchiveEntry[], mtime: number): Promise<Uint8Array> {
  const { time, date } = dosDateTime(mtime);
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = encoder.encode(entry.name);
    const compressed = await compress(entry.data, "deflate-raw");
    const crc = crc32(entry.data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, 0x0800, true);
    local.setUint16(8, 8, true);
    local.setUint16(10, time, true);
    local.setUint16(12, date, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, compressed.length, true);
    local.setUint32(22, entry.data.length, true);
    local.setUint16(26, name.length, true);
    local.setUint16(28, 0, true);
    parts.push(new Uint8Array(local.buffer), name, compressed);

    const record = new DataView(new ArrayBuffer(46));
    record.setUint32(0, 0x02014b50, true);
    record.setUint16(4, (3 << 8) | 20, true);
    record.setUint16(6, 20, true);
    record.setUint16(8, 0x0800, true);
    record.setUint16(10, 8, true);
    record.setUint16(12, time, true);
    record.setUint16(14, date, true);
    record.setUint32(16, crc, true);
    record.setUint32(20, compressed.length, true);
    record.setUint32(24, entry.data.length, true);
    record.setUint16(28, name.length, true);
    record.setUint32(38, ((0o100000 | entry.mode) << 16) >>> 0, true);
    record.setUint32(42, offset, true);
    central.push(new Uint8Array(record.buffer), name);
    offset += 30 + name.length + compressed.length;
  }
  const centralSize = central.reduce((total, part) => total + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  const all = [...parts, ...central, new Uint8Array(end.buffer)];
  const out = new Uint8Array(all.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of all) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A checksums file as `sha256sum` writes it: `<hex>  <name>` per line, sorted by name. */
export function checksumsText(files: { name: string; sha256: string }[]): string {
  return [...files].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    .map((file) => `${file.sha256}  ${file.name}\n`).join("");
}

/** Parses a checksums file; throws with the line number on a malformed line. */
export function parseChecksums(text: string, source: string): Map<string, string> {
  const sums = new Map<string, string>();
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    const match = line.match(/^([0-9a-f]{64}) [ *](\S.*)$/);
    if (!match) {
      throw new Error(
        `${source}:${index + 1}: expected "<64 hex digits>  <file name>", got ${
          JSON.stringify(line)
        }`,
      );
    }
    sums.set(match[2], match[1]);
  });
  return sums;
}
