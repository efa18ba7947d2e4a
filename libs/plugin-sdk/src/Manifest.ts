/**
 * Plugin manifests: what a plugin is, as data the gateway checks before it composes the plugin
 * (DESIGN.md §3). The registry reads `id`, `sdk` and `status`; the README config table and the
 * JSON Schema of a plugin's config are written from `config`'s annotations.
 */
import { Ids } from "@encompass/domain"
import { Schema } from "effect"
import * as Semver from "./internal/Semver.js"

/** The version of this contract. A plugin declares the range of it that it was written for. */
export const sdkVersion = "0.1.0"

export const Version = Schema.String.pipe(
  Schema.filter((text) => Semver.isVersion(text) || "expected a semantic version such as 1.2.3"),
  Schema.annotations({ description: "A semantic version", examples: ["0.1.0"] })
)

export const SdkRange = Schema.String.pipe(
  Schema.filter((text) => Semver.isRange(text) || "expected a semver range such as ^0.1.0 or >=0.1.0 <0.3.0"),
  Schema.annotations({ description: "The plugin-sdk versions a plugin supports", examples: ["^0.1.0"] })
)

/** Whether an SDK version lies in a plugin's declared range. */
export const supports = (range: string, version: string = sdkVersion): boolean => Semver.satisfies(version, range)

export const Status = Schema.Literal("stable", "experimental", "deprecated").annotations({
  description: "stable: supported for production; experimental: may change; deprecated: being withdrawn"
})
export type Status = typeof Status.Type

/** Any Effect Schema without requirements: the plugin's config schema, carried as a value. */
export const ConfigSchema = Schema.declare(
  (u: unknown): u is Schema.Schema.AnyNoContext => Schema.isSchema(u),
  { description: "an Effect Schema for the plugin's configuration" }
)

const common = {
  version: Version,
  sdk: SdkRange,
  status: Status,
  /** One sentence on what the plugin does. */
  description: Schema.NonEmptyTrimmedString,
  /** Where the plugin is documented, relative to the repository root. */
  docs: Schema.NonEmptyTrimmedString,
  config: ConfigSchema
}

export class SourceManifest extends Schema.Class<SourceManifest>("SourceManifest")({
  kind: Schema.tag("source"),
  id: Ids.SourceId,
  /** The record system whose export this source reads, e.g. `Niche RMS`. */
  system: Schema.NonEmptyTrimmedString,
  /** The media types or file kinds it decodes, e.g. `text/csv`. */
  formats: Schema.NonEmptyArray(Schema.NonEmptyTrimmedString),
  ...common
}) {}

export const ChannelCapabilities = Schema.Struct({
  /** One delivery may carry several notifications. */
  batching: Schema.Boolean,
  /** The remote confirms receipt beyond accepting the transfer (a read receipt, an API ack). */
  acknowledgement: Schema.Boolean,
  /** A re-send of the same notification is recognisable as such by the remote. */
  idempotentResend: Schema.Boolean
})

export class ChannelManifest extends Schema.Class<ChannelManifest>("ChannelManifest")({
  kind: Schema.tag("channel"),
  id: Ids.ChannelId,
  capabilities: ChannelCapabilities,
  ...common
}) {}
