/**
 * Which of a region's enabled sources decodes a feed file: the one `--source` names, or the
 * region's only one. A source the region does not enable is refused, listing those it does.
 */
import type { Ids } from "@encompass/domain"
import type * as RegionConfig from "@encompass/gateway/RegionConfig"
import { Effect, Option, Schema } from "effect"

export class SourceChoiceError extends Schema.TaggedError<SourceChoiceError>()("@encompass/cli/SourceChoiceError", {
  module: Schema.Literal("SourceChoice"),
  method: Schema.String,
  reason: Schema.Literal("NotEnabled", "Ambiguous"),
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

export const choose = (
  config: RegionConfig.RegionConfig,
  file: string,
  wanted: Option.Option<string>
): Effect.Effect<Ids.SourceId, SourceChoiceError> => {
  const enabled = config.sources.map((s) => s.id)
  const listed = enabled.join(", ")
  return Option.match(wanted, {
    onSome: (id) => {
      const found = enabled.find((e) => e === id)
      return found !== undefined
        ? Effect.succeed(found)
        : Effect.fail(new SourceChoiceError({ module: "SourceChoice", method: "choose", reason: "NotEnabled", detail: `--source ${id}: ${file} does not enable that source (it enables ${listed})` }))
    },
    onNone: () => {
      const [only, ...others] = enabled
      return only !== undefined && others.length === 0
        ? Effect.succeed(only)
        : Effect.fail(new SourceChoiceError({ module: "SourceChoice", method: "choose", reason: "Ambiguous", detail: `${file} enables several sources (${listed}): say which decodes the feed with --source` }))
    }
  })
}
