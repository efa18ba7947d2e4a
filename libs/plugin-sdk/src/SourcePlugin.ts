/**
 * The contract of a source plugin: a pure decoder from one force record system's export to
 * domain Incidents (DESIGN.md §3). It never touches the network or the database, never throws
 * on bad input, and is a pure function of its input: the same feed always yields the same
 * incidents and rejections, in the same order.
 */
import type { Ids, Incident, Rejection } from "@encompass/domain"
import { Context } from "effect"
import type { Stream } from "effect"
import type { SourceManifest } from "./Manifest.js"
import type { FeedReadError, RawFeed } from "./RawFeed.js"

/** What decoding yields for each record: an incident, or a rejection naming record and field. */
export type Decoded = Incident.Incident | Rejection.Rejection

/** Fields of the domain Incident and Child that the gateway may need to name in a rejection. */
export type DomainField = "education" | "version" | "occurrence" | "presence" | "dateOfBirth"

export interface SourcePlugin {
  /** `manifest.id`, for convenience. */
  readonly id: Ids.SourceId
  readonly manifest: SourceManifest
  /**
   * The source's own name for a field of the domain Child or Incident (`education` →
   * `school_urn`), so that a rejection the gateway raises after decoding — an unknown URN —
   * names the field as the force's export calls it.
   */
  readonly fieldName: (field: DomainField) => string
  readonly decode: (feed: RawFeed) => Stream.Stream<Decoded, FeedReadError>
}

export const SourcePlugin = Context.GenericTag<SourcePlugin>("@encompass/plugin-sdk/SourcePlugin")

export const isRejection = (decoded: Decoded): decoded is Rejection.Rejection => decoded._tag === "Rejection"
