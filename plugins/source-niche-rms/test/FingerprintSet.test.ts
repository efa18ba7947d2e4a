import { describe, expect, it } from "@effect/vitest"
import { FingerprintSet } from "../src/internal/FingerprintSet.js"

describe("FingerprintSet", () => {
  it("finds every key added, through many rounds of growth, and no key it was not given", () => {
    const set = new FingerprintSet()
    const keys = (from: number) => Array.from({ length: 100_000 }, (_, i) => `1|43/${String(2 * i + from).padStart(7, "0")}/26`)
    expect(keys(0).filter((key) => !set.add(key))).toEqual([])
    expect(keys(0).filter((key) => set.add(key))).toEqual([])
    expect(keys(1).filter((key) => !set.add(key))).toEqual([])
  })
})
