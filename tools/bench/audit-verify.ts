/**
 * Benchmark of `audit verify` (issue 12 item 6):
 *
 *   npx tsx tools/bench/audit-verify.ts [--events 1000000] [--store both|embedded|server]
 *     [--database-url postgres://postgres@127.0.0.1:5432/test]
 *
 * What runs. A fresh store (a new database on the server, or a new embedded data dir) gets
 * `--events` audit events appended through the real `AuditLog.appendAll` in batches of 10 000
 * (the keyed chain, HMAC-SHA256 under a key derived from a random master key), of the kinds the
 * pipeline writes (decided, queued, attempted, delivered, with rule, clause, channel and
 * recipient details), the head is signed into an anchor, and the table is vacuumed (a chain at
 * rest, as verify meets it in service). The canonical bytes of every event
 * (the bytes its HMAC covers, `AuditLog.canonicalBytes`, one per line) are then read back and
 * written to a file. Then a child process — so its peak RSS is the verification's alone — runs
 * `AuditLog.verifyWith({ full: true })` over the whole chain, as `encompass audit verify --full`
 * does, and `sha256sum` reads the file of the same bytes: the floor for hashing them on this
 * machine, with no database, no decoding and no key.
 *
 * What is printed (all measured in this run): append rate, verify events/s and wall time, the
 * verifying process's peak RSS beside the size of the bytes it verified (bounded memory: the
 * peak does not grow with the chain), sha256sum's events/s on the same bytes, the load average,
 * and one `goal` line per store.
 */
import { AuditLog } from "@encompass/audit"
import { Sql, Vault } from "@encompass/store"
import { Chunk, Effect, Layer, Redacted, Stream } from "effect"
import { execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import postgres from "postgres"

const usage = "usage: npx tsx tools/bench/audit-verify.ts [--events 1000000] [--store both|embedded|server] [--database-url postgres://…]"
const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}
const events = Math.round(Number(flag("events") ?? 1_000_000))
if (!Number.isFinite(events) || events <= 0) {
  console.error(`--events must be a positive number\n${usage}`)
  process.exit(2)
}
const serverUrl = flag("database-url") ?? process.env["BENCH_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test"
const storeFlag = flag("store") ?? "both"
if (!["both", "embedded", "server"].includes(storeFlag)) {
  console.error(usage)
  process.exit(2)
}
const stores: ReadonlyArray<"embedded" | "server"> = storeFlag === "both" ? ["server", "embedded"] : [storeFlag as "embedded" | "server"]
const target = 200_000

const int = (n: number) => Math.round(n).toLocaleString("en-GB")
const mb = (bytes: number) => `${int(bytes / (1024 * 1024))} MB`
const line = (label: string, text: string) => console.log(`${label.padEnd(18)}${text}`)
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(" ")

type Store = { readonly url: string } | { readonly dataDir: string }

const storeLayer = (store: Store) =>
  "url" in store ? Sql.layer({ url: Redacted.make(store.url), max: 2 }) : Sql.layer({ dataDir: store.dataDir })

const auditLayer = (store: Store, masterKey: string) =>
  AuditLog.layer.pipe(
    Layer.provideMerge(Layer.orDie(Layer.unwrapEffect(Effect.map(Vault.parseMasterKey(Redacted.make(masterKey)), Vault.layer)))),
    Layer.provideMerge(Layer.orDie(storeLayer(store)))
  )

// ---------------------------------------------------------------------------------------------
// The verifying child: `--verify-child <store json>`, master key on stdin; prints one JSON line.

if (flag("verify-child") !== undefined) {
  const store = JSON.parse(flag("verify-child") ?? "") as Store
  const masterKey = fs.readFileSync(0, "utf8").trim()
  const result = await Effect.runPromise(
    Effect.gen(function*() {
      const log = yield* AuditLog.AuditLog
      const started = performance.now()
      const report = yield* log.verifyWith({ full: true })
      return { ms: performance.now() - started, report: report._tag === "Intact" ? { tag: "Intact", count: report.count } : { tag: "Broken", message: report.message } }
    }).pipe(Effect.provide(auditLayer(store, masterKey)))
  )
  console.log(JSON.stringify({ ...result, maxRss: process.resourceUsage().maxRSS * 1024 }))
  process.exit(0)
}

// ---------------------------------------------------------------------------------------------
// Events of the kinds the pipeline writes: ids, rule and clause names, outcomes — no personal data.

const stages = ["decided", "queued", "attempted", "delivered"] as const
const input = (i: number): AuditLog.AppendInput => {
  const occurrence = `niche-rms/OC-${String(1_000_000 + Math.floor(i / 4))}`
  const setting = `setting:${100001 + (i % 6)}`
  switch (stages[i % 4]) {
    case "decided":
      return { stage: "decided", subject: `occurrence:${occurrence}`, detail: { child: `P-${i}`, recipient: setting, outcome: "share", rule: "child-present-or-witness", clause: "TVP ISA 3", deadline: "2025-06-03T07:30:00.000Z" } }
    case "queued":
      return { stage: "queued", subject: `notification:EG-${i.toString(16).padStart(8, "0")}`, detail: { channel: "secure-email", recipient: setting, version: 1 } }
    case "attempted":
      return { stage: "attempted", subject: `notification:EG-${i.toString(16).padStart(8, "0")}`, detail: { channel: "secure-email", attempt: 1 } }
    default:
      return { stage: "delivered", subject: `notification:EG-${i.toString(16).padStart(8, "0")}`, detail: { channel: "secure-email", receipt: `<${i}@bench.encompass.example>` } }
  }
}

const append = (store: Store, masterKey: string, bytesFile: string) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const log = yield* AuditLog.AuditLog
      const sql = yield* Sql.Sql
      const batch = 10_000
      const started = performance.now()
      for (let from = 0; from < events; from += batch) {
        yield* log.appendAll(Array.from({ length: Math.min(batch, events - from) }, (_, k) => input(from + k)))
        if ((from / batch) % 20 === 19) process.stdout.write(`  appended ${int(from + batch)}\r`)
      }
      const ms = performance.now() - started
      if (events >= 200_000) process.stdout.write("\n")
      yield* log.anchor
      // A chain at rest, as `audit verify` meets one in service: autovacuum has long since set the
      // rows' hint bits, which the first read after a bulk insert would otherwise write.
      yield* sql.query`VACUUM ANALYZE audit_event`
      // The bytes each event's hash covers, read back as verify reads them, one event a line.
      const out = fs.openSync(bytesFile, "w")
      let bytes = 0
      yield* sql.stream<{ seq: string; at: string; stage: string; subject: string; detail: string; prev_hash: string }>(
        (s) =>
          s`SELECT seq::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, stage, subject,
              detail::text AS detail, prev_hash FROM audit_event ORDER BY audit_event.seq`,
        { batchSize: 5000 }
      ).pipe(
        Stream.map((r) => `${AuditLog.canonicalBytes({ ...r, seq: Number(r.seq), prevHash: r.prev_hash })}\n`),
        Stream.grouped(5000),
        Stream.runForEach((lines) =>
          Effect.sync(() => {
            const text = Chunk.join(lines, "")
            bytes += Buffer.byteLength(text)
            fs.writeSync(out, text)
          })
        )
      )
      fs.closeSync(out)
      return { ms, bytes }
    }).pipe(Effect.provide(auditLayer(store, masterKey)))
  )

