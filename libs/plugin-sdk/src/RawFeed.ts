import type { Ids } from "@encompass/domain"
import type { Stream } from "effect"
import { Schema } from "effect"

/** The feed's bytes could not be read (a transport or file error, not bad content). */
export class FeedReadError extends Schema.TaggedError<FeedReadError>()("FeedReadError", {
  reason: Schema.NonEmptyString
}) {}

/**
 * A batch exactly as an intake transport received it (SFTP drop, SMTP inbox, HTTP push, file).
 * The content is a stream so a 1 GB export decodes in constant memory.
 */
export interface RawFeed {
  readonly source: Ids.SourceId
  /** The file or attachment name the feed arrived as; not personal data. */
  readonly name: string
  readonly content: Stream.Stream<Uint8Array, FeedReadError>
}
