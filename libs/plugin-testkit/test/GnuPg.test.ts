/**
 * The throwaway GnuPG home the interop tests use: keys asked for at once in a fresh home are all
 * made. Three gpg processes creating one keyring together failed about once in fifteen ("no
 * writable public keyring found"), which failed the MultiChannel suite in CI.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as GnuPg from "../src/GnuPg.js"

describe.skipIf(!GnuPg.runGpgTests)(`GnuPg.home${GnuPg.missing.length === 0 ? "" : ` — SKIPPED: ${GnuPg.missing.join(", ")} not installed`}`, () => {
  it.scoped("keys generated at once in fresh homes are all made, each with its own fingerprint", () =>
    Effect.gen(function*() {
      for (let round = 0; round < 8; round++) {
        const home = yield* GnuPg.home
        const keys = yield* Effect.all(
          [1, 2, 3].map((n) => home.generate({ kind: "cv25519", uid: `Round ${round} key ${n} <k${n}@example.org>` })),
          { concurrency: 3 }
        )
        expect(new Set(keys.map((k) => k.fingerprint)).size).toBe(3)
      }
    }), 120_000)
})
