/**
 * The plugin-testkit channel suite (libs/plugin-testkit/src/ChannelConformance.ts) against a real
 * FHIR server on loopback: a valid manifest, invalid configs fail to build, one deliver is one
 * attempt, and no error holds a secret or personal data.
 */
import { ChannelConformance } from "@encompass/plugin-testkit"
import { describe } from "@effect/vitest"
import { Effect } from "effect"
import { CouncilFhirChannel, CouncilFhirConfig } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import * as FhirServer from "./support/FhirServer.js"

describe("CouncilFhirChannel conformance", () => {
  ChannelConformance.suite({
    manifest: CouncilFhirChannel.manifest,
    config: CouncilFhirConfig.CouncilFhirConfig,
    make: CouncilFhirChannel.make,
    peer: Effect.acquireRelease(Effect.promise(() => FhirServer.start()), (server) => Effect.promise(server.close)),
    receptions: (server: FhirServer.FhirServer) => server.received.filter((body: unknown) => (body as { resourceType?: string } | undefined)?.resourceType === "Bundle").length,
    validConfig: (server: FhirServer.FhirServer) => Fixtures.encoded(server.baseUrl, FhirServer.caFile),
    invalidConfigs: [
      { name: "an http: server", config: Fixtures.encoded("http://fhir.bedford.gov.example/R4", undefined) },
      { name: "a server keyed by something that is not a council recipient", config: { ...Fixtures.encoded("https://fhir.bedford.gov.example/R4", undefined), servers: { "setting:123456": "https://fhir.example/R4" } } },
      { name: "no sender", config: { servers: {} } },
      { name: "a schema version this channel does not know", config: Fixtures.encoded("https://fhir.bedford.gov.example/R4", undefined, { version: 2 }) }
    ],
    failingConfigs: (server: FhirServer.FhirServer) => [
      { name: "a CA that does not sign the server's certificate", config: Fixtures.encoded(server.baseUrl, undefined) },
      { name: "no server for the recipient", config: { ...Fixtures.encoded(server.baseUrl, FhirServer.caFile), servers: {} } },
      { name: "a CA file that does not exist", config: Fixtures.encoded(server.baseUrl, "/nonexistent/ca.pem") }
    ],
    notification: Fixtures.authorized(),
    secrets: [],
    personalData: Fixtures.personalData
  })
})
