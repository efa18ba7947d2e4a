/**
 * The SFTP drop intake transport (DESIGN.md §3): polls a force's outbound folder on the force's
 * SFTP server and hands each complete file to the `FeedInbox`. A file is moved to `done/` only
 * after the inbox has stored it, so a crash between the two costs nothing: the next poll
 * receives the same bytes again, the inbox answers `repeat`, and the file is moved then.
 */
import { AuditLog } from "@encompass/audit"
import { FeedInbox } from "@encompass/pipeline"
import { Clock, Duration, Effect, Either, Layer, Option, Ref } from "effect"
import { randomBytes } from "node:crypto"
import { readFile } from "node:fs/promises"
import * as posix from "node:path/posix"
import * as RemoteFeed from "./internal/sftpFeed.js"
import { asideNames, compilePattern, isCandidate, judge } from "./internal/sftpSelect.js"
import type { RemoteFile, Sightings } from "./internal/sftpSelect.js"
import * as Session from "./internal/sftpSession.js"
import type { SftpDropConfig } from "./SftpDropConfig.js"
import { SftpDropError } from "./SftpDropError.js"

/** A file received by the inbox and acknowledged by moving it. */
export interface Picked {
  readonly name: string
  /** The inbox's feed id. */
  readonly feed: string
  readonly sha256: string
  readonly bytes: number
  /** The inbox had these bytes already: an earlier poll stored them but did not get to move the file. */
  readonly repeat: boolean
  /** Where it went, under `directory`; undefined when another process polling the drop moved it first. */
  readonly movedTo: string | undefined
}

/** A file that will never be taken, moved to the failed folder (and audited as `rejected`). */
export interface Failed {
  readonly name: string
  readonly bytes: number
  readonly reason: "TooLarge" | "Unreadable"
  readonly detail: string
  readonly movedTo: string | undefined
}

/** A file the server would not let this poll finish with (e.g. refused a rename); tried again next poll. */
export interface Stuck {
  readonly name: string
  readonly detail: string
}

export interface PollReport {
  readonly picked: ReadonlyArray<Picked>
  /** Names seen but not yet unchanged for `stableFor`, or found still growing while read. */
  readonly unstable: ReadonlyArray<string>
  readonly failed: ReadonlyArray<Failed>
  readonly stuck: ReadonlyArray<Stuck>
}

export interface SftpDrop {
  /** One poll on a fresh connection, closed when the poll ends. Polls of one drop take turns. */
  readonly pollOnce: Effect.Effect<PollReport, SftpDropError, FeedInbox.FeedInbox | AuditLog.AuditLog>
  /** Polls forever, `pollInterval` apart; a failed poll is logged and the next one comes anyway. */
  readonly run: Effect.Effect<never, never, FeedInbox.FeedInbox | AuditLog.AuditLog>
}

/**
 * A drop keeps, between polls, what it saw of each file: size and time must hold across polls
 * before it takes one. Keep the drop for the life of the process; a new one starts that count again.
 */
