import { describe, expect, it } from "@effect/vitest"
import { Notification } from "@encompass/domain"
import { Effect, Either, Schema } from "effect"
import * as fs from "node:fs"
import { CouncilFhirChannel, CouncilFhirConfig, FhirBundle, FhirValidation } from "../src/index.js"
import { configTable } from "./ConfigTable.js"
import * as Fixtures from "./Fixtures.js"

const decode = Schema.decodeUnknownEither(CouncilFhirConfig.CouncilFhirConfig)
const sender = { id: "bedfordshire-police", name: "Bedfordshire Police" }

describe("FhirBundle.build", () => {
  it("is the same Bundle for the same notification: a re-send is recognisably the same", () => {
    expect(FhirBundle.build(Fixtures.notification(), sender)).toEqual(FhirBundle.build(Fixtures.notification(), sender))
  })

  it("creates every entry only if its identifier is new, and names no one in an identifier or a URL", () => {
    const bundle = FhirBundle.build(Fixtures.notification(), sender)
    const urls = (bundle.entry ?? []).map((e) => `${e.fullUrl} ${e.request?.url} ${e.request?.ifNoneExist}`)
    expect((bundle.entry ?? []).every((e) => e.request?.method === "POST" && e.request.ifNoneExist?.startsWith("identifier="))).toBe(true)
    for (const value of [...Fixtures.personalData, "P-1", "P-2"]) expect(urls.join("\n")).not.toContain(value)
    expect(bundle.entry?.map((e) => e.resource?.resourceType)).toEqual(["Organization", "Organization", "Patient", "Patient", "Communication"])
  })

  it("a Patient holds what the payload holds, no more: the second child has no date of birth or address", () => {
    const patients = (FhirBundle.build(Fixtures.notification(), sender).entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === "Patient")
    expect(patients.map((p) => Object.keys(p ?? {}).sort())).toEqual([
      ["address", "birthDate", "identifier", "name", "resourceType"],
      ["identifier", "name", "resourceType"]
    ])
  })

  it.effect("a withdrawal is a Communication that carries no child at all, and is valid FHIR", () =>
    Effect.gen(function*() {
      const withdrawal = Schema.decodeUnknownSync(Notification.Notification)({
        ...Schema.encodeSync(Notification.Notification)(Fixtures.notification()),
        reference: "EG-4D5E-6F7A-8B9C",
        payload: { type: "operation-encompass/withdrawal", reference: "EG-4D5E-6F7A-8B9C", version: 1, localAuthority: Fixtures.council, withdraws: { reference: "EG-1A2B-3C4D-5E6F", version: 1 }, reason: "sent-in-error" }
      })
      const bundle = FhirBundle.build(withdrawal, sender)
      expect(bundle.entry?.map((e) => e.resource?.resourceType)).toEqual(["Organization", "Organization", "Communication"])
      for (const value of Fixtures.personalData) expect(JSON.stringify(bundle)).not.toContain(value)
      expect(Either.isRight(yield* FhirValidation.validate(bundle))).toBe(true)
    }))
})

describe("CouncilFhirConfig", () => {
  it("refuses an http: server: the channel never sends in the clear", () => {
    expect(Either.isLeft(decode(Fixtures.encoded("http://fhir.bedford.gov.example/R4", undefined)))).toBe(true)
    expect(Either.isRight(decode(Fixtures.encoded("https://fhir.bedford.gov.example/R4", undefined)))).toBe(true)
  })

  it("the README's config table is the one the schema's annotations give", () => {
    const readme = fs.readFileSync(new URL("../README.md", import.meta.url), "utf8")
    expect(readme).toContain(configTable())
  })
})

describe("CouncilFhirChannel.registration", () => {
  it.scoped("resolves the CA file against the region file's folder", () =>
    Effect.gen(function*() {
      const settings = Either.getOrThrow(decode(Fixtures.encoded("https://fhir.bedford.gov.example/R4", "keys/council-ca.pem")))
      const channel = yield* CouncilFhirChannel.registration.build(settings, { region: "test", resolve: (file) => `/etc/encompass/${file}` })
      const error = yield* Effect.flip(channel.check)
      expect(error.detail).toContain("the CA file /etc/encompass/keys/council-ca.pem cannot be read (ENOENT)")
    }))
})
