/**
 * Source plugin for a Niche RMS-style daily CSV export of domestic incidents with children, one
 * row per child (columns and rules: README.md). Decoding streams the feed's bytes chunk by chunk
 * in constant memory, and never fails on content: a bad row becomes a Rejection naming its line
 * and column, and the rest of the feed goes on.
 */
import { Ids } from "@encompass/domain"
import { Manifest, SourcePlugin } from "@encompass/plugin-sdk"
import type { RawFeed } from "@encompass/plugin-sdk"
import { Layer, Option, Schema, Stream } from "effect"
import { CsvReader } from "./internal/CsvReader.js"
import { IncidentAssembler } from "./internal/IncidentAssembler.js"
import * as RowSchema from "./internal/RowSchema.js"

export const id: Ids.SourceId = Ids.SourceId.make("niche-rms")

export const manifest: Manifest.SourceManifest = new Manifest.SourceManifest({
  id,
  system: "Niche RMS",
  formats: ["text/csv"],
  version: "0.1.0",
  sdk: "^0.1.0",
  status: "stable",
  description: "Niche RMS-style daily CSV export of domestic incidents with children, one row per child",
  docs: "plugins/source-niche-rms/README.md",
  // No options yet: a declarative field mapping will live here (README, Configuration).
  config: Schema.Struct({})
})

/** The export's columns in their documented order; the header may list them in any order. */
export const columns: ReadonlyArray<string> = RowSchema.columns

/** Columns the header may leave out. */
export const optionalColumns: ReadonlyArray<string> = [...RowSchema.optionalColumns]

/**
 * Incidents and rejections carry the feed's `source`. Each run starts from fresh state, so the
 * same bytes always give the same output in the same order, however they are chunked.
 */
const decode = (feed: RawFeed.RawFeed): Stream.Stream<SourcePlugin.Decoded, RawFeed.FeedReadError> =>
  Stream.suspend(() => {
    const reader = new CsvReader()
    const assembler = new IncidentAssembler(feed.source)
    return feed.content.pipe(
      // None marks the end of the bytes, when the last record and incident are flushed.
      Stream.map(Option.some),
      Stream.concat(Stream.succeed(Option.none<Uint8Array>())),
      Stream.mapConcat(
        Option.match({
          onSome: (bytes) => assembler.accept(reader.push(bytes)),
          onNone: () => [...assembler.accept(reader.end()), ...assembler.end()]
        })
      ),
      // A refused header ends decoding: nothing after it can be read.
      Stream.takeUntil(() => assembler.halted)
    )
  })

/** The export's name for each domain field the gateway may name in a later rejection. */
const fieldNames: Record<SourcePlugin.DomainField, RowSchema.Column> = {
  occurrence: "occurrence_number",
  version: "version",
  dateOfBirth: "child_dob",
  presence: "presence",
  education: "school_urn"
}

export const make = (): SourcePlugin.SourcePlugin => ({
  id,
  manifest,
  fieldName: (field) => fieldNames[field],
  decode
})

/** Provides the SourcePlugin contract. */
export const layer: Layer.Layer<SourcePlugin.SourcePlugin> = Layer.succeed(SourcePlugin.SourcePlugin, make())
