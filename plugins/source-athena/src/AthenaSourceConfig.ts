/** Configuration of the Athena XML source: its safety limits. The annotations are the documentation. */
import { Schema } from "effect"

const limit = (range: { readonly min: number; readonly max: number }, fallback: number, description: string) =>
  Schema.optionalWith(Schema.Int.pipe(Schema.between(range.min, range.max)), { default: () => fallback }).annotations({
    description,
    examples: [fallback]
  })

export class AthenaSourceConfig extends Schema.Class<AthenaSourceConfig>("AthenaSourceConfig")(
  Schema.Struct({
    version: Schema.optionalWith(Schema.Literal(1), { default: () => 1 as const }).annotations({
      description: "Version of this configuration's schema"
    }),
    maxDepth: limit(
      { min: 5, max: 256 },
      32,
      "Deepest nesting of elements, the root being 1 (the format needs 5); deeper ends the feed, since the parser keeps every open element"
    ),
    maxTextLength: limit(
      { min: 1024, max: 16 * 1024 * 1024 },
      65_536,
      "Most characters one text node, tag (with its attributes), comment or declaration may span; longer ends the feed, since the parser must hold it whole"
    ),
    maxRecordChars: limit(
      { min: 4096, max: 64 * 1024 * 1024 },
      1024 * 1024,
      "Most characters one Occurrence may span, tags included; a longer one is rejected unread and decoding goes on with the next"
    ),
    maxPersons: limit({ min: 1, max: 10_000 }, 200, "Most Person elements one Occurrence may hold; more rejects the occurrence"),
    maxChildren: limit({ min: 1, max: 1000 }, 50, "Most persons with role CHILD one Occurrence may hold; more rejects the occurrence")
  }).pipe(
    Schema.filter((config) =>
      config.maxTextLength <= config.maxRecordChars || {
        path: ["maxTextLength"],
        message: "may not exceed maxRecordChars: a record holds its texts"
      }
    )
  )
) {}
