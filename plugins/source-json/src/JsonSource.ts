/**
 * Source plugin for the JSON Lines feed any force can produce: one incident with its children
 * per line, in the domain's encoded form (README.md). Decoding streams line by line in constant
 * memory and never fails on content: a bad line becomes a Rejection naming `line N` and the
 * failing field's path, never its value, and carrying the line itself (redacted) for correction
 * and replay.
 */
import { Child, DecodeIssue, Ids, Incident, Rejection } from "@encompass/domain"
import { Manifest, SourcePlugin } from "@encompass/plugin-sdk"
import type { PluginRegistry, RawFeed } from "@encompass/plugin-sdk"
import { Array as Arr, Effect, Either, Layer, Option, Redacted, Schema, Stream } from "effect"
import { IncidentLine } from "./IncidentLine.js"
import { LineReader } from "./internal/LineReader.js"
import type { Line } from "./internal/LineReader.js"
import { SourceJsonConfig } from "./SourceJsonConfig.js"

export const id: Ids.SourceId = Ids.SourceId.make("json-lines")

export const manifest: Manifest.SourceManifest = new Manifest.SourceManifest({
  id,
  system: "any record system (JSON Lines export)",
  formats: ["application/jsonl"],
  version: "0.1.0",
  sdk: "^0.1.0",
  status: "experimental",
  description: "JSON Lines feed of incidents with their children, one incident per line, published as a JSON Schema",
  docs: "plugins/source-json/README.md",
  config: SourceJsonConfig
})

// Unknown fields are refused so a changed export is noticed rather than half read.
const decodeLine = Schema.decodeUnknownEither(IncidentLine, { errors: "all", onExcessProperty: "error" })
const isOccurrence = Schema.is(Ids.OccurrenceRef)
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
const BOM = "\uFEFF"

/** The longest line a rejection hands back as its `record`, in bytes; a longer one gets none. */
export const maxReplayBytes = 1024 * 1024

const occurrenceOf = (value: unknown): Ids.OccurrenceRef | undefined => {
  const occurrence = typeof value === "object" && value !== null && "occurrence" in value ? value.occurrence : undefined
  return isOccurrence(occurrence) ? occurrence : undefined
}

const decodeOne = (source: Ids.SourceId, line: Line): ReadonlyArray<SourcePlugin.Decoded> => {
  const locator = `line ${line.number}`
  // The line itself, a feed of one line, once it is known to be text: an operator corrects and replays it.
  let record: string | undefined
  const reject = (reason: string, field?: string, occurrence?: Ids.OccurrenceRef) =>
    [
      new Rejection.Rejection({
        source,
        locator,
        reason,
        ...(field === undefined || field === "" ? {} : { field }),
        ...(occurrence === undefined ? {} : { occurrence }),
        ...(record === undefined ? {} : { record: Redacted.make(record) })
      })
    ]
  // Not kept: it was never held in memory.
  if (line._tag === "TooLong") return reject("the line is longer than the configured limit (maxLineBytes)")
  let text: string
  try {
    text = utf8.decode(line.bytes)
  } catch {
    // Not kept either: a string cannot hold the bytes as they are, so a replay would not be this line.
    return reject("is not valid UTF-8")
  }
  if (line.number === 1 && text.startsWith(BOM)) text = text.slice(1)
  if (text.trim() === "") return []
  if (line.bytes.length <= maxReplayBytes) record = text
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // The parser's own message quotes the text, which may be personal data.
    return reject("is not valid JSON")
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return reject("is not a JSON object")
  return Either.match(decodeLine(json), {
    onLeft: (error) => {
      const issues = DecodeIssue.fromParseError(error)
      return reject(DecodeIssue.format(issues), issues[0]?.path, occurrenceOf(json))
    },
    onRight: ({ schemaVersion: _version, children, ...incident }) => [
      new Incident.Incident({
        ...incident,
        source,
        children: Arr.map(children, (child) => new Child.Child({ ...child, locator }))
      })
    ]
  })
}

/** The format's names for the domain fields the gateway may name in a later rejection. */
const fieldNames: Record<SourcePlugin.DomainField, string> = {
  occurrence: "occurrence",
  version: "version",
  dateOfBirth: "children.person.dateOfBirth",
  presence: "children.presence",
  education: "children.education"
}

export const make = (config: SourceJsonConfig = new SourceJsonConfig({})): SourcePlugin.SourcePlugin => ({
  id,
  manifest,
  fieldName: (field) => fieldNames[field],
  // Each run starts from a fresh reader, so the same bytes give the same output however chunked.
  decode: (feed: RawFeed.RawFeed) =>
    Stream.suspend(() => {
      const reader = new LineReader(config.maxLineBytes)
      return feed.content.pipe(
        // None marks the end of the bytes, when a last line without a line break is flushed.
        Stream.map(Option.some),
        Stream.concat(Stream.succeed(Option.none<Uint8Array>())),
        Stream.mapConcat(Option.match({ onSome: (bytes) => reader.push(bytes), onNone: () => reader.end() })),
        Stream.mapConcat((line) => decodeOne(feed.source, line))
      )
    })
})

/** Provides the SourcePlugin contract with the default configuration. */
export const layer: Layer.Layer<SourcePlugin.SourcePlugin> = Layer.succeed(SourcePlugin.SourcePlugin, make())

/** Provides the SourcePlugin contract with the given configuration. */
export const layerConfig = (config: SourceJsonConfig): Layer.Layer<SourcePlugin.SourcePlugin> =>
  Layer.succeed(SourcePlugin.SourcePlugin, make(config))

/** The source as the gateway registers it: the region's settings are its line limit. */
export const registration: PluginRegistry.SourceRegistration<SourceJsonConfig> = {
  manifest,
  build: (config) => Effect.succeed(make(config))
}
