/**
 * The append-only, hash-chained audit log (DESIGN.md §7). Each event's hash is an HMAC under the
 * audit key (derived from the region's master key, which the database never holds) of its content
 * and the previous event's hash; `audit_head` records the newest, and signed anchors
 * (`AuditAnchor`) record heads outside the database's control. `verify` detects an edited event,
 * a deleted one, deleted newest events, a chain rewritten without the key, and a tail cut off
 * below an anchor.
 */
import type { SqlError } from "@encompass/store"
import { Sql, StoreKeys, Vault } from "@encompass/store"
import { Chunk, Context, DateTime, Effect, Layer, Option, Redacted, Schedule, Schema, Stream } from "effect"
import type { Duration } from "effect"
import * as AnchorCopy from "./AnchorCopy.js"
import { Anchor, signer } from "./AuditAnchor.js"
import { AuditEvent } from "./AuditEvent.js"
import type { Detail, Stage } from "./AuditEvent.js"
import { availableParallelism } from "node:os"
import * as HmacWorker from "./internal/hmacWorker.js"
import { canonicalJson, canonicalLink, chainHash, genesisHash, hmacHex } from "./internal/chain.js"
import type { Link } from "./internal/chain.js"

export interface AppendInput {
  readonly stage: Stage
  /** An id, never personal data: `feed:42`, `occurrence:niche-rms/OC-1`, `notification:EG-…`. */
  readonly subject: string
  /** Ids, outcomes, rule and clause names, reasons — never personal data. Default `{}`. */
  readonly detail?: Detail | undefined
}

/** The chain verified from the first event (or, incrementally, from `from`) to the head. */
export class Intact extends Schema.TaggedClass<Intact>()("Intact", {
  /** Events checked. */
  count: Schema.Int,
  /** The head's seq (0 when empty) and hash (64 zeros when empty). */
  seq: Schema.Int,
  hash: Schema.String,
  /** Where an incremental check started: the anchored event a previous check verified. */
  from: Schema.optional(Schema.Int),
  /** Signed anchors the chain was checked against, and the newest one's seq. */
  anchors: Schema.optional(Schema.Int),
  anchored: Schema.optional(Schema.Int),
  /** The chain starts after this seq: the events up to it were pruned, past their retention. */
  base: Schema.optional(Schema.Int)
}) {}

/**
 * `edited`: the event's content, or its link to the previous event, no longer matches its hash
 * under the audit key (a chain rewritten without the key fails at its first event).
 * `missing`: events were deleted just before the one named by `stage`/`subject`.
 * `head-mismatch`: the chain ends before, or differently from, `audit_head`: the newest events
 * were deleted or the head altered.
 * `truncated`: the chain ends before an event a signed anchor names: events from `seq` on were
 * deleted (and the head set back).
 * `anchor-mismatch`: the event at `seq` is not the one its signed anchor names: the chain up to
 * it was rewritten by someone holding the audit key.
 * `anchor-forged`: the anchor for `seq` is not signed by this region's anchor key.
 * `unrecorded-prune`: the chain starts after `seq` (its base), but no signed anchor names that
 * event, or no keyed `purged` event records the cut: events up to it were deleted, not pruned.
 */
export const Problem = Schema.Literal(
  "edited",
  "missing",
  "head-mismatch",
  "truncated",
  "anchor-mismatch",
  "anchor-forged",
  "unrecorded-prune"
)
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
      case "truncated":
        return `audit events from seq ${this.seq} were deleted: a signed anchor names a later event${event && `; last event${event}`}`
      case "anchor-mismatch":
        return `audit event ${this.seq}${event} is not the event its signed anchor names: the chain up to it was rewritten`
      case "anchor-forged":
        return `the audit anchor for seq ${this.seq} is not signed by this region's anchor key`
      case "unrecorded-prune":
        return `the audit chain starts after seq ${this.seq}, but no signed anchor and recorded prune vouch for the cut: events up to it were deleted`
    }
  }
}

export type VerifyReport = Intact | Broken

