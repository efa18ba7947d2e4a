/**
 * A remote file as a `RawFeed`. The inbox sees only `FeedReadError`; why the download stopped is
 * kept beside it, because the drop acts on it: a file that grew is left for the next poll, one
 * the server will not let us read goes to `failed/`, a broken connection ends the poll.
 */
import type { Ids } from "@encompass/domain"
import { RawFeed } from "@encompass/plugin-sdk"
import { Effect, Option, Ref, Stream } from "effect"
import type { RemoteFile } from "./sftpSelect.js"
import type { ReadProblem, Session } from "./sftpSession.js"

/** `Changed`: the file's length differs from the listing's: it is still being written. */
export type Problem = ReadProblem | { readonly _tag: "Changed"; readonly detail: string }

export interface RemoteFeed {
  readonly feed: RawFeed.RawFeed
  /** Why the last download failed, if it did. */
  readonly problem: Effect.Effect<Option.Option<Problem>>
}

const changed = (detail: string): Problem => ({ _tag: "Changed", detail })

export const make = (session: Session, source: Ids.SourceId, path: string, file: RemoteFile): Effect.Effect<RemoteFeed> =>
  Effect.map(Ref.make(Option.none<Problem>()), (problem) => {
    const content = Stream.suspend(() => {
      let bytes = 0
      return session.read(path).pipe(
        Stream.mapError((error): Problem => error),
        Stream.tap((chunk) => {
          bytes += chunk.byteLength
          return bytes > file.size ? Effect.fail(changed(`grew past the listed ${file.size} bytes while being read`)) : Effect.void
        }),
        Stream.concat(Stream.suspend(() => bytes === file.size ? Stream.empty : Stream.fail(changed(`${bytes} of the listed ${file.size} bytes`))))
      )
    }).pipe(
      Stream.tapError((error) => Ref.set(problem, Option.some(error))),
      Stream.mapError((error) => new RawFeed.FeedReadError({ reason: `SFTP file ${file.name}: ${error.detail}` }))
    )
    return { feed: { source, name: file.name, content }, problem: Ref.get(problem) }
  })