export const make = (config: SftpDropConfig): Effect.Effect<SftpDrop> =>
  Effect.gen(function*() {
    const sightings = yield* Ref.make<Sightings>(new Map())
    const turns = yield* Effect.makeSemaphore(1)
    const server = Session.server(config)
    const matches = config.pattern === undefined ? () => true : Either.getOrElse(compilePattern(config.pattern), () => () => false)
    const fail = (method: SftpDropError["method"], reason: SftpDropError["reason"], detail: string) =>
      new SftpDropError({ method, reason, server, detail })

    const readKey = Effect.tryPromise({
      try: () => readFile(config.privateKey),
      catch: (cause) => {
        const code = (cause as { code?: unknown }).code
        return fail("readKey", "InvalidConfig", `cannot read the private key file ${config.privateKey}${typeof code === "string" ? ` (${code})` : ""}`)
      }
    })

    const poll = Effect.gen(function*() {
      const inbox = yield* FeedInbox.FeedInbox
      const audit = yield* AuditLog.AuditLog
      const session = yield* Session.open(config, yield* readKey)
      const listing = yield* session.list(config.directory)
      const now = yield* Clock.currentTimeMillis
      const files: Array<RemoteFile> = listing.filter((entry) => entry.type === "-" && isCandidate(entry.name, matches))
      const judged = judge(files, yield* Ref.get(sightings), now, Duration.toMillis(config.stableFor))
      yield* Ref.set(sightings, judged.sightings)

      const picked: Array<Picked> = []
      const unstable = judged.unstable.map((file) => file.name)
      const failed: Array<Failed> = []
      const stuck: Array<Stuck> = []
      const ensured = new Set<string>()
      // A file that is dealt with is forgotten, so a new file of that name waits `stableFor` afresh.
      const forget = (name: string) =>
        Ref.update(sightings, (seen) => {
          const next = new Map(seen)
          next.delete(name)
          return next
        })

      /** Moves `name` into `folder` under the first free name; undefined if it vanished meanwhile. */
      const moveAside = (name: string, folder: string, tag: string) =>
        Effect.gen(function*() {
          const from = posix.join(config.directory, name)
          const dir = posix.join(config.directory, folder)
          if (!ensured.has(dir)) {
            if (!(yield* session.exists(dir))) yield* session.mkdir(dir)
            ensured.add(dir)
          }
          const names = asideNames(name, tag, randomBytes(4).toString("hex"))
          for (const candidate of names) {
            if (yield* session.exists(posix.join(dir, candidate))) continue
            const moved = yield* Effect.either(session.rename(from, posix.join(dir, candidate)))
            if (Either.isRight(moved)) return `${folder}/${candidate}`
            // Another gateway polling the same drop moved it first; the inbox has it either way.
            if (!(yield* session.exists(from))) return undefined
            return yield* moved.left
          }
          return yield* fail("move", "Remote", `${folder}/ already holds ${names.join(", ")}`)
        })

      const reject = (file: RemoteFile, reason: Failed["reason"], detail: string) =>
        Effect.gen(function*() {
          const stamp = new Date(now).toISOString().replace(/[-:]|\.\d+/g, "")
          const movedTo = yield* moveAside(file.name, config.failedFolder, stamp)
          yield* audit.append({
            stage: "rejected",
            subject: `sftp:${config.source}/${file.name}`,
            detail: { source: config.source, transport: "sftp", file: file.name, bytes: file.size, reason, detail, movedTo: movedTo ?? null }
          }).pipe(Effect.mapError((error) => fail("audit", "Store", `${file.name} was moved to ${config.failedFolder}/ but not audited: ${error.message}`)))
          failed.push({ name: file.name, bytes: file.size, reason, detail, movedTo })
          yield* forget(file.name)
          yield* Effect.logWarning("SFTP drop: file moved to the failed folder").pipe(
            Effect.annotateLogs({ file: file.name, bytes: file.size, reason, detail, movedTo: movedTo ?? "(moved by another process)" })
          )
        })

      const take = (file: RemoteFile) =>
        Effect.gen(function*() {
          if (file.size > config.maxFileBytes) {
            return yield* reject(file, "TooLarge", `${file.size} bytes, over the limit of ${config.maxFileBytes}`)
          }
          const remote = yield* RemoteFeed.make(session, config.source, posix.join(config.directory, file.name), file)
          const received = yield* Effect.either(inbox.receive(remote.feed, "sftp"))
          if (Either.isLeft(received)) {
            const problem = yield* remote.problem
            if (Option.isNone(problem)) {
              const error = received.left
              return yield* fail("receive", "Store", `${file.name}: ${error._tag === "SqlError" ? error.message : error.reason}`)
            }
            const kind = problem.value._tag === "Changed" ? "Changed" : problem.value.kind
            switch (kind) {
              case "Changed":
                unstable.push(file.name)
                return yield* forget(file.name)
              case "Gone":
                return yield* forget(file.name)
              case "Unreadable":
                return yield* reject(file, "Unreadable", problem.value.detail)
              case "Transport":
              case "Timeout":
                return yield* fail("read", kind, `${file.name}: ${problem.value.detail}`)
            }
          }
          const feed = received.right
          // Only now, with the bytes stored, is the file acknowledged.
          const movedTo = yield* moveAside(file.name, config.doneFolder, feed.sha256.slice(0, 12))
          picked.push({ name: file.name, feed: feed.id, sha256: feed.sha256, bytes: feed.size, repeat: feed.repeat, movedTo })
          yield* forget(file.name)
          yield* Effect.logInfo("SFTP drop: feed received").pipe(
            Effect.annotateLogs({ file: file.name, feed: feed.id, bytes: feed.size, repeat: feed.repeat, movedTo: movedTo ?? "(moved by another process)" })
          )
        }).pipe(
          // One file the server will not let us finish must not hold up the rest.
          Effect.catchIf((error) => error.reason === "Remote", (error) =>
            Effect.sync(() => stuck.push({ name: file.name, detail: error.detail })).pipe(
              Effect.zipRight(Effect.logWarning("SFTP drop: file left for the next poll").pipe(Effect.annotateLogs({ file: file.name, detail: error.detail })))
            ))
        )

      for (const file of judged.ready) yield* take(file)
      return { picked, unstable, failed, stuck } satisfies PollReport
    })

    const pollOnce = turns.withPermits(1)(Effect.scoped(poll)).pipe(
      Effect.annotateLogs({ intake: "sftp", source: config.source, server })
    )

    const run = pollOnce.pipe(
      Effect.catchAll((error) =>
        Effect.logWarning("SFTP drop: poll failed").pipe(
          Effect.annotateLogs({ method: error.method, reason: error.reason, retryable: error.retryable, error: error.message })
        )
      ),
      Effect.catchAllDefect((defect) => Effect.logError("SFTP drop: poll failed unexpectedly", defect)),
      Effect.zipRight(Effect.sleep(config.pollInterval)),
      Effect.forever,
      Effect.annotateLogs({ intake: "sftp", source: config.source, server })
    )

    return { pollOnce, run }
  })

/** `make` then `run`: the drop's polling loop, for as long as the fiber lives. */
export const run = (config: SftpDropConfig): Effect.Effect<never, never, FeedInbox.FeedInbox | AuditLog.AuditLog> =>
  Effect.flatMap(make(config), (drop) => drop.run)

/** The polling loop as a layer: started in the background when built, interrupted (connection closed) when released. */
export const layer = (config: SftpDropConfig): Layer.Layer<never, never, FeedInbox.FeedInbox | AuditLog.AuditLog> =>
  Layer.scopedDiscard(Effect.forkScoped(run(config)))