export interface VerifyOptions {
  /** Check every event from the first, not only those after the newest anchor a check verified. */
  readonly full?: boolean | undefined
  /** Anchors kept outside the database (`audit anchors --out`), checked with those inside it. */
  readonly anchors?: ReadonlyArray<Anchor> | undefined
}

export interface AuditLog {
  /**
   * Appends one event. Inside a `Sql.transaction` it joins it, so the event commits or rolls back
   * with the caller's work; outside, it runs in its own. Writers are serialised by a row lock on
   * `audit_head` held until that transaction ends, so append last, just before committing.
   */
  readonly append: (input: AppendInput) => Effect.Effect<void, SqlError.SqlError>
  /** Appends events in order under one lock and one statement; returns them as stored. */
  readonly appendAll: (inputs: ReadonlyArray<AppendInput>) => Effect.Effect<ReadonlyArray<AuditEvent>, SqlError.SqlError>
  /** Checks the whole chain against the stored anchors, streaming it in seq order. */
  readonly verify: Effect.Effect<VerifyReport, SqlError.SqlError>
  /**
   * Checks the chain from the newest anchor a previous check verified (or from the first event
   * with `full`) against the stored anchors and `anchors`, streaming it in seq order; records the
   * anchors it verified, for the next check to start from.
   */
  readonly verifyWith: (options: VerifyOptions) => Effect.Effect<VerifyReport, SqlError.SqlError>
  /** Signs the head into `audit_anchor` when it has moved past the newest anchor; returns the new anchor. */
  readonly anchor: Effect.Effect<Option.Option<Anchor>, SqlError.SqlError>
  /** The stored anchors in seq order. */
  readonly anchors: Stream.Stream<Anchor, SqlError.SqlError>
  /** The stored anchors after `seq`, in seq order. */
  readonly anchorsAfter: (seq: number) => Stream.Stream<Anchor, SqlError.SqlError>
  /** The Ed25519 public key anchors are signed with, base64 of its 32 bytes. */
  readonly publicKey: string
  /**
   * What `prune` may cut as of `before`: the events up to the newest signed anchor whose event was
   * stored before it (the chain is cut only at an anchor, which then vouches for its base), and
   * whether this connection's role may delete them — the owner's may, the gateway's may not.
   */
  readonly prunable: (before: Date) => Effect.Effect<Prunable, SqlError.SqlError>
  /**
   * Cuts the events up to `through` (a `prunable` anchor) from the chain, which then starts after
   * it, in one transaction with the `purged` event (subject `pruneSubject`) that records the cut:
   * `detail` with `through` and `count` added. Verify the chain first: what is cut cannot be.
   */
  readonly prune: (through: number, detail: Detail) => Effect.Effect<number, SqlError.SqlError>
  /** Events in seq order, optionally those whose subject starts with `subjectPrefix`, as stored. */
  readonly events: (options?: { readonly subjectPrefix?: string | undefined }) => Stream.Stream<AuditEvent, SqlError.SqlError>
}

export const AuditLog = Context.GenericTag<AuditLog>("@encompass/audit/AuditLog")

export interface Prunable {
  /** The anchored seq the chain would be cut at, and the events up to it; 0 and 0 when none is due. */
  readonly through: number
  readonly count: number
  readonly permitted: boolean
}

/** The subject of the `purged` event a cut of the chain appends, which `verify` looks for. */
export const pruneSubject = "retention:auditSkeleton"

interface EventRow {
  readonly seq: string
  readonly at: Date
  readonly stage: string
  readonly subject: string
  readonly detail: unknown
  readonly prev_hash: string
  readonly hash: string
}

/**
 * An event as `verify` reads it: its canonical bytes as the database renders them, and its hash.
 * Its seq and prev_hash are the first and last members of the bytes (`chain.ts`), so they are
 * not fetched again: each column fetched costs as much as a third of the HMAC.
 */
interface ChainRow {
  readonly bytes: string
  readonly hash: string
}

interface AnchorRow {
  readonly seq: string
  readonly hash: string
  readonly signed_at: string
  readonly public_key: string
  readonly signature: string
}

const anchorOf = (row: AnchorRow) =>
  new Anchor({ seq: Number(row.seq), hash: row.hash, at: row.signed_at, publicKey: row.public_key, signature: row.signature })

