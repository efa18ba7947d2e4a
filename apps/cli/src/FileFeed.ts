/** A feed read from a file on disk: the `file` intake transport. */
import { FileSystem } from "@effect/platform"
import type { Ids } from "@encompass/domain"
import { RawFeed } from "@encompass/plugin-sdk"
import { Effect, Stream } from "effect"
import * as path from "node:path"

/** The feed's content streams from the file on every run, so it can be hashed and then decoded. */
export const make = (source: Ids.SourceId, file: string): Effect.Effect<RawFeed.RawFeed, never, FileSystem.FileSystem> =>
  Effect.map(FileSystem.FileSystem, (fs) => ({
    source,
    name: path.basename(file),
    content: fs.stream(file, { chunkSize: FileSystem.KiB(64) }).pipe(
      Stream.mapError((error) => new RawFeed.FeedReadError({ reason: `cannot read the feed file (${error._tag === "SystemError" ? error.reason : "bad path"})` }))
    )
  }))
