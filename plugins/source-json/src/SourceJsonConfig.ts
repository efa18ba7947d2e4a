/** Configuration of the JSON Lines source. The annotations are the documentation. */
import { Schema } from "effect"

export class SourceJsonConfig extends Schema.Class<SourceJsonConfig>("SourceJsonConfig")({
  version: Schema.optionalWith(Schema.Literal(1), { default: () => 1 as const }).annotations({
    description: "Version of this configuration's schema"
  }),
  maxLineBytes: Schema.optionalWith(Schema.Int.pipe(Schema.between(1024, 16 * 1024 * 1024)), { default: () => 1024 * 1024 }).annotations({
    description: "Longest line accepted, in bytes; a longer line is rejected unread and decoding goes on with the next",
    examples: [1048576]
  })
}) {}
