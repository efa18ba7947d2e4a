import { describe, expect, it } from "@effect/vitest"
import * as Chunks from "../src/internal/Chunks.js"

describe("Chunks.rechunk", () => {
  const bytes = new TextEncoder().encode("line one\nline two — with a dash\n".repeat(20))

  it("keeps every byte in order, in chunks of 1 to max bytes", () => {
    const chunks = Chunks.rechunk(bytes, 7, 16)
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(bytes))
    expect(chunks.every((c) => c.length >= 1 && c.length <= 16)).toBe(true)
    expect(new Set(chunks.map((c) => c.length)).size).toBeGreaterThan(1)
  })

  it("splits the same way for the same seed, so a failure can be replayed", () => {
    expect(Chunks.rechunk(bytes, 3).map((c) => c.length)).toEqual(Chunks.rechunk(bytes, 3).map((c) => c.length))
    expect(Chunks.rechunk(bytes, 3).map((c) => c.length)).not.toEqual(Chunks.rechunk(bytes, 4).map((c) => c.length))
  })
})
