/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as BEP 42 uses for node ids. Not zlib's CRC-32.
 * Table-driven, one byte per step: BEP 42 hashes 4 or 8 bytes, so slicing-by-8 would not pay for itself.
 */

const POLY_REFLECTED = 0x82f63b78;

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C of bytes, as an unsigned 32-bit integer ("123456789" → 0xe3069283). */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