interface Progress {
  readonly _tag: "Progress"
  readonly next: number
  /** The hash the next event must link to; undefined before a range's (or an incremental check's) first event. */
  readonly prevHash: string | undefined
  readonly checked: number
  /** The prev_hash of the range's first event, to join the range to the one before it. */
  readonly firstPrev: string | undefined
}

/** The first bad link the stream found; named by `name`'s stage and subject once the stream is done. */
interface Found {
  readonly _tag: "Found"
  readonly seq: number
  readonly problem: Problem
  readonly name: number
  readonly verified: number
  readonly firstPrev: string | undefined
}

/**
 * The bytes an event's hash covers (README "Chain format"), for an auditor's own tools: the JSON
 * array `[seq, at, stage, subject, detail, prevHash]`, UTF-8, with `detail` as `detail::text`.
 */
export const canonicalBytes: (link: Link) => string = canonicalLink

/** The labels of the keys derived from the master key: the chain's MAC key and the anchors' signing seed. */
export const chainKeyLabel = "audit-chain-hmac-v1"
export const anchorKeyLabel = "audit-anchor-ed25519-v1"

/** A fetched batch of rows and the HMAC of each one's bytes. */
interface Checked {
  readonly rows: ReadonlyArray<ChainRow>
  readonly macs: ReadonlyArray<string>
}

/** Chains this long or longer have their HMACs computed on a worker thread; shorter ones here. */
const workerFrom = 20_000

/**
 * Checks the rows of one fetched batch in order, stopping at the first bad link. `floor`: the
 * events up to it are known good (the anchored start of an incremental check, or the range before).
 */
const verifyBatch = (
  head: { readonly seq: number; readonly hash: string },
  anchored: ReadonlyMap<number, ReadonlyArray<Anchor>>,
  floor: number
) =>
(state: Progress | Found, { macs, rows }: Checked): Progress | Found => {
  if (state._tag === "Found") return state
  let { checked, firstPrev, next, prevHash } = state
  for (const [i, row] of rows.entries()) {
    const seq = Number(row.bytes.slice(1, row.bytes.indexOf(",")))
    const linked = row.bytes.slice(-66, -2)
    const verified = next - 1
    if (seq !== next) return { _tag: "Found", seq: next, problem: "missing", name: seq, verified, firstPrev }
    if (checked === 0) firstPrev = linked
    if (macs[i] !== row.hash) return { _tag: "Found", seq, problem: "edited", name: seq, verified, firstPrev }
    if (prevHash !== undefined && linked !== prevHash) {
      // This event is intact but does not follow the previous one: that one was rewritten along
      // with its hash (or, at an incremental start, the event before is not the anchored one).
      const edited = checked === 0 ? seq : seq - 1
      return { _tag: "Found", seq: edited, problem: "edited", name: edited, verified: Math.max(floor, verified - 1), firstPrev }
    }
    for (const anchor of anchored.get(seq) ?? []) {
      if (anchor.hash !== row.hash) return { _tag: "Found", seq, problem: "anchor-mismatch", name: seq, verified, firstPrev }
    }
    if (seq === head.seq && row.hash !== head.hash) return { _tag: "Found", seq, problem: "head-mismatch", name: seq, verified, firstPrev }
    next = seq + 1
    prevHash = row.hash
    checked += 1
  }
  return { _tag: "Progress", next, prevHash, checked, firstPrev }
}

/**
 * Joins the results of consecutive ranges into the result of checking them as one stream: the
 * first bad link of the first range that has one, unless a range before ends short of the next
 * one's start (events missing) or the next range's first event does not link to its last.
 */
