/**
 * The channel against a real FHIR R4 server on loopback (Medplum's FhirRouter, `support/FhirServer`)
 * over TLS: the Bundle lands as searchable resources, passes a second, independent validator
 * (FHIR.js), a re-send creates nothing new, an invalid Bundle is never sent, and failures are
 * classified without a trace of the children's details.
 */
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Fhir } from "fhir"
import { afterAll, beforeAll, describe } from "vitest"
import { CouncilFhirChannel, FhirBundle } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import * as FhirServer from "./support/FhirServer.js"

let server: FhirServer.FhirServer

beforeAll(async () => {
  server = await FhirServer.start()
}, 60_000)
afterAll(() => server.close())

const channel = () => CouncilFhirChannel.make(Fixtures.config(server.baseUrl, FhirServer.caFile))
const search = async (type: "Communication" | "Patient" | "Organization") =>
  (await server.repo.searchResources({ resourceType: type, filters: [] } as never)) as unknown as ReadonlyArray<Record<string, unknown>>

describe("CouncilFhirChannel", () => {
  it.effect("the notification lands as a Communication about the children's Patients, from and to Organizations", () =>
    Effect.gen(function*() {
      const receipt = yield* Effect.flatMap(channel(), (c) => c.deliver(Fixtures.authorized()))
      expect(receipt.remoteId).toMatch(/^Communication\/[\w-]+$/)
      const [communication] = yield* Effect.promise(() => search("Communication"))
      const patients = yield* Effect.promise(() => search("Patient"))
      expect(patients.map((p) => (p["name"] as Array<{ family: string }>)[0]?.family).sort()).toEqual(["Quillfeather", "Thistlewood"])
      const about = (communication?.["about"] as Array<{ reference: string }>).map((r) => r.reference)
      expect(about.sort()).toEqual(patients.map((p) => `Patient/${String(p["id"])}`).sort())
      expect(communication?.["identifier"]).toEqual([{ system: FhirBundle.systems.notification, value: "EG-1A2B-3C4D-5E6F-v1" }])
      expect((yield* Effect.promise(() => search("Organization"))).length).toBe(2)
    }))

  it.effect("every Bundle sent passes FHIR.js as well", () =>
    Effect.sync(() => {
      const fhir = new Fhir()
      for (const body of server.received) {
        const result = fhir.validate(body as object, { errorOnUnexpected: true }) as { valid: boolean; messages: ReadonlyArray<{ severity: string; message: string; location: string }> }
        expect([result.valid, result.messages.filter((m) => m.severity === "error")]).toEqual([true, []])
      }
      expect(server.received.length).toBeGreaterThan(0)
    }))

  it.effect("sending the same notification again leaves one Communication, one Patient per child", () =>
    Effect.gen(function*() {
      const c = yield* channel()
      yield* c.deliver(Fixtures.authorized())
      yield* c.deliver(Fixtures.authorized())
      expect((yield* Effect.promise(() => search("Communication"))).length).toBe(1)
      expect((yield* Effect.promise(() => search("Patient"))).length).toBe(2)
      // A correction is another notification: a Communication of its own.
      yield* c.deliver(Fixtures.authorized({ reference: "EG-2B3C-4D5E-6F7A", version: 2 }))
      expect((yield* Effect.promise(() => search("Communication"))).length).toBe(2)
    }))

  it.effect("a Bundle that is not valid FHIR is never sent, and its error names the path, not the value", () =>
    Effect.gen(function*() {
      const before = server.received.length
      const error = yield* Effect.flip(Effect.flatMap(channel(), (c) => c.deliver(Fixtures.invalid())))
      expect(server.received.length).toBe(before)
      expect(error.reason).toBe("Rejected")
      expect(error.retryable).toBe(false)
      expect(error.detail).toMatch(/Bundle\.entry\[2\]\.resource\.birthDate/)
      for (const value of [...Fixtures.personalData, "29/03/2016"]) expect(error.message).not.toContain(value)
    }))

  it.effect("a 5xx or 429 is retryable, a 4xx with an OperationOutcome permanent, a 401 Auth; none quotes a child", () =>
    Effect.gen(function*() {
      const c = yield* channel()
      for (const [status, reason] of [[503, "Transport"], [429, "Transport"], [422, "Rejected"], [401, "Auth"]] as const) {
        server.failNext(status)
        const error = yield* Effect.flip(c.deliver(Fixtures.authorized()))
        expect([status, error.reason, error.detail]).toEqual([status, reason, expect.stringContaining(`HTTP ${status}: error transient`)])
        for (const value of Fixtures.personalData) expect(error.message).not.toContain(value)
      }
    }))

  it.effect("check reads each council server's CapabilityStatement, and refuses one whose certificate is not trusted", () =>
    Effect.gen(function*() {
      const before = server.received.length
      yield* Effect.flatMap(channel(), (c) => c.check)
      expect(server.received.length).toBe(before + 1)
      const untrusted = yield* Effect.flip(Effect.flatMap(CouncilFhirChannel.make(Fixtures.config(server.baseUrl, undefined)), (c) => c.check))
      expect(untrusted.reason).toBe("Transport")
    }))

  it.effect("a server that is not there is a retryable transport failure; one whose certificate is not trusted is too, and says so", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(FhirServer.closedPort)
      const gone = yield* Effect.flip(Effect.flatMap(CouncilFhirChannel.make(Fixtures.config(`https://127.0.0.1:${port}/fhir`, FhirServer.caFile)), (c) => c.deliver(Fixtures.authorized())))
      expect([gone.reason, gone.detail]).toEqual(["Transport", expect.stringContaining("ECONNREFUSED")])
      const untrusted = yield* Effect.flip(Effect.flatMap(CouncilFhirChannel.make(Fixtures.config(server.baseUrl, undefined)), (c) => c.deliver(Fixtures.authorized())))
      expect([untrusted.reason, untrusted.detail]).toEqual(["Transport", expect.stringContaining("DEPTH_ZERO_SELF_SIGNED_CERT")])
    }))
})
