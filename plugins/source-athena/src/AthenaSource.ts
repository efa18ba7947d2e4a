/**
 * Source plugin for an Athena-style XML export: one `<Occurrence>` per police occurrence, with the
 * persons linked to it (format and rules: README.md). Decoding streams the feed's bytes through
 * saxes in constant memory and never fails on content: a bad occurrence becomes a Rejection naming
 * it and the failing field by its XML path, carrying the occurrence as a standalone export to
 * replay; a DOCTYPE, a broken limit or a well-formedness error ends the feed with one Rejection.
 */
import { Ids } from "@encompass/domain"
import { Manifest, SourcePlugin } from "@encompass/plugin-sdk"
import type { PluginRegistry, RawFeed } from "@encompass/plugin-sdk"
import { Effect, Layer, Option, Stream } from "effect"
import { AthenaSourceConfig } from "./AthenaSourceConfig.js"
import { IncidentAssembler } from "./internal/IncidentAssembler.js"
import { recordName } from "./internal/OccurrenceSchema.js"
import { XmlReader } from "./internal/XmlReader.js"

export const id: Ids.SourceId = Ids.SourceId.make("athena")

export const manifest: Manifest.SourceManifest = new Manifest.SourceManifest({
  id,
  system: "Athena",
  formats: ["application/xml"],
  version: "0.1.0",
  sdk: "^0.1.0",
  status: "experimental",
  description: "Athena-style XML export of occurrences with their linked persons, one Occurrence element per occurrence",
  docs: "plugins/source-athena/README.md",
  config: AthenaSourceConfig
})

/** The export's name for each domain field the gateway may name in a later rejection. */
const fieldNames: Record<SourcePlugin.DomainField, string> = {
  occurrence: "Occurrence/@ref",
  version: "Occurrence/@version",
  dateOfBirth: "Occurrence/Person/DateOfBirth",
  presence: "Occurrence/Person/Presence",
  education: "Occurrence/Person/School"
}

/** Bytes read per step: one step's output is what one piece holds, however large the feed's chunks. */
const pieceBytes = 65_536

const pieces = (bytes: Uint8Array): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  for (let at = 0; at < bytes.length; at += pieceBytes) out.push(bytes.subarray(at, at + pieceBytes))
  return out
}

export const make = (config: AthenaSourceConfig = new AthenaSourceConfig({})): SourcePlugin.SourcePlugin => ({
  id,
  manifest,
  fieldName: (field) => fieldNames[field],
  // Each run starts from fresh state, so the same bytes give the same output however chunked.
  decode: (feed: RawFeed.RawFeed) =>
    Stream.suspend(() => {
      const reader = new XmlReader(config, recordName)
      const assembler = new IncidentAssembler(feed.source, config)
      return feed.content.pipe(
        Stream.mapConcat(pieces),
        Stream.rechunk(1),
        // None marks the end of the bytes, when the parser's final checks run.
        Stream.map(Option.some),
        Stream.concat(Stream.succeed(Option.none<Uint8Array>())),
        Stream.mapConcat(
          Option.match({
            onSome: (bytes) => assembler.accept(reader.push(bytes)),
            onNone: () => assembler.accept(reader.end())
          })
        ),
        // The rejection that ends the feed is the last item: nothing more is read.
        Stream.takeUntil((item) => item === assembler.fatal)
      )
    })
})

/** Provides the SourcePlugin contract with the default configuration. */
export const layer: Layer.Layer<SourcePlugin.SourcePlugin> = Layer.succeed(SourcePlugin.SourcePlugin, make())

/** Provides the SourcePlugin contract with the given configuration. */
export const layerConfig = (config: AthenaSourceConfig): Layer.Layer<SourcePlugin.SourcePlugin> =>
  Layer.succeed(SourcePlugin.SourcePlugin, make(config))

/** The source as the gateway registers it: the region's settings are its safety limits. */
export const registration: PluginRegistry.SourceRegistration<AthenaSourceConfig> = {
  manifest,
  build: (config) => Effect.succeed(make(config))
}
