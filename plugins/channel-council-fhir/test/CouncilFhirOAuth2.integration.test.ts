/**
 * OAuth2 client credentials against a real token endpoint on loopback (`oauth2-mock-server`, its
 * signed JWTs) in front of the test FHIR server, which lets in only an unexpired token it issued:
 * the token is reused until it is about to expire, then fetched again; a reused token the server
 * refuses is replaced within the attempt; a fresh token refused, or a wrong secret, is permanent.
 */
import { expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { OAuth2Server } from "oauth2-mock-server"
import { randomUUID } from "node:crypto"
import * as path from "node:path"
import { afterAll, beforeAll, describe } from "vitest"
import { CouncilFhirChannel, CouncilFhirConfig } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import * as FhirServer from "./support/FhirServer.js"

const secret = "council-client-secret-7Kp2Qw9z"
let oauth: OAuth2Server
let fhir: FhirServer.FhirServer
let issued = 0
/** Seconds a token is issued for. */
let ttl = 3600
const refused = new Set<string>()
let refuseAll = false

const payloadOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as { iss?: string; exp?: number }

beforeAll(async () => {
  const tls = path.dirname(FhirServer.caFile)
  oauth = new OAuth2Server(path.join(tls, "sink-key.pem"), FhirServer.caFile)
  await oauth.issuer.keys.generate("RS256")
  await oauth.start(0, "127.0.0.1")
  oauth.service.on("beforeTokenSigning", (token: { payload: Record<string, unknown> }) => {
    issued += 1
    token.payload["exp"] = Math.floor(Date.now() / 1000) + ttl
    // Two tokens issued in the same second would otherwise be the same token.
    token.payload["jti"] = randomUUID()
  })
  oauth.service.on("beforeResponse", (response: { statusCode: number; body: Record<string, unknown> | "" }, req: { headers: Record<string, string | undefined> }) => {
    const [id, given] = Buffer.from((req.headers["authorization"] ?? "").replace(/^Basic /, ""), "base64").toString("utf8").split(":")
    if (id !== "bedfordshire-police" || decodeURIComponent(given ?? "") !== secret) {
      response.statusCode = 401
      response.body = { error: "invalid_client" }
      return
    }
    if (typeof response.body === "object") response.body["expires_in"] = ttl
  })
  fhir = await FhirServer.start({
    authorize: (header) => {
      const token = header?.replace(/^Bearer /, "")
      if (refuseAll || token === undefined || refused.has(token)) return false
      const claims = payloadOf(token)
      return claims.iss === oauth.issuer.url && (claims.exp ?? 0) * 1000 > Date.now()
    }
  })
}, 60_000)

afterAll(async () => {
  await fhir.close()
  await oauth.stop()
})

const config = (over: { secret?: string } = {}) =>
  Schema.decodeUnknownSync(CouncilFhirConfig.CouncilFhirConfig)({
    ...Fixtures.encoded(fhir.baseUrl, FhirServer.caFile),
    servers: { [`front-door:${Fixtures.council}`]: { url: fhir.baseUrl, oauth2: { tokenUrl: `${oauth.issuer.url}/token`, clientId: "bedfordshire-police", scope: "system/Communication.write" } } },
    passwords: { [`front-door:${Fixtures.council}`]: over.secret ?? secret }
  })

const lastToken = () => fhir.authorizations.at(-1)?.replace(/^Bearer /, "") ?? ""

describe("CouncilFhirChannel with OAuth2 client credentials", () => {
  it.live("the token is reused until shortly before it expires, then fetched again", () =>
    Effect.gen(function*() {
      const channel = yield* CouncilFhirChannel.make(config())
      const before = issued
      yield* channel.deliver(Fixtures.authorized())
      yield* channel.deliver(Fixtures.authorized())
      expect(issued - before).toBe(1)
      expect(payloadOf(lastToken()).iss).toBe(oauth.issuer.url)

      // Issued for 31 s: with the channel's 30 s margin it is due for renewal after one second.
      ttl = 31
      const short = yield* CouncilFhirChannel.make(config())
      yield* short.deliver(Fixtures.authorized())
      yield* short.deliver(Fixtures.authorized())
      expect(issued - before).toBe(2)
      yield* Effect.sleep("1100 millis")
      yield* short.deliver(Fixtures.authorized())
      expect(issued - before).toBe(3)
      ttl = 3600
    }))

  it.live("a reused token the server refuses is replaced within the attempt; a fresh one refused is permanent", () =>
    Effect.gen(function*() {
      const channel = yield* CouncilFhirChannel.make(config())
      yield* channel.deliver(Fixtures.authorized())
      const before = issued
      // The server no longer takes any token issued so far (say, its keys rotated).
      refuseAll = true
      const error = yield* Effect.flip(channel.deliver(Fixtures.authorized()))
      expect([error.reason, error.retryable, error.detail]).toEqual(["Auth", false, expect.stringContaining("HTTP 401")])
      // One fresh token was tried, and refused too: no loop.
      expect(issued - before).toBe(1)
      refuseAll = false

      const revived = yield* CouncilFhirChannel.make(config())
      yield* revived.deliver(Fixtures.authorized())
      const held = issued
      // Only the token in hand is refused (revoked): a fresh one gets through in the same attempt.
      refused.add(lastToken())
      yield* revived.deliver(Fixtures.authorized())
      expect(issued).toBe(held + 1)
      expect(refused.has(lastToken())).toBe(false)
    }))

  it.live("a wrong client secret is refused by the token endpoint: permanent, and the secret is never in the error", () =>
    Effect.gen(function*() {
      const channel = yield* CouncilFhirChannel.make(config({ secret: "not-the-right-secret-at-all" }))
      const error = yield* Effect.flip(channel.deliver(Fixtures.authorized()))
      expect([error.reason, error.detail]).toEqual(["Auth", expect.stringContaining("refused client bedfordshire-police: HTTP 401 (invalid_client)")])
      expect(error.message).not.toContain("not-the-right-secret-at-all")
      expect(error.message).not.toContain(secret)
    }))
})