const joinRanges = (results: ReadonlyArray<{ readonly from: number; readonly state: Progress | Found }>): Progress | Found =>
  results.slice(1).reduce<Progress | Found>((before, { from, state }) => {
    // A range with no events at all is passed over: the gap shows at the next one that has some.
    if (before._tag === "Found" || (state._tag === "Progress" && state.checked === 0)) return before
    if (before.next !== from) {
      const after = state._tag === "Found" && state.problem === "missing" && state.seq === from ? state.name : from
      return { _tag: "Found", seq: before.next, problem: "missing", name: after, verified: before.next - 1, firstPrev: before.firstPrev }
    }
    if (before.prevHash !== undefined && state.firstPrev !== undefined && state.firstPrev !== before.prevHash) {
      // As in `verifyBatch`: the first event of this range is intact, the last of the one before is not.
      return { _tag: "Found", seq: from - 1, problem: "edited", name: from - 1, verified: from - 2, firstPrev: before.firstPrev }
    }
    return state._tag === "Found" ? state : { ...state, checked: before.checked + state.checked, firstPrev: before.firstPrev }
  }, results[0]?.state ?? { _tag: "Progress", next: 1, prevHash: genesisHash, checked: 0, firstPrev: undefined })

/** How many ranges a check on server Postgres runs at once: more than the cores here only queue. */
const verifyRanges = Math.min(4, availableParallelism())

