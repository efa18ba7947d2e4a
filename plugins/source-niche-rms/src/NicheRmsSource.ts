/**
 * Source plugin for a Niche RMS-style daily CSV export of domestic incidents with children, one
 * row per child (columns and rules: README.md). A force whose export differs adapts it with a
 * declarative field mapping (NicheMapping), not a code fork. Decoding streams the feed's bytes
 * chunk by chunk in constant memory, and never fails on content: a bad row becomes a Rejection
 * naming its line and column (by the force's own name), and the rest of the feed goes on.
 */
import { Ids } from "@encompass/domain"
import { Manifest, SourcePlugin } from "@encompass/plugin-sdk"
import type { PluginRegistry, RawFeed } from "@encompass/plugin-sdk"
import { Effect, Layer, Option, Stream } from "effect"
import * as Columns from "./internal/Columns.js"
import type { Column } from "./internal/Columns.js"
import { CsvReader } from "./internal/CsvReader.js"
import { IncidentAssembler } from "./internal/IncidentAssembler.js"
import * as RowSchema from "./internal/RowSchema.js"
import { defaultMapping, NicheMapping } from "./NicheMapping.js"

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
  // The declarative field mapping (README, Configuration); `{}` is the default layout.
  config: NicheMapping
})

/**
 * The export's columns under their canonical names, in their documented order (the default
 * layout's header; the header may list them in any order). A mapping renames them.
 */
export const columns: ReadonlyArray<string> = Columns.columns

/** Columns the header may leave out. */
export const optionalColumns: ReadonlyArray<string> = [...Columns.optionalColumns]

/** The largest record a rejection hands back for replay, in bytes; a larger one gets no `record`. */
export { maxReplayBytes } from "./internal/IncidentAssembler.js"

/** The export's name for each domain field the gateway may name in a later rejection, before mapping. */
const fieldNames: Record<SourcePlugin.DomainField, Column> = {
  occurrence: "occurrence_number",
  version: "version",
  dateOfBirth: "child_dob",
  presence: "presence",
  education: "school_urn"
}

/**
 * The plugin for a force's layout (the default one unless a mapping is given). Incidents and
 * rejections carry the feed's `source`. Each run starts from fresh state, so the same bytes always
 * give the same output in the same order, however they are chunked.
 */
export const make = (mapping: NicheMapping = defaultMapping): SourcePlugin.SourcePlugin => {
  // Compiled once per plugin: building a row decoder is far dearer than using it.
  const rows = RowSchema.make(mapping)
  const delimiter = mapping.delimiter.charCodeAt(0)
  const decode = (feed: RawFeed.RawFeed): Stream.Stream<SourcePlugin.Decoded, RawFeed.FeedReadError> =>
    Stream.suspend(() => {
      const reader = new CsvReader(delimiter)
      const assembler = new IncidentAssembler(feed.source, mapping, rows)
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
  return {
    id,
    manifest,
    fieldName: (field) => mapping.nameOf(fieldNames[field]),
    decode
  }
}

/** Provides the SourcePlugin contract for the default layout. */
export const layer: Layer.Layer<SourcePlugin.SourcePlugin> = Layer.succeed(SourcePlugin.SourcePlugin, make())

/** Provides the SourcePlugin contract for a force's field mapping (`NicheMapping.fromYaml`). */
export const layerWith = (mapping: NicheMapping): Layer.Layer<SourcePlugin.SourcePlugin> =>
  Layer.succeed(SourcePlugin.SourcePlugin, make(mapping))

/** The source as the gateway registers it: the region's settings are the field mapping. */
export const registration: PluginRegistry.SourceRegistration<NicheMapping> = {
  manifest,
  build: (mapping) => Effect.succeed(make(mapping))
}