const verifyInChild = (store: Store, masterKey: string) =>
  new Promise<{ ms: number; maxRss: number; report: { tag: string; count?: number; message?: string } }>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, "--verify-child", JSON.stringify(store)], { stdio: ["pipe", "pipe", "inherit"] })
    let stdout = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.on("error", reject)
    child.on("exit", (code) => {
      const last = stdout.trim().split("\n").at(-1) ?? ""
      if (code === 0 && last.startsWith("{")) resolve(JSON.parse(last))
      else reject(new Error(`the verifying child exited ${code}: ${stdout}`))
    })
    child.stdin.end(masterKey)
  })

const sha256sum = (file: string) => {
  const started = performance.now()
  const digest = execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0] ?? ""
  return { ms: performance.now() - started, digest }
}

const run = async (kind: "embedded" | "server") => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-bench-audit-"))
  const masterKey = randomBytes(32).toString("base64")
  const admin = kind === "server" ? postgres(serverUrl, { max: 1, onnotice: () => undefined }) : undefined
  const name = `encompass_bench_audit_${Date.now().toString(36)}`
  let store: Store = { dataDir: path.join(work, "pgdata") }
  if (admin !== undefined) {
    await admin.unsafe(`CREATE DATABASE ${name}`)
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    store = { url: url.toString() }
  }
  try {
    console.log(`\n== ${kind === "server" ? "server Postgres" : "embedded PGlite"}: ${int(events)} audit events (load ${load()})`)
    const bytesFile = path.join(work, "canonical.txt")
    const appended = await append(store, masterKey, bytesFile)
    line("append", `${int(events / (appended.ms / 1000))} events/s through AuditLog.appendAll (batches of 10 000), ${(appended.ms / 1000).toFixed(1)} s; ${mb(appended.bytes)} of canonical bytes`)
    const verified = await verifyInChild(store, masterKey)
    if (verified.report.tag !== "Intact" || verified.report.count !== events) {
      throw new Error(`verify did not pass over every event: ${JSON.stringify(verified.report)}`)
    }
    const rate = events / (verified.ms / 1000)
    line("verify --full", `${int(rate)} events/s, ${(verified.ms / 1000).toFixed(2)} s; peak RSS of the verifying process ${mb(verified.maxRss)} (the bytes verified: ${mb(appended.bytes)})`)
    const sum = sha256sum(bytesFile)
    const floor = events / (sum.ms / 1000)
    line("sha256sum", `${int(floor)} events/s, ${(sum.ms / 1000).toFixed(2)} s over the same ${mb(appended.bytes)} (${sum.digest.slice(0, 16)}…)`)
    line("load average", load())
    console.log(
      `goal audit-verify-${kind}: measured ${int(rate)} events/s (anchor ${int(floor)} events/s sha256sum of the same bytes, ratio ${(rate / floor).toFixed(3)}) target ≥ ${int(target)} events/s in bounded memory — ${
        rate >= target ? "met" : "short"
      }`
    )
  } finally {
    if (admin !== undefined) {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    }
    fs.rmSync(work, { recursive: true, force: true })
  }
}

for (const kind of stores) await run(kind)
