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

/** Keys are checked as a whole: a plain `Schema.Record` would silently drop a mistyped key and its server. */
const ServersByCouncil = Schema.Record({ key: Schema.String, value: HttpsUrl }).pipe(
  Schema.filter((servers) => {
    const bad = Object.keys(servers).find((key) => !CouncilKey.test(key))
    return bad === undefined ? true : `"${bad}" is not a council recipient key (front-door:<LA code>, ehe-team:<LA code>)`
  })
)

const serversDescription = "The FHIR R4 base URL of each council recipient's server, by recipient key (`front-door:<LA code>`, `ehe-team:<LA code>`); a recipient with none gets nothing"

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
    examples: [{ "front-door:E06000055": "https://fhir.bedford.gov.example/R4" }]
  }),
  ca: Schema.optional(Schema.NonEmptyTrimmedString.annotations({
    description: "A PEM file of the certificate authorities to trust for the councils' servers instead of the system's (relative to the region file's folder unless absolute)"
  })),
  timeoutMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 30_000 }).annotations({
    description: "Milliseconds to wait for one transaction's response"
  })
}) {}
