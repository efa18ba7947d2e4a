/**
 * The signed anchors kept outside the database: a JSON-lines file (`audit anchors`'s format) the
 * gateway brings up to date with the stored anchors after each one it signs, and that `audit
 * verify` checks the chain against. Kept where the database's administrators cannot write (another
 * host's mount, append-only storage), it detects a tail cut off below any anchor in it even when
 * the stored anchors were deleted too. Only ever appended to: a line is never rewritten.
 */
import type { SqlError } from "@encompass/store"
import { Chunk, Effect, Either, Schema, Stream } from "effect"
import * as fs from "node:fs/promises"
import { parseJsonLines, toJsonLine } from "./AuditAnchor.js"
import type { Anchor } from "./AuditAnchor.js"
import type { AuditLog } from "./AuditLog.js"

export class AnchorCopyError extends Schema.TaggedError<AnchorCopyError>()("@encompass/audit/AnchorCopyError", {
  module: Schema.Literal("AnchorCopy"),
  method: Schema.Literal("read", "sync"),
  file: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `the audit anchors file ${this.file}: ${this.detail}`
  }
}

const failure = (method: "read" | "sync", file: string) => (e: unknown) =>
  new AnchorCopyError({ module: "AnchorCopy", method, file, detail: e instanceof Error && "code" in e ? `cannot be opened (${String(e.code)})` : String(e) })

/** The anchors in the file; a missing file is an error, since it is written from the first command on. */
export const read = (file: string): Effect.Effect<ReadonlyArray<Anchor>, AnchorCopyError> =>
  Effect.tryPromise({ try: () => fs.readFile(file, "utf8"), catch: failure("read", file) }).pipe(
    Effect.flatMap((text) =>
      Either.mapLeft(parseJsonLines(text), (e) => new AnchorCopyError({ module: "AnchorCopy", method: "read", file, detail: e.message }))
    )
  )

// Enough of the file's end to hold its last line (an anchor's line is about 300 bytes).
const tailBytes = 4096

/** The seq of the file's last anchor (0 for a new or empty file), from its last line only. */
const newestSeq = (file: string) =>
  Effect.acquireUseRelease(
    Effect.tryPromise({ try: () => fs.open(file, "a+"), catch: failure("sync", file) }),
    (handle) =>
      Effect.gen(function*() {
        const { size } = yield* Effect.tryPromise({ try: () => handle.stat(), catch: failure("sync", file) })
        const length = Math.min(size, tailBytes)
        const buffer = Buffer.alloc(length)
        yield* Effect.tryPromise({ try: () => handle.read(buffer, 0, length, size - length), catch: failure("sync", file) })
        const last = buffer.toString("utf8").trimEnd().split("\n").at(-1) ?? ""
        if (last.trim() === "") return 0
        const parsed = parseJsonLines(last)
        if (Either.isLeft(parsed)) {
          return yield* new AnchorCopyError({ module: "AnchorCopy", method: "sync", file, detail: `its last line is not an anchor (${parsed.left.detail}); nothing appended` })
        }
        return parsed.right[0]?.seq ?? 0
      }),
    (handle) => Effect.promise(() => handle.close())
  )

/**
 * Appends the stored anchors newer than the file's last one, flushed to disk, creating the file if
 * need be; returns how many. Two processes syncing at once may both append an anchor: a repeated
 * line checks the same as one.
 */
export const sync = (file: string, log: AuditLog): Effect.Effect<number, AnchorCopyError | SqlError.SqlError> =>
  Effect.gen(function*() {
    const after = yield* newestSeq(file)
    const fresh = Chunk.toReadonlyArray(yield* Stream.runCollect(log.anchorsAfter(after)))
    if (fresh.length === 0) return 0
    const text = fresh.map((a) => `${toJsonLine(a)}\n`).join("")
    yield* Effect.acquireUseRelease(
      Effect.tryPromise({ try: () => fs.open(file, "a"), catch: failure("sync", file) }),
      (handle) => Effect.tryPromise({ try: async () => (await handle.appendFile(text), await handle.sync()), catch: failure("sync", file) }),
      (handle) => Effect.promise(() => handle.close())
    )
    return fresh.length
  })
