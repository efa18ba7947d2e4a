/**
 * Configuration of the council FHIR channel, as a region's config file holds it. The annotations
 * are the documentation. Every server is reached over TLS: an `http:` base URL is refused.
 */
import { Schema } from "effect"

/** `front-door:E06000055`, `ehe-team:E06000055`: the council recipients' keys in audit events. */
const CouncilKey = /^(front-door|ehe-team):[EW]0[6-9]\d{6}$/

const HttpsUrl = Schema.String.pipe(
  Schema.filter((url) => {
    try {
      return new URL(url).protocol === "https:" || "expected an https: URL (the channel never sends in the clear)"
    } catch {
      return "expected an https: URL"
    }
  })
)

/** OAuth2 client credentials (RFC 6749 §4.4): the secret is the recipient's entry in `passwords`. */
export class OAuth2 extends Schema.Class<OAuth2>("OAuth2")({
  tokenUrl: HttpsUrl,
  clientId: Schema.NonEmptyTrimmedString,
  scope: Schema.optional(Schema.NonEmptyTrimmedString)
}) {}

/** A council's server: its base URL, and how the gateway signs in to it beyond TLS. */
export class Server extends Schema.Class<Server>("Server")({
  url: HttpsUrl,
  oauth2: Schema.optional(OAuth2)
}) {}

/** A bare URL is a server with no sign-in beyond TLS. */
const ServerEntry = Schema.Union(
  Schema.transform(HttpsUrl, Schema.typeSchema(Server), { strict: true, decode: (url) => new Server({ url }), encode: (server) => server.url }),
  Server
)

/** At least 16 characters: a client secret, kept out of the region file. */
const Secret = Schema.Redacted(Schema.String.pipe(Schema.minLength(16, { message: () => "a client secret needs at least 16 characters" })))

/** Keys are checked as a whole: a plain `Schema.Record` would silently drop a mistyped key and its server. */
const ServersByCouncil = Schema.Record({ key: Schema.String, value: ServerEntry }).pipe(
  Schema.filter((servers) => {
    const bad = Object.keys(servers).find((key) => !CouncilKey.test(key))
    return bad === undefined ? true : `"${bad}" is not a council recipient key (front-door:<LA code>, ehe-team:<LA code>)`
  })
)

const serversDescription = "Each council recipient's FHIR R4 server, by recipient key (`front-door:<LA code>`, `ehe-team:<LA code>`): its base URL, or `{ url, oauth2: { tokenUrl, clientId, scope? } }` to sign in with OAuth2 client credentials, the client secret being the recipient's entry in `passwords`. A recipient with no server gets nothing"

export class CouncilFhirConfig extends Schema.Class<CouncilFhirConfig>("CouncilFhirConfig")({
  version: Schema.optionalWith(Schema.Literal(1), { default: () => 1 as const }).annotations({
    description: "Version of this configuration's schema"
  }),
  sender: Schema.Struct({
    id: Schema.NonEmptyTrimmedString,
    name: Schema.NonEmptyTrimmedString
  }).annotations({
    description: "The force as the councils' servers know it: its `Organization` identifier (system urn:encompass:sender) and name",
    examples: [{ id: "thames-valley-police", name: "Thames Valley Police" }]
  }),
  servers: ServersByCouncil.annotations({
    // A refinement's own description does not reach the JSON Schema the README's table is made from.
    jsonSchema: { description: serversDescription },
    description: serversDescription,
    examples: [{ "front-door:E06000055": new Server({ url: "https://fhir.bedford.gov.example/R4" }) }]
  }),
  passwords: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Secret }), { exact: true, default: () => ({}) }).annotations({
    description: "The OAuth2 client secret for each council recipient whose server signs in with OAuth2, by recipient key; kept in the region's passwords file, out of the repository"
  }),
  ca: Schema.optional(Schema.NonEmptyTrimmedString.annotations({
    description: "A PEM file of the certificate authorities to trust for the councils' servers instead of the system's (relative to the region file's folder unless absolute)"
  })),
  timeoutMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 30_000 }).annotations({
    description: "Milliseconds to wait for one transaction's response"
  })
}) {}
