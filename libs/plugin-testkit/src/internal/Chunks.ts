/** Byte helpers for the suites: deterministic re-chunking and a stream of chunks. */
import { Stream } from "effect"

/** A small seeded generator (mulberry32), so a failing re-chunking can be replayed. */
export const random = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Splits bytes at random points: chunks of 1 to `max` bytes, so boundaries fall mid-character and mid-record. */
export const rechunk = (bytes: Uint8Array, seed: number, max = 64): ReadonlyArray<Uint8Array> => {
  const next = random(seed)
  const chunks: Array<Uint8Array> = []
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(next() * max)
    chunks.push(bytes.subarray(at, at + size))
    at += size
  }
  return chunks
}

export const stream = (chunks: ReadonlyArray<Uint8Array>) => Stream.fromIterable(chunks)