const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, "\\$&")}%`

/**
 * The store's `audit` key (`StoreKeys`): random, wrapped by the master key, so a rotation of the
 * master key re-wraps it and the chain verifies as before. Its unwrapping is checked at start-up
 * (`StoreKeys.checkMasterKey`); failing here is a defect.
 */
export const auditKey: Effect.Effect<Vault.DataKey, never, Sql.Sql | Vault.Vault> = Effect.orDie(StoreKeys.get("audit"))

export const make: Effect.Effect<AuditLog, never, Sql.Sql | Vault.Vault> = Effect.gen(function*() {
  const sql = yield* Sql.Sql
  const key = yield* auditKey
  const chainKey = Redacted.value(key.derive(chainKeyLabel))
  const mac = chainHash(chainKey)
  const anchorSigner = signer(Redacted.value(key.derive(anchorKeyLabel)))

  const appendAll = (inputs: ReadonlyArray<AppendInput>) =>
    inputs.length === 0 ? Effect.succeed([]) : sql.transaction(Effect.gen(function*() {
      // The row lock serialises writers, here and in other processes, until this transaction ends.
      // The same round trip gives each detail as jsonb writes it as text: the bytes its hash covers.
      const [head] = yield* sql.query<{ seq: string; hash: string; at: Date; details: ReadonlyArray<string> }>`
        SELECT seq, hash, date_trunc('milliseconds', clock_timestamp()) AS at,
          ARRAY(SELECT d.value::text FROM jsonb_array_elements(${
        `[${inputs.map((input) => canonicalJson(input.detail ?? {})).join(",")}]`
      }::text::jsonb) WITH ORDINALITY AS d ORDER BY d.ordinality) AS details
        FROM audit_head FOR UPDATE`
      if (head === undefined) return yield* Effect.dieMessage("audit_head has no row: the audit migration did not run")
      const at = head.at.toISOString()
      const events: Array<AuditEvent> = []
      const rows: Array<{ seq: number; at: Date; stage: string; subject: string; detail: string; prev_hash: string; hash: string }> = []
      let prevHash = head.hash
      let seq = Number(head.seq)
      for (const [index, input] of inputs.entries()) {
        seq += 1
        const detail = head.details[index] ?? "{}"
        const eventHash = mac({ seq, at, stage: input.stage, subject: input.subject, detail, prevHash })
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

  const storedAnchors = (from: number) =>
    sql.stream<AnchorRow>(
      (s) => s`SELECT seq, hash, signed_at, public_key, signature FROM audit_anchor WHERE seq >= ${from} ORDER BY seq`,
      { batchSize: 1000 }
    ).pipe(Stream.map(anchorOf))

  const verifyWith = (options: VerifyOptions) =>
    Effect.gen(function*() {
      // Read before streaming: with the embedded database the stream holds the only connection.
      const [headRow] = yield* sql.query<{ seq: string; hash: string }>`SELECT seq, hash FROM audit_head`
      // A deleted head row matches no event: the chain is checked, then reported at its end.
      const head = { seq: headRow === undefined ? -1 : Number(headRow.seq), hash: headRow?.hash ?? "" }
      // Events up to the base were pruned: the chain starts after it, linked to its hash.
      const [baseRow] = yield* sql.query<{ seq: string; hash: string }>`SELECT seq, hash FROM audit_base`
      const base = baseRow === undefined ? { seq: 0, hash: genesisHash } : { seq: Number(baseRow.seq), hash: baseRow.hash }
      // Incremental: from the newest anchor a check verified (its signature is checked again below).
      const [resume] = options.full === true ? [] : yield* sql.query<{ seq: string }>`
        SELECT max(v.anchor) AS seq FROM audit_verified v JOIN audit_anchor a ON a.seq = v.anchor`
      const resumed = resume?.seq == null ? 0 : Number(resume.seq)
      // The anchored event an incremental check starts at, or 0 to start after the base.
      const start = resumed > base.seq ? resumed : 0
      const floor = start > 0 ? start : base.seq
      // One anchor per signing interval: a few thousand a year, held while the events stream. Those
      // below the base name pruned events.
      const anchors = [
        ...new Map(
          [...(yield* Stream.runCollect(storedAnchors(floor))), ...(options.anchors ?? []).filter((a) => a.seq >= floor)]
            // The same anchor stored and kept outside is one anchor.
            .map((a) => [`${a.seq}:${a.hash}:${a.signature}`, a] as const)
        ).values()
      ]
      const forged = anchors.filter((a) => !anchorSigner.check(a)).sort((a, b) => a.seq - b.seq)[0]
      if (forged !== undefined) return new Broken({ seq: forged.seq, problem: "anchor-forged", verified: 0 })
      const anchored = new Map<number, Array<Anchor>>()
      for (const a of anchors) anchored.set(a.seq, [...(anchored.get(a.seq) ?? []), a])
      const newest = anchors.reduce((max, a) => Math.max(max, a.seq), 0)
      // The base is trusted only as a signed anchor's event; whoever set it without the key fails here.
      const baseAnchors = anchored.get(base.seq) ?? []
      if (start === 0 && base.seq > 0 && (baseAnchors.length === 0 || baseAnchors.some((a) => a.hash !== base.hash))) {
        return new Broken({ seq: base.seq, problem: "unrecorded-prune", verified: 0 })
      }

      // On server Postgres the chain is checked in consecutive ranges at once, one connection
      // each, so rendering uses more than one database backend and the HMACs keep this process
      // busy; the ranges are then joined in order. The last range is open: events appended while
      // verifying are checked like the rest. The embedded database has one connection.
      const first = start > 0 ? start : base.seq + 1
      const span = head.seq - first + 1
      const parts = sql.backend === "server" ? Math.min(verifyRanges, Math.max(1, span)) : 1
      const bounds = Array.from({ length: parts }, (_, i) => first + Math.floor((i * span) / parts))
      const mac = hmacHex(chainKey)
      const hmacs = span >= workerFrom
        ? Effect.map(HmacWorker.make(chainKey), (worker) => worker.macs)
        : Effect.succeed((bytes: ReadonlyArray<string>) => Effect.sync(() => bytes.map(mac)))
      const results = yield* Effect.scoped(Effect.flatMap(hmacs, (macs) => Effect.forEach(bounds, (from, i) => {
        const to = bounds[i + 1]
        const initial: Progress = i === 0 && start === 0
          ? { _tag: "Progress", next: first, prevHash: base.hash, checked: 0, firstPrev: undefined }
          : { _tag: "Progress", next: from, prevHash: undefined, checked: 0, firstPrev: undefined }
        // The database renders each event's canonical bytes (README "Chain format"), so a row is
        // checked with one HMAC and no parsing; while one batch is checked, the HMACs of the next
        // are computed and the one after is fetched.
        return sql.stream<ChainRow>(
          (s) =>
            s`SELECT '[' || seq || ',"' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '",'
                || to_json(stage)::text || ',' || to_json(subject)::text || ',' || detail::text || ','
                || to_json(prev_hash)::text || ']' AS bytes, hash
              FROM audit_event WHERE seq >= ${from} ${to === undefined ? s`` : s`AND seq < ${to}`}
              ORDER BY audit_event.seq`,
          { batchSize: 10_000 }
        ).pipe(
          Stream.chunks,
          Stream.mapEffect((chunk) => {
            const rows = Chunk.toReadonlyArray(chunk)
            return Effect.map(macs(rows.map((row) => row.bytes)), (macs): Checked => ({ rows, macs }))
          }, { concurrency: 2 }),
          Stream.buffer({ capacity: 1 }),
          Stream.runFoldWhile(
            initial as Progress | Found,
            (state) => state._tag === "Progress",
            verifyBatch(head, anchored, i === 0 ? floor : from - 1)
          ),
          Effect.map((state) => ({ from, state }))
        )
      }, { concurrency: "unbounded" })))
      const result = joinRanges(results)
      const named = (seq: number) =>
        Effect.map(
          sql.query<{ stage: string; subject: string }>`SELECT stage, subject FROM audit_event WHERE seq = ${seq}`,
          (rows) => (rows[0] === undefined ? {} : { stage: rows[0].stage, subject: rows[0].subject })
        )
      if (result._tag === "Found") {
        return new Broken({ seq: result.seq, problem: result.problem, ...(yield* named(result.name)), verified: result.verified })
      }
      const lastSeq = result.next - 1
      const last = lastSeq < first ? {} : yield* named(lastSeq)
      if (newest > lastSeq) {
        return new Broken({ seq: lastSeq + 1, problem: "truncated", ...last, verified: lastSeq })
      }
      // Events after the head were appended while verifying, and were checked like the rest.
      if (headRow === undefined || lastSeq < head.seq || (head.seq === 0 && head.hash !== genesisHash)) {
        return new Broken({ seq: headRow === undefined ? lastSeq : lastSeq + 1, problem: "head-mismatch", ...last, verified: lastSeq })
      }
      // The cut is recorded by a keyed event after the base, which the key's holder alone can write.
      if (base.seq > 0) {
        const recorded = yield* sql.query`SELECT 1 AS one FROM audit_event WHERE subject = ${pruneSubject}
          AND stage = 'purged' AND seq > ${base.seq} AND detail->>'through' = ${String(base.seq)} LIMIT 1`
        if (recorded.length === 0) return new Broken({ seq: base.seq, problem: "unrecorded-prune", verified: lastSeq })
      }
      // The next incremental check starts from the newest stored anchor this one checked.
      yield* sql.query`INSERT INTO audit_verified (anchor)
        SELECT max(seq) FROM audit_anchor WHERE seq <= ${newest} HAVING max(seq) > ${start}`
      return new Intact({
        count: result.checked,
        seq: lastSeq,
        hash: result.prevHash ?? genesisHash,
        ...(start > 0 ? { from: start } : {}),
        ...(anchors.length > 0 ? { anchors: anchors.length, anchored: newest } : {}),
        ...(base.seq > 0 ? { base: base.seq } : {})
      })
    })

  const anchor = Effect.gen(function*() {
    const [row] = yield* sql.query<{ seq: string; hash: string; newest: string | null; at: Date }>`
      SELECT h.seq, h.hash, (SELECT max(seq) FROM audit_anchor) AS newest,
        date_trunc('milliseconds', clock_timestamp()) AS at FROM audit_head h`
    if (row === undefined || Number(row.seq) === 0 || Number(row.seq) <= Number(row.newest ?? 0)) return Option.none()
    const signed = anchorSigner.sign({ seq: Number(row.seq), hash: row.hash, at: row.at.toISOString() })
    // Two processes may sign the same head: the first stored stands.
    const inserted = yield* sql.query`
      INSERT INTO audit_anchor (seq, hash, signed_at, public_key, signature)
      VALUES (${signed.seq}, ${signed.hash}, ${signed.at}, ${signed.publicKey}, ${signed.signature})
      ON CONFLICT (seq) DO NOTHING RETURNING seq`
    return inserted.length === 0 ? Option.none() : Option.some(signed)
  })

  const prunable = (before: Date) =>
    Effect.map(
      sql.query<{ through: string | null; count: string | null; permitted: boolean }>`
        SELECT cut.seq AS through, (SELECT count(*) FROM audit_event WHERE seq <= cut.seq)::text AS count,
          has_table_privilege('audit_event', 'DELETE') AND has_table_privilege('audit_base', 'INSERT') AS permitted
        FROM (SELECT max(a.seq) AS seq FROM audit_anchor a JOIN audit_event e ON e.seq = a.seq
          WHERE e.at < ${before} AND a.seq > coalesce((SELECT seq FROM audit_base), 0)) AS cut`,
      ([row]): Prunable => ({ through: Number(row?.through ?? 0), count: Number(row?.count ?? 0), permitted: row?.permitted === true })
    )

  const prune = (through: number, detail: Detail) =>
    sql.transaction(Effect.gen(function*() {
      // Under the head's lock, as appends are; the cut anchor must still name its event.
      yield* sql.query`SELECT seq FROM audit_head FOR UPDATE`
      const [cut] = yield* sql.query<{ hash: string; count: string }>`
        SELECT a.hash, (SELECT count(*) FROM audit_event WHERE seq <= a.seq)::text AS count
        FROM audit_anchor a JOIN audit_event e ON e.seq = a.seq AND e.hash = a.hash
        WHERE a.seq = ${through} AND a.seq > coalesce((SELECT seq FROM audit_base), 0)`
      if (cut === undefined) return yield* Effect.dieMessage(`audit prune: seq ${through} is not a signed anchor past the chain's base`)
      const count = Number(cut.count)
      yield* appendAll([{ stage: "purged", subject: pruneSubject, detail: { ...detail, through, count } }])
      yield* sql.query`INSERT INTO audit_base (seq, hash) VALUES (${through}, ${cut.hash})
        ON CONFLICT (one) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash`
      yield* sql.query`DELETE FROM audit_event WHERE seq <= ${through}`
      return count
    }))

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

  return {
    append,
    appendAll,
    verify: verifyWith({ full: true }),
    verifyWith,
    anchor,
    anchors: storedAnchors(0),
    anchorsAfter: (seq) => storedAnchors(seq + 1),
    publicKey: anchorSigner.publicKey,
    prunable,
    prune,
    events
  }
})

