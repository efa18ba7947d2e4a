/**
 * A set of strings kept as 60-bit fingerprints in typed arrays: about 7.5 bytes a key where a
 * `Set<string>` costs about 60. It remembers every occurrence a feed has begun, which for a 1 GB
 * back-fill is millions of keys.
 *
 * Membership is one-sided: a key that was added is always found; a key that was not is wrongly
 * reported present only if two distinct keys share all 60 bits (odds about n² / 2^61: one in a
 * hundred thousand for the 4.5 million occurrences of a 1 GB feed, one in 10^13 for a day's
 * feed). The caller's response to "present" is to reject a row for a person to review, never to
 * accept one, so a false answer can only cost a review.
 */

/** MurmurHash3's finaliser: every input bit affects every output bit. */
const mix = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

// Two independent 32-bit hashes make the fingerprint. FNV-1a's low bits are weak on their own, so
// both go through the finaliser.
const fnv1a = (key: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return mix(h)
}

const murmur = (key: string): number => {
  let h = 0x9747b28c
  for (let i = 0; i < key.length; i++) {
    let k = Math.imul(key.charCodeAt(i), 0xcc9e2d51)
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593)
    h = Math.imul(((h ^ k) << 13) | ((h ^ k) >>> 19), 5) + 0xe6546b64
  }
  return mix(h ^ key.length)
}

// The keys are spread over 4096 open-addressing tables chosen by the top 12 bits of one hash, each
// grown on its own by a quarter when 90% full: the set stays 72–90% full (a doubling table
// averages about 55%), and growing never holds two copies of the whole set at once. Linear
// probing over well-mixed hashes tolerates that load. A slot holds the other hash (32 bits) and
// 16 more bits of the first; the 12 table bits make up the 60.
const shardBits = 12
const maxLoad = 0.9
const growth = 1.25
const firstSlots = 8

interface Table {
  readonly low: Uint32Array
  /** 0 marks an empty slot, so a stored value is never 0. */
  readonly high: Uint16Array
  size: number
}

const table = (slots: number): Table => ({ low: new Uint32Array(slots), high: new Uint16Array(slots), size: 0 })

/** Inserts a fingerprint; false when it is already there. */
const insert = (t: Table, low: number, high: number): boolean => {
  const capacity = t.low.length
  // The slot is `low` scaled to the table, which needs no power-of-two size.
  for (let i = Math.floor((low / 2 ** 32) * capacity); ; i = i + 1 === capacity ? 0 : i + 1) {
    if (t.high[i] === 0) {
      t.low[i] = low
      t.high[i] = high
      t.size++
      return true
    }
    if (t.low[i] === low && t.high[i] === high) return false
  }
}

const grown = (old: Table): Table => {
  const t = table(Math.ceil(old.low.length * growth))
  for (let i = 0; i < old.low.length; i++) {
    const high = old.high[i] ?? 0
    if (high !== 0) insert(t, old.low[i] ?? 0, high)
  }
  return t
}

export class FingerprintSet {
  /** Made on first use. */
  private readonly tables: Array<Table | undefined> = []

  /** Adds the key; false when it was already present. */
  add(key: string): boolean {
    const low = fnv1a(key)
    const other = murmur(key)
    const shard = other >>> (32 - shardBits)
    const high = ((other >>> (16 - shardBits)) & 0xffff) || 1
    let t = this.tables[shard] ?? table(firstSlots)
    if (t.size >= t.low.length * maxLoad) t = grown(t)
    this.tables[shard] = t
    return insert(t, low, high)
  }
}
