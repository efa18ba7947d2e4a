/**
 * The append-only, hash-chained audit log (DESIGN.md §7). Each event's hash covers its content
 * and the previous event's hash, and `audit_head` records the newest, so `verify` detects an
 * edited event, a deleted one, and deleted newest events.
 */
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { Context, DateTime, Effect, Layer, Schema, Stream } from "effect"
import { AuditEvent } from "./AuditEvent.js"
import type { Detail, Stage } from "./AuditEvent.js"
import { canonicalJson, genesisHash, hash } from "./internal/chain.js"

export interface AppendInput {
  readonly stage: Stage
  /** An id, never personal data: `feed:42`, `occurrence:niche-rms/OC-1`, `notification:EG-…`. */
  readonly subject: string
  /** Ids, outcomes, rule and clause names, reasons — never personal data. Default `{}`. */
  readonly detail?: Detail | undefined
}

/** The chain verified from the first event to the head. */
export class Intact extends Schema.TaggedClass<Intact>()("Intact", {
  count: Schema.Int,
  /** The head's seq (0 when empty) and hash (64 zeros when empty). */
  seq: Schema.Int,
  hash: Schema.String
}) {}

/**
 * `edited`: the event's content, or its link to the previous event, no longer matches its hash.
 * `missing`: events were deleted just before the one named by `stage`/`subject`.
 * `head-mismatch`: the chain ends before, or differently from, `audit_head`: the newest events
 * were deleted or the head altered.
 */
export const Problem = Schema.Literal("edited", "missing", "head-mismatch")
export type Problem = typeof Problem.Type

/** The first link that does not verify. `seq` is the first bad sequence number. */
export class Broken extends Schema.TaggedClass<Broken>()("Broken", {
  seq: Schema.Int,
  problem: Problem,
  /** The edited event, the event after a gap, or the last event before a head mismatch. */
  stage: Schema.optional(Schema.String),
  subject: Schema.optional(Schema.String),
  /** Events that verified before the break. */
  verified: Schema.Int
}) {
  get message(): string {
    const event = this.stage === undefined ? "" : ` (${this.stage} ${this.subject ?? ""})`
    switch (this.problem) {
      case "edited":
        return `audit event ${this.seq}${event} was edited`
      case "missing":
        return `audit events are missing from seq ${this.seq} up to the next event${event}`
      case "head-mismatch":
        return `the audit chain does not end at its recorded head (seq ${this.seq}): newest events deleted or head altered${
          event && `; last event${event}`
        }`
    }
  }
}

export type VerifyReport = Intact | Broken

export interface AuditLog {
  /**
   * Appends one event. Inside a `Sql.transaction` it joins it, so the event commits or rolls back
   * with the caller's work; outside, it runs in its own. Writers are serialised by a row lock on
   * `audit_head` held until that transaction ends, so append last, just before committing.
   */
  readonly append: (input: AppendInput) => Effect.Effect<void, SqlError.SqlError>
  /** Appends events in order under one lock and one statement; returns them as stored. */
  readonly appendAll: (inputs: ReadonlyArray<AppendInput>) => Effect.Effect<ReadonlyArray<AuditEvent>, SqlError.SqlError>
  /** Checks the whole chain, streaming it in seq order. */
  readonly verify: Effect.Effect<VerifyReport, SqlError.SqlError>
  /** Events in seq order, optionally those whose subject starts with `subjectPrefix`, as stored. */
  readonly events: (options?: { readonly subjectPrefix?: string | undefined }) => Stream.Stream<AuditEvent, SqlError.SqlError>
}

export const AuditLog = Context.GenericTag<AuditLog>("@encompass/audit/AuditLog")

interface EventRow {
  readonly seq: string
  readonly at: Date
  readonly stage: string
  readonly subject: string
  readonly detail: unknown
  readonly prev_hash: string
  readonly hash: string
}

interface Progress {
  readonly _tag: "Progress"
  readonly next: number
  readonly prevHash: string
  readonly last: EventRow | undefined
}

const verifyRow = (headSeq: number, headHash: string) => (state: Progress | Broken, row: EventRow): Progress | Broken => {
  if (state._tag === "Broken") return state
  const seq = Number(row.seq)
  const verified = state.next - 1
  if (seq !== state.next) {
    return new Broken({ seq: state.next, problem: "missing", stage: row.stage, subject: row.subject, verified })
  }
  const link = {
    seq,
    at: row.at.toISOString(),
    stage: row.stage,
    subject: row.subject,
    detail: canonicalJson(row.detail),
    prevHash: row.prev_hash
  }
  if (hash(link) !== row.hash) {
    return new Broken({ seq, problem: "edited", stage: row.stage, subject: row.subject, verified })
  }
  if (row.prev_hash !== state.prevHash) {
    // This event is intact but does not follow the previous one: that one was rewritten along
    // with its hash.
    const edited = state.last ?? row
    return new Broken({ seq: Number(edited.seq), problem: "edited", stage: edited.stage, subject: edited.subject, verified: Math.max(0, verified - 1) })
  }
  if (seq === headSeq && row.hash !== headHash) {
    return new Broken({ seq, problem: "head-mismatch", stage: row.stage, subject: row.subject, verified })
  }
  return { _tag: "Progress", next: seq + 1, prevHash: row.hash, last: row }
}