/** The audit log on the store's `Sql`, keyed by the `Vault`'s master key. */
export const layer: Layer.Layer<AuditLog, never, Sql.Sql | Vault.Vault> = Layer.effect(AuditLog, make)

/** Where the gateway keeps a copy of the signed anchors outside the database (`AnchorCopy`). */
export interface AnchoringOptions {
  readonly anchorsFile?: string | undefined
}

/**
 * Signs the head if it moved, then brings the anchors file up to date; a failure is a warning in
 * the log (the next interval tries again), not silence: an unsigned head can be cut off unseen.
 */
const anchorAndCopy = (log: AuditLog, options: AnchoringOptions) =>
  Effect.zipRight(log.anchor, options.anchorsFile === undefined ? Effect.void : AnchorCopy.sync(options.anchorsFile, log)).pipe(
    Effect.catchAllCause((cause) => Effect.logWarning("the audit head was not signed, or its anchor not copied", cause))
  )

/**
 * The audit log that signs an anchor when it is released, if the head has moved past the newest
 * anchor, and copies it to `anchorsFile`: a one-shot command that appended, or `serve` stopping,
 * leaves its head anchored.
 */
export const layerAnchoring = (options: AnchoringOptions = {}): Layer.Layer<AuditLog, never, Sql.Sql | Vault.Vault> =>
  Layer.scoped(
    AuditLog,
    Effect.tap(make, (log) => Effect.addFinalizer(() => anchorAndCopy(log, options)))
  )

/**
 * Signs an anchor every `interval` while the head moves, and copies it to `anchorsFile` (for
 * `serve`); never fails, warns of what it could not do.
 */
export const anchorEvery = (interval: Duration.DurationInput, options: AnchoringOptions = {}): Effect.Effect<never, never, AuditLog> =>
  Effect.flatMap(AuditLog, (log) =>
    anchorAndCopy(log, options).pipe(Effect.repeat(Schedule.spaced(interval)), Effect.zipRight(Effect.never)))

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
