import { expect, layer } from "@effect/vitest"
import { Sql, Vault } from "@encompass/store"
import { Chunk, Effect, Layer, Stream } from "effect"
import { AuditLog, Consultation } from "../src/index.js"

const TestLayer = AuditLog.layer.pipe(Layer.provideMerge(Layer.mergeAll(Sql.layerTest, Vault.layerTest)))

const eventsOf = (subject: string) =>
  Effect.flatMap(AuditLog.AuditLog, (log) => Stream.runCollect(log.events({ subjectPrefix: subject }))).pipe(Effect.map(Chunk.toReadonlyArray))

const read = { by: "dpo.tester", subject: "rejection:7", what: "quarantined record", reason: "subject access request 2026/14", via: "cli" }

layer(TestLayer, { timeout: 60_000 })("Consultation (DPA 2018 s.62)", (it) => {
  it.effect("a read of personal data is audited as viewed: who, which record, what, why", () =>
    Effect.gen(function*() {
      yield* Consultation.record({ ...read, occurrence: "niche-rms/43/1/26", children: ["P-1"] })
      const [event] = yield* eventsOf("rejection:7")
      expect(event?.stage).toBe("viewed")
      expect(event?.detail).toEqual({
        by: "dpo.tester",
        what: "quarantined record",
        reason: "subject access request 2026/14",
        via: "cli",
        occurrence: "niche-rms/43/1/26",
        children: ["P-1"]
      })
    }))

  it.effect("a read without a reason or a reader, or with an essay, is refused and leaves no event", () =>
    Effect.gen(function*() {
      const refused = (changes: Partial<typeof read>) => Effect.flip(Consultation.record({ ...read, subject: "rejection:8", ...changes }))
      expect(yield* refused({ reason: " " })).toMatchObject({ reason: "MissingReason", field: "reason", subject: "rejection:8" })
      expect(yield* refused({ by: "" })).toMatchObject({ reason: "MissingReader", field: "by" })
      expect((yield* refused({ reason: "x".repeat(501) })).message).toBe("reading rejection:8: reason: at most 500 characters")
      expect(yield* eventsOf("rejection:8")).toEqual([])
    }))
})