const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, "\\$&")}%`

export const make: Effect.Effect<AuditLog, never, Sql.Sql> = Effect.map(Sql.Sql, (sql) => {
  const appendAll = (inputs: ReadonlyArray<AppendInput>) =>
    inputs.length === 0 ? Effect.succeed([]) : sql.transaction(Effect.gen(function*() {
      // The row lock serialises writers, here and in other processes, until this transaction ends.
      const [head] = yield* sql.query<{ seq: string; hash: string; at: Date }>`
        SELECT seq, hash, date_trunc('milliseconds', clock_timestamp()) AS at FROM audit_head FOR UPDATE`
      if (head === undefined) return yield* Effect.dieMessage("audit_head has no row: the audit migration did not run")
      const at = head.at.toISOString()
      const events: Array<AuditEvent> = []
      const rows: Array<{ seq: number; at: Date; stage: string; subject: string; detail: string; prev_hash: string; hash: string }> = []
      let prevHash = head.hash
      let seq = Number(head.seq)
      for (const input of inputs) {
        seq += 1
        const detail = canonicalJson(input.detail ?? {})
        const eventHash = hash({ seq, at, stage: input.stage, subject: input.subject, detail, prevHash })
        rows.push({ seq, at: head.at, stage: input.stage, subject: input.subject, detail, prev_hash: prevHash, hash: eventHash })
        // Built from what is written, so validating it again (slow for nested JSON) is moot.
        events.push(new AuditEvent({
          seq,
          at: DateTime.unsafeFromDate(head.at),
          stage: input.stage,
          subject: input.subject,
          detail: JSON.parse(detail) as Detail,
          prevHash,
          hash: eventHash
        }, true))
        prevHash = eventHash
      }
      // One statement: the events and the new head are written together or not at all. The
      // details go as text: typed jsonb, postgres.js would JSON-encode the strings again.
      yield* sql.use((s) =>
        s`WITH event AS (
            INSERT INTO audit_event (seq, at, stage, subject, detail, prev_hash, hash)
            SELECT seq, at, stage, subject, detail::jsonb, prev_hash, hash
            FROM json_to_recordset(${JSON.stringify(rows)}::text::json)
              AS r(seq bigint, at timestamptz, stage text, subject text, detail text, prev_hash text, hash text)
          )
          UPDATE audit_head SET seq = ${seq}, hash = ${prevHash}`
      )
      return events
    }))

  const append = (input: AppendInput) => Effect.asVoid(appendAll([input]))

  const verify = Effect.gen(function*() {
    // Read before streaming: with the embedded database the stream holds the only connection.
    const [head] = yield* sql.query<{ seq: string; hash: string }>`SELECT seq, hash FROM audit_head`
    // A deleted head row matches no event: the chain is checked, then reported at its end.
    const headSeq = head === undefined ? -1 : Number(head.seq)
    const headHash = head?.hash ?? ""
    const initial: Progress | Broken = { _tag: "Progress", next: 1, prevHash: genesisHash, last: undefined }
    const result = yield* sql.stream<EventRow>(
      (s) => s`SELECT seq, at, stage, subject, detail, prev_hash, hash FROM audit_event ORDER BY seq`,
      { batchSize: 1000 }
    ).pipe(Stream.runFoldWhile(initial, (state) => state._tag === "Progress", verifyRow(headSeq, headHash)))
    if (result._tag === "Broken") return result
    const lastSeq = result.next - 1
    // Events after the head were appended while verifying, and were checked like the rest.
    if (head === undefined || lastSeq < headSeq || (headSeq === 0 && headHash !== genesisHash)) {
      return new Broken({
        seq: head === undefined ? lastSeq : lastSeq + 1,
        problem: "head-mismatch",
        ...(result.last === undefined ? {} : { stage: result.last.stage, subject: result.last.subject }),
        verified: lastSeq
      })
    }
    return new Intact({ count: lastSeq, seq: lastSeq, hash: result.prevHash })
  })

  const events = (options?: { readonly subjectPrefix?: string | undefined }) =>
    sql.stream<EventRow>((s) =>
      options?.subjectPrefix === undefined
        ? s`SELECT seq, at, stage, subject, detail, prev_hash, hash FROM audit_event ORDER BY seq`
        : s`SELECT seq, at, stage, subject, detail, prev_hash, hash FROM audit_event
            WHERE subject LIKE ${likePrefix(options.subjectPrefix)} ORDER BY seq`
    ).pipe(
      Stream.map((row) =>
        // As stored, unvalidated: an export must show a tampered event, and `verify` judges it.
        new AuditEvent({
          seq: Number(row.seq),
          at: DateTime.unsafeFromDate(row.at),
          stage: row.stage,
          subject: row.subject,
          detail: row.detail as Detail,
          prevHash: row.prev_hash,
          hash: row.hash
        }, true)
      )
    )

  return { append, appendAll, verify, events }
})

/** The audit log on the store's `Sql`. */
export const layer: Layer.Layer<AuditLog, never, Sql.Sql> = Layer.effect(AuditLog, make)

/**
 * Runs `self` — inside the caller's `Sql.transaction` — with its `append`s held back, then
 * appends them together, in order, when it succeeds. The head's row lock, which every writer of
 * every gateway process waits for, is then held from that one write to the commit instead of
 * through all of `self`'s work. An `appendAll` inside writes what is held so far and its own at once.
 */
export const deferred = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError.SqlError, R | AuditLog> =>
  Effect.gen(function*() {
    const log = yield* AuditLog
    const held: Array<AppendInput> = []
    const flush = (more: ReadonlyArray<AppendInput>) =>
      Effect.suspend(() => {
        const batch = [...held.splice(0), ...more]
        return Effect.map(log.appendAll(batch), (events) => events.slice(batch.length - more.length))
      })
    const holding: AuditLog = { ...log, append: (input) => Effect.sync(() => void held.push(input)), appendAll: flush }
    const result = yield* Effect.provideService(self, AuditLog, holding)
    yield* flush([])
    return result
  })
